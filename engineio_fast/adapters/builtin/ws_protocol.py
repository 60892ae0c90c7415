"""WebSocket (RFC 6455) for the built-in server: the I/O of one
connection.

What arrives is parsed by the ``parse_frames`` kernel a whole buffer at a
time and turned into messages by
:class:`~engineio_fast.protocol.websocket.MessageAssembly` (every protocol
rule is there, shared with the WSGI servers); everything the application
sends in one loop iteration leaves in one ``write``, after the turn, except
that a read of exactly one message is answered before ``data_received``
returns (one client with one message in flight: no loop turn between its
message and the answer; tests/unit/test_builtin_ws_writes.py). This
class reads, writes, pauses for flow control, and keeps the frames parsed
after a handler that must end first (``async_handlers=False``) in order
until it has.

With the compiled kernels this module is its compiled twin: this source
built by Cython with the attribute types of
``src_pyx/twins/engineio_fast/adapters/builtin/_ws_protocol_c.pxd``
(setup.py), whose names replace these at the end of the module, and
``MessageAssembly`` is then protocol/websocket.py's twin's. So the
class has no Python base class (an extension type cannot have one): it
has every method of ``asyncio.Protocol`` the transport calls itself, and
every attribute it sets is declared in that .pxd.
"""

from ... import _accel
from ...protocol import websocket as _wsp

# (the module, not MessageAssembly itself: the compiled twin has the
# class from its .pxd, as an extension type's base must be)
close_frame = _wsp.close_frame
pong_frame = _wsp.pong_frame

_K = _accel.active
_parse_frames = _K.parse_frames
_build_frames = _K.build_frames


class WsProtocol(_wsp.MessageAssembly):
    """One websocket connection carrying one Engine.IO session (or an
    upgrade probe): an asyncio protocol (see the module's note on the base
    class)."""

    __slots__ = ('ctx', 'engine', 'driver', 'loop', 'transport', 'link',
                 'buf', 'scheduled', 'paused', 'closed', 'blocked',
                 'backlog', 'backlog_error', 'receiving', 'dirty',
                 'abort_handle')

    def __init__(self, ctx, transport, link, deflate=None):
        # the smaller of --ws-max-size and max_http_buffer_size
        _wsp.MessageAssembly.__init__(self, deflate, ctx.ws_max_size)
        self.ctx = ctx
        # the context's engine, driver and loop, one look-up nearer
        self.engine = ctx.engine
        self.driver = ctx.driver
        self.loop = ctx.loop
        self.transport = transport
        self.link = link
        self.buf = bytearray()
        self.scheduled = False
        self.paused = False
        self.closed = False
        self.blocked = None
        self.backlog = None
        self.backlog_error = 0
        self.receiving = False
        self.dirty = False
        self.abort_handle = None
        link.waker = self.wake

    def start(self, rest, head=b''):
        """Take over the connection: ``head`` (the 101 response) leaves
        in the same ``write`` as what the engine queued (the open packet),
        then what the client sent after its upgrade request is read."""
        self.ctx.ws_conns.add(self)
        self._flush(head)
        if rest:
            self.data_received(rest)

    # -- reading ---------------------------------------------------------
    def data_received(self, data):
        if self.closed:
            return
        if self.buf or self.blocked is not None or self.backlog is not None:
            self.buf += data
            if self.blocked is not None:
                return
            data = None
        # else nothing is pending: the frames are parsed from ``data`` as it
        # came (no copy into ``buf``), only an incomplete tail is kept
        # what handlers send while this runs leaves in one write after it
        self.receiving = True
        try:
            single = self._process(data)
        finally:
            self.receiving = False
        if self.dirty:
            self.dirty = False
            if single:
                # a read of one message (one client, one in flight): its
                # answer leaves now, not a loop turn later
                self._flush()
            elif not self.scheduled:
                self.scheduled = True
                self.loop.call_soon(self._flush)

    def _process(self, data=None):
        # True when ``data`` was exactly one frame and nothing else waited
        single = False
        buf = self.buf
        while True:
            backlog = self.backlog
            if backlog is not None:
                # frames parsed before an in-order handler suspended
                frames, error = backlog, self.backlog_error
                self.backlog = None
            elif data is not None:
                # a read with nothing before it in ``buf``
                frames, consumed, error = _parse_frames(data, self.max_size,
                                                        True)
                if consumed < len(data):
                    buf += data[consumed:]
                else:
                    single = len(frames) == 1
                data = None
            else:
                frames, consumed, error = _parse_frames(buf, self.max_size,
                                                        True)
                if consumed:
                    del buf[:consumed]
            taken = self.receive(frames, error)
            if taken is not None:
                if self.blocked is not None and not self.closed:
                    self.backlog = frames[taken:]
                    self.backlog_error = error
                return False
            if backlog is None or self.closed:
                return single
            # the backlog is done: now what arrived while it waited

    def _deliver(self, data):
        """Hand one message (str or bytes) to the engine and its events to
        the handlers; True when the next one must wait (closing, or a
        handler that must end first)."""
        events = self.engine.ws_receive(self.link, data, self.loop.time())
        if events:
            pending = self.driver.fire(events)
            if pending is not None:
                # a handler that must end first (async_handlers=False):
                # the next message waits for it
                self.blocked = pending
                self.transport.pause_reading()
                pending.add_done_callback(self._unblock)
        if self.link.closing:
            self._flush()
        return self.closed or self.blocked is not None

    def _pong(self, payload):
        self.transport.write(pong_frame(payload))

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
            self.loop.call_soon(self._flush)

    def _flush(self, head=b''):
        self.scheduled = False
        if self.closed:
            return
        if self.paused:
            if self.link.closing:
                self._abort_later()
            return
        self._write_queued(head)
        link = self.link
        if link.closing:
            self._send_close(link.close_code)

    def _write_queued(self, head=b''):
        # ``head``: bytes to go first in the same write (start's 101)
        items = self.engine.ws_take(self.link)
        if items:
            frames = (_build_frames(items) if self.deflate is None
                      else self.deflate.frames(items))
            self.transport.write(head + frames if head else frames)
        elif head:
            self.transport.write(head)

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

    def _send_close(self, code):
        if self.closed:
            return
        self.closed = True
        if not self.paused:
            # the answers to the messages taken before this close leave
            # first, as the JavaScript server's do
            self._write_queued()
        transport = self.transport
        transport.write(close_frame(code))
        if self.failed and not self.paused and transport.can_write_eof():
            # a protocol violation: FIN, then drain until the client's
            # (MessageAssembly's contract; data_received drops what comes,
            # _abort_later bounds it). A TLS transport cannot half-close:
            # it closes.
            transport.write_eof()
            transport.resume_reading()
            self._abort_later()
        else:
            transport.close()
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

    def eof_received(self):
        # the client half-closed: the transport closes (as the default
        # asyncio.Protocol.eof_received does)
        return None

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


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
