# The types of engineio_fast/adapters/builtin/context.py's ServerContext
# for its compiled twin, engineio_fast.adapters.builtin._context_c
# (setup.py's TWINS): the source is that .py, this file only augments it.
# Every attribute the class has is declared here (public: the server, the
# cluster router and the tests read and set them). The connections' twins
# cimport this class for their ``ctx``: what they read per request (the
# engine, the driver, the limits, the flags) is then a struct field.

cdef class ServerContext:
    cdef public object driver, engine, loop, scheme, proxy, asgi_app
    cdef public object eio_prefix, per_message_deflate, router, access_log
    cdef public object root_path, root_path_bytes, limit_concurrency
    cdef public object ws_max_size, metrics_path, metrics
    cdef public dict limits
    cdef public set http_conns, ws_conns, tasks
    cdef public bint shutting_down
