# The types of engineio_fast/protocol/queues.py's Queueing for its compiled
# twin, engineio_fast.protocol._queues_c (setup.py's TWINS): the source is
# that .py, this file only augments it. Queueing is the base of the
# engine's twin (_engine_c.pxd), which sets these. Its sends take the
# compiled Session (session.pxd) and read it as a C struct.

from engineio_fast.protocol.session cimport Session

cdef class Queueing:
    cdef public object _max_queue, _queue_watch, high_water, logger, stats
    cdef public bint _drop
    cdef public double now

    cpdef _enqueue(self, Session s, item)
    cpdef send(self, Session session, item)
