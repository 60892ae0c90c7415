"""The asyncio client's I/O helpers: the outgoing queue for the polling
writer (:class:`AsyncOutbox`), the websocket writer that puts the frames of
one event-loop turn in one write (:class:`WsBatch`), and SIGINT handling.
"""

import asyncio
import signal
import weakref
from typing import Any

from ... import _accel
from ...protocol.client_machine import item_size

try:
    from websockets.protocol import State as _WsState
except ImportError:  # pragma: no cover - the client extra is not installed
    _WsState = None  # type: ignore[assignment,misc]

# websocket messages queued in one turn of the event loop go out in one
# write (frames built by the compiled kernels); a batch this large is
# written at once
WS_BATCH_BYTES = 65536
_build_frames = _accel.active.build_frames

_sigint_loops: 'weakref.WeakSet[Any]' = weakref.WeakSet()
_background: 'set[Any]' = set()


def install_sigint(loop, clients):
    """Chain a SIGINT handler on ``loop``: disconnect the connected async
    clients, then run the handler that was there (``asyncio.run``'s, which
    cancels the main task, or ``KeyboardInterrupt``)."""
    if loop in _sigint_loops:
        return
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop, previous,
                                clients)
    except (NotImplementedError, RuntimeError, ValueError):
        return
    _sigint_loops.add(loop)


def _on_sigint(loop, previous, clients):
    async def run():
        for c in clients[:]:
            if c.is_asyncio_based():
                try:
                    await asyncio.wait_for(c.disconnect(),
                                           c.request_timeout + 1)
                except Exception:  # pragma: no cover - best effort
                    pass
        if callable(previous):
            previous(signal.SIGINT, None)
        else:  # pragma: no cover
            signal.default_int_handler(signal.SIGINT, None)

    spawn(run())


class AsyncOutbox:
    """Outgoing items waiting for the polling writer (or for the websocket
    to take over); bounded once ``bounded`` is set."""

    def __init__(self, max_items, max_bytes):
        self._items = []
        self._bytes = 0
        self._closed = False
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self.bounded = False

    def _full(self, size):
        return (self.bounded and self._items
                and (len(self._items) >= self._max_items
                     or self._bytes + size > self._max_bytes))

    async def put(self, item):
        size = item_size(item)
        while not self._closed and self._full(size):
            self._space.clear()
            await self._space.wait()
        self._append(item, size)

    def put_nowait(self, item):
        self._append(item, item_size(item))

    def _append(self, item, size):
        if self._closed:
            return
        self._items.append(item)
        self._bytes += size
        self._ready.set()

    def take_nowait(self):
        items = self._items
        if items:
            self._items = []
            self._bytes = 0
            self._space.set()
        return items

    async def take(self):
        """All waiting items; None once closed and drained."""
        while not self._items and not self._closed:
            self._ready.clear()
            await self._ready.wait()
        return self.take_nowait() or None

    def close(self, discard=False):
        self._closed = True
        if discard:
            self._items = []
            self._bytes = 0
        self._ready.set()
        self._space.set()


class WsBatch:
    """Writes a websocket's outgoing messages: everything queued in one turn
    of the event loop goes out together at its end, one frame each, all
    built at once by the compiled kernels, in one write to the socket (the
    websockets package would write each frame on its own).

    Args:
        ws: a connection of ``websockets.asyncio.client``.
    """

    __slots__ = ('ws', '_items', '_bytes')

    def __init__(self, ws):
        self.ws = ws
        self._items = []
        self._bytes = 0

    def put(self, item):
        """Queue ``item`` (str or bytes) for the end of this loop turn."""
        items = self._items
        items.append(item)
        self._bytes += len(item)
        if len(items) == 1:
            asyncio.get_running_loop().call_soon(self.flush)
        elif self._bytes >= WS_BATCH_BYTES:
            self.flush()

    def behind(self):
        """True while the socket is behind (the websockets package's write
        buffer past its high-water mark)."""
        return getattr(self.ws, 'paused', False)

    async def drain(self):
        """Write what is queued and wait until the socket is no longer
        behind, as ``ws.send()`` would."""
        self.flush()
        await self.ws.drain()

    def flush(self):
        """Write what is queued now."""
        items = self._items
        if not items:
            return
        self._items = []
        self._bytes = 0
        ws = self.ws
        transport = ws.transport
        if ws.protocol.state is not _WsState.OPEN or transport.is_closing():
            return      # closing: nothing more may be sent
        transport.write(_build_frames(items, True))


def abort_websocket(ws):
    """Drop the websocket's connection at once."""
    transport = getattr(ws, 'transport', None)
    if transport is not None:
        transport.abort()


async def close_websocket(ws, timeout):
    """The closing handshake within ``timeout`` seconds, else drop it (the
    websockets package waits without a deadline for a full socket to drain
    before its close frame)."""
    try:
        await asyncio.wait_for(ws.close(), timeout)
    except Exception:
        abort_websocket(ws)


def spawn(coro):
    """Run ``coro`` as a task nobody awaits, kept alive until it ends."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
