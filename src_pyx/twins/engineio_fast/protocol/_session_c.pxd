# The types of engineio_fast/protocol/session.py's WsLink and Session for
# its compiled twin, engineio_fast.protocol._session_c (setup.py's TWINS):
# the source is that .py, this file only augments it. The twins of
# queues.py and engine.py cimport both (through session.pxd, this file's
# mirror under the name they import) and read them as C structs.

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
