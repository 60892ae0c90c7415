# WsLink and Session as the twins of queues.py and engine.py see them when
# they import them from .session: at run time those names are the compiled
# classes of _session_c.pxd, so this declares exactly what that file
# declares (a test compares the two). Only for cimports: nothing builds
# session.py as engineio_fast.protocol.session.

cdef class Session

cdef class WsLink:
    cdef public Session session
    cdef public object waker, close_code
    cdef public list out
    cdef public bint closing, is_probe

cdef class Session:
    cdef object __weakref__
    cdef public object sid, poll_waker, user_session, reason, final
    cdef public str transport
    cdef public list queue, drain_waiters
    cdef public WsLink ws, probe
    cdef public Py_ssize_t queue_bytes, dropped
    cdef public int state
    cdef public bint poll_pending, probed, awaiting_pong
    cdef public double upgrade_deadline, deadline, late_until, probed_at
    cdef public double join_by
