"""The built-in server's HTTP protocol in a worker among several.

:class:`RoutedHttpProtocol` looks at the request line of every request
before the parser does: when its ``sid`` names a sibling worker's session
(:meth:`engineio_fast.cluster.handoff.Router.slot_for`), the connection and
the bytes read from it go to that worker (:mod:`engineio_fast.cluster.
handoff`), once the connection has nothing left to answer or write here.
A request pipelined behind others in one read is checked when its turn
comes; when it is a sibling's, it and the requests parsed after it are
written back to bytes (:func:`wire_request`) and handed on the same way.
A single worker uses :class:`.http_protocol.HttpProtocol`, untouched.
"""

import logging
import time

from ...cluster import handoff
from .http_protocol import HttpProtocol

logger = logging.getLogger('engineio_fast.server')

RETRY_DELAY = 0.005      # seconds between tries while a channel is full
MAX_RETRIES = 2000       # then the request is served here


def wire_request(r):
    """A parsed request as bytes that parse back to it (the body whole,
    with its length)."""
    out = [b'%s %s HTTP/%s' % (r.method.encode('latin-1'), r.url,
                               r.http_version.encode('latin-1'))]
    for name, value in r.headers:
        if name.lower() not in _FRAMING:
            out.append(name + b': ' + value)
    body = b''.join(r.body)
    if body or r.method not in ('GET', 'HEAD'):
        out.append(b'Content-Length: %d' % len(body))
    return b'\r\n'.join(out) + b'\r\n\r\n' + body


_FRAMING = (b'content-length', b'transfer-encoding', b'expect')


class RoutedHttpProtocol(HttpProtocol):
    """One client connection of a worker; ``carried`` is what a sibling
    read from it before handing it here (parsed as if read here)."""

    def __init__(self, ctx, carried=b''):
        super().__init__(ctx)
        self.held = b''          # bytes read and not yet given to the parser
        self.carried = carried
        self.retries = 0
        self.retry_handle = None
        self.routing = True      # False once a hand-off failed: serve here
        self.feeding = False     # inside the parser's feed_data
        self.diverted = None     # the slot of a pipelined request held

    def connection_made(self, transport):
        super().connection_made(transport)
        carried = self.carried
        if carried and not transport.is_closing():   # (shutting down)
            self.carried = b''
            self.data_received(carried)

    def connection_lost(self, exc):
        self.held = b''
        if self.retry_handle is not None:
            self.retry_handle.cancel()
            self.retry_handle = None
        super().connection_lost(exc)

    def data_received(self, data):
        if self.closed:
            return
        if self.cur is not None or self.upgrade or not self.routing:
            # inside a request (its body, or bytes after the head)
            return self._feed(data)
        fresh = not self.held
        if not fresh:
            data = self.held + data
            self.held = b''
            if len(data) > handoff.MAX_CARRY:
                # a client that keeps sending while it waits: no hand-off
                self.routing = False
                return self._feed(data)
        slot = self.ctx.router.slot_for(data)
        if slot is None:
            return self._feed(data)
        self.held = data
        if slot == handoff.INCOMPLETE:
            # wait for the rest of the request line (bounded by its limit)
            if fresh and not self.busy and not self.pending:
                self.deadline = time.monotonic() + \
                    self.ctx.limits['header_timeout']
            return
        self.transport.pause_reading()
        if self.retry_handle is None:
            self._hand_off(slot)

    def _feed(self, data):
        self.feeding = True
        try:
            super().data_received(data)
        finally:
            self.feeding = False
        if self.diverted is not None:
            self._divert()

    def _engineio(self, r):
        query = r.query_string
        if query and self.routing and not r.too_big and not self.upgrade:
            slot = self.ctx.router.slot_for_query(query)
            if slot is not None:
                # a request pipelined behind others in one read: hold the
                # queue until the parser is between requests
                self.pending.appendleft(r)
                self.busy = True
                self.diverted = slot
                if not self.feeding:
                    self._divert()
                return
        super()._engineio(r)

    def _divert(self):
        if self.cur is not None or self.closed:
            return     # a request is half parsed: wait for its end
        slot, self.diverted = self.diverted, None
        self.busy = False
        # the held request and those after it go back to bytes, to be
        # handed on whole
        self.held = b''.join([wire_request(p) for p in self.pending]) + \
            self.held
        self.pending.clear()
        self.transport.pause_reading()
        if self.retry_handle is None:
            self._hand_off(slot)

    def _idle(self):
        return not self.busy and not self.pending and self.poll is None \
            and not self.transport.get_write_buffer_size()

    def _next(self):
        super()._next()
        if self.held and self.retry_handle is None and not self.closed \
                and not self.busy and not self.pending:
            # the requests ahead of the held one are answered: route it
            self.retry_handle = self.ctx.loop.call_soon(self._retry)

    def _retry(self):
        self.retry_handle = None
        if self.closed or not self.held:
            return
        data, self.held = self.held, b''
        self.data_received(data)

    def _hand_off(self, slot):
        if not self._idle() or self.ctx.shutting_down:
            if self.busy or self.pending or self.ctx.shutting_down:
                return       # _next (or the shutdown) takes it from here
            return self._later()     # a response still being written
        sock = self.transport.get_extra_info('socket')
        result = self.ctx.router.send(slot, sock.fileno(), self.held)
        if result == handoff.SENT:
            self.held = b''
            self.closed = True
            self.ctx.http_conns.discard(self)
            # the descriptor is in flight: close ours without a shutdown,
            # so the connection stays open for the owner
            self.transport.abort()
            return
        if result == handoff.BUSY:
            return self._later()
        self._serve_here()

    def _later(self):
        self.retries += 1
        if self.retries > MAX_RETRIES:
            logger.warning('a connection waited too long to be handed to '
                           'its worker: served here')
            return self._serve_here()
        self.retry_handle = self.ctx.loop.call_later(RETRY_DELAY,
                                                     self._retry)

    def _serve_here(self):
        self.routing = False
        data, self.held = self.held, b''
        if not self.write_paused:
            self.transport.resume_reading()
        super().data_received(data)
