# The types of engineio_fast/adapters/builtin/ws_protocol.py's class for
# its compiled twin, engineio_fast.adapters.builtin._ws_protocol_c
# (setup.py's TWINS): the source is that .py, this file only augments it.
# Every attribute the class sets is declared here (public: the server and
# the tests read them); MessageAssembly is the compiled twin's of
# protocol/websocket.py, whose attributes it declares.

# the source's ``_wsp`` (``from ...protocol import websocket as _wsp``) is
# also this cimported module: ``_wsp.MessageAssembly`` is then the type
from engineio_fast.protocol cimport _websocket_c as _wsp

cdef class WsProtocol(_wsp.MessageAssembly):
    cdef public object ctx, engine, driver, loop, transport, link, buf
    cdef public object blocked, backlog
    cdef public object backlog_error, abort_handle
    cdef public bint scheduled, paused, closed, receiving, dirty

    cpdef _process(self, data=*)
    cpdef _flush(self, head=*)
    cpdef _write_queued(self, head=*)
    cpdef _lost(self)
