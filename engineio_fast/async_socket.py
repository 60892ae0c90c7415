"""python-engineio's ``engineio.async_socket``: :class:`AsyncSocket`, the
socket class of :class:`~engineio_fast.AsyncServer` (see
:mod:`engineio_fast.base_socket` for what its methods stand for and how
replacing them on the class takes effect)."""

from typing import Any, Callable, Optional, Set

from . import base_socket
from .packet import Packet

# the hooks that suspended once (warned about once)
_warned: Set[str] = set()


class AsyncWebSocket(base_socket.WebSocketTap):
    """The ``ws`` object handed to :meth:`AsyncSocket._websocket_handler`.
    """

    async def wait(self) -> Optional[Any]:
        """The message being received (str, or bytes for binary)."""
        return self._take()

    async def send(self, data: Any) -> None:
        """Send ``data`` (an encoded packet: str, or bytes for binary)."""
        self._put(data)


class AsyncSocket(base_socket.BaseSocket):
    """One client's session on an :class:`~engineio_fast.AsyncServer`."""

    _tap_class = AsyncWebSocket
    _post_run: Callable[[], None]

    async def handle_post_request(self, environ: Any) -> None:
        """Read the packets of this session's POST (the server calls it
        while it handles the request; ``environ`` is the request's)."""
        self._post_run()

    async def _websocket_handler(self, ws: AsyncWebSocket) -> None:
        """Attach ``ws``: from now on every message of this websocket goes
        through ``ws.wait()`` and ``ws.send()``."""
        ws._attach()

    async def _send_ping(self) -> None:
        """Send the ping that is due."""
        self.server._send_ping_now(self._session)

    async def send(self, pkt: Packet) -> None:
        """Send a :class:`~engineio_fast.packet.Packet` to this client."""
        await self.server.send_packet(self.sid, pkt)

    async def close(self, wait: bool = True, abort: bool = False,
                    reason: Optional[str] = None) -> None:
        """Disconnect this client (as ``server.disconnect(sid)``)."""
        await self.server.disconnect(self.sid)

    @staticmethod
    def _run_hook(server: Any, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the coroutine ``fn(*args)`` now, to its end when it does not
        suspend (the originals never do); one that suspends is finished as
        a task, its result not used: returns
        :data:`~engineio_fast.base_socket.SUSPENDED` then."""
        done, value = server._start_eager(fn(*args))
        if done:
            return value
        name = getattr(fn, '__name__', repr(fn))
        if name not in _warned:
            _warned.add(name)
            server.logger.warning(
                '%s suspended: finished as a task, its result not used '
                '(instrumentation hooks must not suspend)', name)
        return base_socket.SUSPENDED

    @staticmethod
    def _schedule_ping(instrumentation: Any, sock: 'AsyncSocket') -> None:
        sock.server._spawn(_send_ping(sock))


async def _send_ping(sock: AsyncSocket) -> None:
    try:
        await sock._send_ping()
    except Exception:
        sock.server.logger.exception('_send_ping error')
