# The types of engineio_fast/protocol/websocket.py's classes for its
# compiled twin, engineio_fast.protocol._websocket_c (setup.py's TWINS):
# the source is that .py, this file only augments it. Every attribute the
# classes set is declared here (public: the adapters and the tests read
# them). The built-in server's WsProtocol twin cimports MessageAssembly
# (an extension type's base must be one too); the WSGI servers' WsConn and
# the tests subclass it in Python.

cdef class Deflate:
    cdef public object threshold, level

cdef class Handshake:
    cdef public object refusal, response, deflate

cdef class MessageAssembly:
    cdef public object deflate, frag, max_size
    cdef public Py_ssize_t frag_op, frag_size
    cdef public bint frag_compressed, failed
