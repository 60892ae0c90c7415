# The types of engineio_fast/adapters/builtin/http_protocol.py's classes
# for its compiled twin, engineio_fast.adapters.builtin._http_protocol_c
# (setup.py's TWINS): the source is that .py, this file only augments it.
# Every attribute the classes set is declared here (public: the other
# modules and the tests read and set them); a number only where the source
# never stores None or a non-number in it.

cdef class ParsedRequest:
    cdef public object method, url, path, query_string, headers, body
    cdef public object http_version, length, expect
    cdef public bint too_big, keep_alive, on_eio
    cdef public Py_ssize_t header_bytes

cdef class HttpProtocol:
    cdef public object ctx, transport, parser, cur, pending
    cdef public object drain_waiter, deadline, peer, sockname, poll
    cdef public object bridge_gone, body_limit
    cdef public object last_query, last_url, header_dicts
    cdef public Py_ssize_t header_bytes, body_size
    cdef public bint upgrade, busy, closed, write_paused, poll_scheduled
    cdef public bint in_headers, trusted
    cdef public double request_by, now
