# The types of engineio_fast/adapters/builtin/http_protocol.py's classes
# for its compiled twin, engineio_fast.adapters.builtin._http_protocol_c
# (setup.py's TWINS): the source is that .py, this file only augments it.
# Every attribute the classes set is declared here (public: the other
# modules and the tests read and set them); a number only where the source
# never stores None or a non-number in it. ``ctx`` is the compiled
# ServerContext (context.py's twin): its fields are read as a struct's.
# The methods a request goes through are cpdef: the class calls them
# directly, not through a method look-up (callable from Python as before,
# and a subclass's override is still found); the request they handle is a
# ParsedRequest (typed: its fields are read as a struct's).

cimport cython

from engineio_fast.adapters.builtin._context_c cimport ServerContext

cdef class ParsedRequest:
    cdef public object method, url, path, query_string, headers, body
    cdef public object http_version, length, expect
    cdef public bint too_big, keep_alive, on_eio, proxied
    cdef public Py_ssize_t header_bytes

cdef class HttpProtocol:
    cdef public ServerContext ctx
    cdef public object transport, parser, cur, pending
    cdef public object drain_waiter, deadline, peer, sockname, poll
    cdef public object bridge_gone, body_limit
    cdef public object last_query, last_url, header_dicts
    cdef public Py_ssize_t header_bytes, body_size
    cdef public bint upgrade, busy, closed, write_paused, poll_scheduled
    cdef public bint in_headers, trusted
    cdef public double request_by, now

    # the parser's callbacks (httptools calls them by name)
    @cython.locals(cur=ParsedRequest)
    cpdef on_url(self, url)
    @cython.locals(cur=ParsedRequest, headers=list, n=Py_ssize_t)
    cpdef on_header(self, name, value)
    @cython.locals(cur=ParsedRequest)
    cpdef on_headers_complete(self)
    @cython.locals(cur=ParsedRequest)
    cpdef on_body(self, body)
    @cython.locals(cur=ParsedRequest)
    cpdef on_message_complete(self)
    # dispatch and answer
    @cython.locals(r=ParsedRequest)
    cpdef _next(self)
    cpdef _engineio(self, ParsedRequest r)
    cpdef _connected(self, ParsedRequest r, req, out, verdict)
    @cython.locals(r=ParsedRequest)
    cpdef _poll_flush(self)
    cpdef _finish(self, ParsedRequest r, data)
    cpdef respond(self, ParsedRequest r, resp)
    cpdef _request(self, ParsedRequest r, is_websocket=*, headers=*)
    cpdef _forwarded(self, ParsedRequest r, client, scheme)
