"""The built-in server's HTTP protocol in a worker among several.

:class:`RoutedHttpProtocol` looks at the request line of every request
before the parser does: when its ``sid`` names a sibling worker's session
(:meth:`engineio_fast.cluster.handoff.Router.slot_for`), the connection and
the bytes read from it go to that worker (:mod:`engineio_fast.cluster.
handoff`), once the connection has nothing left to answer or write here.
A single worker uses :class:`.http_protocol.HttpProtocol`, untouched.
"""

import logging
import time

from ...cluster import handoff
from .http_protocol import HttpProtocol

logger = logging.getLogger('engineio_fast.server')

RETRY_DELAY = 0.005      # seconds between tries while a channel is full
MAX_RETRIES = 2000       # then the request is served here


class RoutedHttpProtocol(HttpProtocol):
    """One client connection of a worker; ``carried`` is what a sibling
    read from it before handing it here (parsed as if read here)."""

    def __init__(self, ctx, carried=b''):
        super().__init__(ctx)
        self.held = b''          # bytes read and not yet given to the parser
        self.carried = carried
        self.retries = 0
        self.retry_handle = None

    def connection_made(self, transport):
        super().connection_made(transport)
        carried = self.carried
        if carried:
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
        if self.cur is not None or self.upgrade:
            # inside a request (its body, or bytes after the head)
            return super().data_received(data)
        fresh = not self.held
        if not fresh:
            data = self.held + data
            self.held = b''
        slot = self.ctx.router.slot_for(data)
        if slot is None:
            return super().data_received(data)
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
        data, self.held = self.held, b''
        if not self.write_paused:
            self.transport.resume_reading()
        super().data_received(data)
