"""python-engineio's ``engineio.socket``: :class:`Socket`, the socket class
of the synchronous :class:`~engineio_fast.Server` (see
:mod:`engineio_fast.base_socket` for what its methods stand for and how
replacing them on the class takes effect)."""

from typing import Any, Callable, Optional

from . import base_socket
from .packet import Packet


class WebSocket(base_socket.WebSocketTap):
    """The ``ws`` object handed to :meth:`Socket._websocket_handler`."""

    def wait(self) -> Optional[Any]:
        """The message being received (str, or bytes for binary)."""
        return self._take()

    def send(self, data: Any, *args: Any, **kwargs: Any) -> None:
        """Send ``data`` (an encoded packet: str, or bytes for binary)."""
        self._put(data)


class Socket(base_socket.BaseSocket):
    """One client's session on a :class:`~engineio_fast.Server`."""

    _tap_class = WebSocket
    _post_run: Callable[[], None]

    def handle_post_request(self, environ: Any) -> None:
        """Read the packets of this session's POST (the server calls it
        while it handles the request; ``environ`` is the request's)."""
        self._post_run()

    def _websocket_handler(self, ws: WebSocket) -> None:
        """Attach ``ws``: from now on every message of this websocket goes
        through ``ws.wait()`` and ``ws.send()``."""
        ws._attach()

    def _send_ping(self) -> None:
        """Send the ping that is due."""
        self.server._send_ping_now(self._session)

    def send(self, pkt: Packet) -> None:
        """Send a :class:`~engineio_fast.packet.Packet` to this client."""
        self.server.send_packet(self.sid, pkt)

    def close(self, wait: bool = True, abort: bool = False,
              reason: Optional[str] = None) -> None:
        """Disconnect this client (as ``server.disconnect(sid)``)."""
        self.server.disconnect(self.sid)

    @staticmethod
    def _run_hook(server: Any, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    @staticmethod
    def _schedule_ping(instrumentation: Any, sock: 'Socket') -> None:
        # called under the server's lock: _send_ping (which may emit, so
        # take the lock) runs in a task of the server's mode, one task
        # for the pings due together
        with instrumentation.pings_lock:
            pings = instrumentation.pings
            pings.append(sock)
            if len(pings) > 1:
                return
        sock.server._mode.spawn(_drain_pings, instrumentation)


def _drain_pings(instrumentation: Any) -> None:
    while True:
        with instrumentation.pings_lock:
            pings = instrumentation.pings
            if not pings:
                return
            sock = pings[0]
        try:
            sock._send_ping()
        except Exception:
            sock.server.logger.exception('_send_ping error')
        with instrumentation.pings_lock:
            pings.pop(0)
