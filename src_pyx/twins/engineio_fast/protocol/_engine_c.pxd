# The types of engineio_fast/protocol/engine.py's Engine for its compiled
# twin, engineio_fast.protocol._engine_c (setup.py's TWINS): the source is
# that .py, this file only augments it. Its base is the compiled Queueing
# (queues.pxd, the mirror of _queues_c.pxd), its sessions and links the
# compiled ones of session.pxd. The instance dict is where
# protocol.instrument shadows the engine's methods (and where an attribute
# no one declared goes); the weak reference is cluster/node.py's WeakSet.

from engineio_fast.protocol.queues cimport Queueing
from engineio_fast.protocol.session cimport Session, WsLink

cdef class Engine(Queueing):
    cdef dict __dict__
    cdef object __weakref__
    cdef public object config, policy, loads, dumps, sessions, sid_prefix
    cdef public object closing, timers, timer_hook, _k, _decode_value
    cdef public object _encode_payload, _jsonp_wrap, _max_size, _size_watch
    cdef public object _limiter, _open
    # __dict__: _reply
    # (in the instance dict: protocol.instrument shadows it there, as the
    # methods, and tells its own from a hook's by that dict)
    cdef public double _ping_interval, _ping_timeout, join_timeout

    cpdef ws_take(self, WsLink link)
