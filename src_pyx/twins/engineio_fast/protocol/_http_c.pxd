# The types of engineio_fast/protocol/http.py's classes for its compiled
# twin, engineio_fast.protocol._http_c (setup.py's TWINS): the source is
# that .py, this file only augments it. Every attribute the classes set is
# declared here, public (every adapter and the tests read and set them).

cdef class Request:
    cdef public object method, query, headers, scheme, body, _environ
    cdef public object is_websocket, too_large

cdef class Response:
    cdef public object status, headers, body

cdef class HttpPolicy:
    cdef public object cors_allowed_origins, cors_credentials
    cdef public object cors_disabled, http_compression
    cdef public object compression_threshold, cookie
