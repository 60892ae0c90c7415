# Queueing as the engine's twin sees it when engine.py imports it from
# .queues: at run time that name is the compiled Queueing of
# _queues_c.pxd, so this declares exactly what that file declares (a test
# compares the two). Only for cimports: nothing builds queues.py as
# engineio_fast.protocol.queues.

from engineio_fast.protocol.session cimport Session

cdef class Queueing:
    cdef public object _max_queue, _queue_watch, high_water, logger, stats
    cdef public bint _drop
    cdef public double now

    cpdef _enqueue(self, Session s, item)
    cpdef send(self, Session session, item)
