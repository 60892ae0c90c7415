"""WebSocket (RFC 6455) for the built-in server.

Frames are parsed and built by the compiled kernels a whole buffer at a
time (``parse_frames``/``build_frames``); everything the application sends
in one loop iteration leaves in one ``write``. Protocol checks: masking,
reserved opcodes and bits, fragmented or oversized control frames,
fragmentation order, message size, UTF-8 of text, close codes. Optional
permessage-deflate (no context takeover, so no zlib state per connection).
"""

import asyncio

from ... import _accel
from ...protocol.websocket import (  # noqa: F401 (re-exported)
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Deflate,
    MessageAssembly,
    deflate_offered,
    valid_close_code,
)

_K = _accel.active
_parse_frames = _K.parse_frames
_build_frames = _K.build_frames
_build_frame = _K.build_frame


class WsProtocol(MessageAssembly, asyncio.Protocol):
    """One websocket connection carrying one Engine.IO session (or an
    upgrade probe)."""

    __slots__ = ('ctx', 'transport', 'link', 'deflate', 'buf', 'frag_op',
                 'frag', 'frag_size', 'frag_compressed', 'scheduled',
                 'paused', 'closed', 'max_size', 'blocked', 'backlog',
                 'backlog_error', 'receiving', 'dirty', 'failed',
                 'abort_handle')

    def __init__(self, ctx, transport, link, deflate=None):
        self.ctx = ctx
        self.transport = transport
        self.link = link
        self.deflate = deflate
        self.buf = bytearray()
        self.frag_op = 0
        self.frag = None
        self.frag_size = 0
        self.frag_compressed = False
        self.scheduled = False
        self.paused = False
        self.closed = False
        self.blocked = None
        self.backlog = None
        self.backlog_error = 0
        self.receiving = False
        self.dirty = False
        self.failed = False
        self.abort_handle = None
        # A frame or message may be a little over maxPayload on the wire
        # (the engine decides about the packet); bounded all the same.
        self.max_size = ctx.engine.config.max_http_buffer_size + 16
        link.waker = self.wake

    def start(self, rest):
        self.ctx.ws_conns.add(self)
        self._flush()
        if rest:
            self.data_received(rest)

    # -- reading ---------------------------------------------------------
    def data_received(self, data):
        if self.closed:
            return
        self.buf += data
        if self.blocked is not None:
            return
        # what handlers send while this runs leaves in one write after it
        self.receiving = True
        try:
            self._process()
        finally:
            self.receiving = False
        if self.dirty:
            self.dirty = False
            self._flush()

    def _process(self):
        buf = self.buf
        while True:
            backlog = self.backlog
            if backlog is not None:
                # frames parsed before an in-order handler suspended
                frames, error = backlog, self.backlog_error
                self.backlog = None
            else:
                frames, consumed, error = _parse_frames(buf, self.max_size,
                                                        True)
                if consumed:
                    del buf[:consumed]
            for i, (op, fin, rsv, payload) in enumerate(frames):
                if op == OP_TEXT and fin and not rsv and not self.frag_op:
                    # the common case: one whole, uncompressed text frame
                    try:
                        text = payload.decode('utf-8')
                    except UnicodeDecodeError:
                        return self.fail(1007)
                    self._deliver(text)
                else:
                    self._frame(op, fin, rsv, payload)
                if self.closed:
                    return
                if self.blocked is not None:
                    self.backlog = frames[i + 1:]
                    self.backlog_error = error
                    return
            if error:
                return self.fail(error)
            if backlog is None:
                return
            # the backlog is done: now what arrived while it waited

    def _deliver(self, data):
        """Hand one message (str or bytes) to the engine and its events to
        the handlers."""
        ctx = self.ctx
        events = ctx.engine.ws_receive(self.link, data, ctx.loop.time())
        if events:
            pending = ctx.driver.fire(events)
            if pending is not None:
                # a handler that must end first (async_handlers=False):
                # the next message waits for it
                self.blocked = pending
                self.transport.pause_reading()
                pending.add_done_callback(self._unblock)
        if self.link.closing:
            self._flush()

    def _pong(self, payload):
        self.transport.write(_build_frame(OP_PONG, payload))

    def _unblock(self, _task):
        self.blocked = None
        if self.closed:
            return
        if not self.paused:
            self.transport.resume_reading()
        self._process()

    # -- writing -----------------------------------------------------------
    def wake(self):
        if self.receiving:
            self.dirty = True
        elif not self.scheduled and not self.closed:
            self.scheduled = True
            self.ctx.loop.call_soon(self._flush)

    def _flush(self):
        self.scheduled = False
        if self.closed:
            return
        if self.paused:
            if self.link.closing:
                self._abort_later()
            return
        link = self.link
        items = self.ctx.engine.ws_take(link)
        if items:
            if self.deflate is None:
                self.transport.write(_build_frames(items))
            else:
                self.transport.write(self.deflate.frames(items))
        if link.closing:
            self._send_close(link.close_code)

    def pause_writing(self):
        # flow control: stop taking from the engine's (bounded) queue and
        # stop reading new work from this client until the buffer drains
        self.paused = True
        if not self.closed:
            self.transport.pause_reading()

    def resume_writing(self):
        self.paused = False
        if not self.closed:
            if self.blocked is None:
                self.transport.resume_reading()
            self._flush()

    def fail(self, code):
        """Close the connection for a protocol violation."""
        self.failed = True
        self._send_close(code)

    def _send_close(self, code):
        if self.closed:
            return
        self.closed = True
        payload = b'' if code is None else code.to_bytes(2, 'big')
        self.transport.write(_build_frame(OP_CLOSE, payload))
        self.transport.close()
        if self.paused:
            self._abort_later()
        self._lost()

    def _abort_later(self):
        # the connection is ending but the client does not read what is
        # buffered for it: give that a bounded time to get through, then
        # drop the connection
        if self.abort_handle is None:
            self.abort_handle = self.ctx.loop.call_later(
                self.ctx.limits['ws_close_timeout'], self._abort)

    def _abort(self):
        self.abort_handle = None
        self.closed = True
        self.transport.abort()
        self._lost()

    def connection_lost(self, exc):
        if not self.closed:
            self.closed = True
        if self.abort_handle is not None:
            self.abort_handle.cancel()
            self.abort_handle = None
        self._lost()

    def _lost(self):
        ctx = self.ctx
        if self in ctx.ws_conns:
            ctx.ws_conns.discard(self)
            events = ctx.engine.ws_closed(self.link, ctx.loop.time(),
                                          self.failed)
            if events:
                ctx.driver.fire(events)

    def going_away(self):
        """Server shutdown: close with 1001 after what is queued."""
        if not self.closed:
            self._flush()
            self._send_close(1001)
