"""Engine.IO in a Tornado application (``get_tornado_handler(server)``).

The handler is a ``WebSocketHandler`` (as python-engineio's is): a GET
asking for a websocket is decided by the engine first (a refusal is the
engine's HTTP answer, not a handshake), then handed to Tornado's handshake
and run by :class:`~engineio_fast.adapters.aio.WsSession`; every other
request is the engine's. Bodies are streamed in
(``stream_request_body``), so a POST cut short is seen as such, and Tornado
says when the client of a parked GET leaves (``on_connection_close``).

Tornado's own origin checks are left to the engine (its CORS options), as
are ETags (none: every poll is new).
"""

import asyncio
from typing import Any, List, Optional

import tornado.iostream
import tornado.web
import tornado.websocket

from ...protocol.http import Request, Response, parse_query
from .. import aio as _aio
from . import header_dict, is_websocket_upgrade, make_environ


def get_tornado_handler(engineio_server: Any) -> Any:
    """A Tornado ``RequestHandler`` class serving ``engineio_server``: route
    the Engine.IO path to it, e.g. ``(r'/engine.io/',
    get_tornado_handler(eio))``.

    Its shutdown is the application's: ``await eio.shutdown()`` before the
    server stops.
    """
    server = engineio_server

    @tornado.web.stream_request_body
    class EngineIOHandler(tornado.websocket.WebSocketHandler):
        """Engine.IO requests of one Tornado application."""

        def initialize(self) -> None:
            self._eio_chunks: List[bytes] = []
            self._eio_size = 0
            self._eio_too_large = False
            self._eio_body_done = False
            self._eio_lost = False
            self._eio_gone: Optional[asyncio.Future[bool]] = None
            self._eio_ws: Optional[_aio.WsSession] = None
            self._eio_link: Any = None

        # -- the request -------------------------------------------------
        def data_received(self, chunk: bytes) -> None:
            if self._eio_too_large:
                return
            self._eio_chunks.append(chunk)
            self._eio_size += len(chunk)
            if self._eio_size > \
                    server.driver.engine.config.max_http_buffer_size:
                # the rest is not kept: the engine refuses the body
                self._eio_too_large = True

        def _eio_request(self, is_websocket: bool) -> Request:
            request = self.request
            body = b''.join(self._eio_chunks) if self._eio_chunks else None
            if request.method != 'POST':
                body = None
            headers = list(request.headers.get_all())

            def environ() -> Any:
                address = getattr(request.connection, 'context', None)
                address = getattr(address, 'address', None)
                if not isinstance(address, (tuple, list)):
                    address = (request.remote_ip, 0)
                return make_environ(
                    'tornado', request.method or 'GET', request.path,
                    request.query, request.protocol,
                    request.version.rpartition('/')[2], headers,
                    (request.remote_ip, address[1]),
                    (request.host_name, 0), body,
                    {'tornado.handler': self})

            req = Request(request.method if not is_websocket else 'GET',
                          parse_query(request.query), header_dict(headers),
                          request.protocol, body, is_websocket, environ)
            req.too_large = self._eio_too_large
            return req

        async def _eio_write(self, resp: Response) -> None:
            self.set_status(resp.status)
            self.clear_header('Content-Type')
            for name, value in resp.headers:
                self.add_header(name, value)
            await self.finish(resp.body)

        def _eio_watch(self) -> 'asyncio.Future[bool]':
            fut = asyncio.get_running_loop().create_future()
            if self._eio_lost:
                fut.set_result(True)
            self._eio_gone = fut
            return fut

        async def _eio_http(self) -> None:
            self._eio_body_done = True
            if self._eio_lost:
                return   # (a cut POST: reported when the client left)
            await _aio.exchange(server.driver, self._eio_request(False),
                                self._eio_write, self._eio_watch)

        async def get(self, *args: Any, **kwargs: Any) -> None:
            headers = {'upgrade': self.request.headers.get('Upgrade', '')}
            if is_websocket_upgrade(self.request.method or '', headers):
                await self._eio_websocket(*args, **kwargs)
            else:
                await self._eio_http()

        async def post(self, *args: Any, **kwargs: Any) -> None:
            await self._eio_http()

        # the engine answers every other method (with its 400)
        options = put = delete = patch = head = post

        def compute_etag(self) -> None:
            return None

        def check_origin(self, origin: str) -> bool:
            return True    # decided by the engine, before the handshake

        def check_trusted_origin(self, origin: str) -> bool:
            return True    # likewise (the engine's CORS options)

        def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
            if isinstance(value, tornado.iostream.StreamClosedError):
                return     # a POST cut short: reported as a lost POST
            super().log_exception(typ, value, tb)

        def on_connection_close(self) -> None:
            if self._eio_ws is None:
                self._eio_lost = True
                gone = self._eio_gone
                if gone is not None and not gone.done():
                    gone.set_result(True)
                if self.request.method == 'POST' and \
                        not self._eio_body_done:
                    self._eio_body_done = True
                    server.driver.spawn(_aio.lost_post(
                        server.driver, self._eio_request(False)))
                # ends a body still awaited (WebSocketHandler's own
                # on_connection_close does not)
                tornado.web.RequestHandler.on_connection_close(self)
            super().on_connection_close()

        # -- the websocket -----------------------------------------------
        @property
        def max_message_size(self) -> int:
            return int(server.driver.engine.config.max_http_buffer_size)

        def get_compression_options(self) -> Optional[dict]:
            return {} if server.driver.per_message_deflate else None

        async def _eio_websocket(self, *args: Any, **kwargs: Any) -> None:
            driver = server.driver
            req = self._eio_request(True)
            out = driver.engine.handle_http(req, driver.now())
            if out.events:
                await driver.dispatch(out.events)
            later = None
            if out.kind == _aio.CONNECT:
                out = await driver.handshake(out, req)
                later = out.events
            if out.kind == _aio.RESPOND:
                return await self._eio_write(out.response)
            self._eio_link = (out.link, later)
            await super().get(*args, **kwargs)
            if self._eio_ws is None:
                # Tornado refused the handshake itself (bad headers)
                events = driver.engine.ws_closed(out.link, driver.now())
                if events:
                    await driver.dispatch(events)
                if later:
                    await driver.dispatch(later)

        async def open(self, *args: Any, **kwargs: Any) -> None:
            link, later = self._eio_link
            self._eio_link = None
            self.set_nodelay(True)
            ws = self._eio_ws = _aio.WsSession(
                server.driver, link, self._eio_ws_write, self._eio_ws_close)
            await ws.start(later)

        async def _eio_ws_write(self, items: Any) -> None:
            fut = None
            for item in items:
                fut = self.write_message(item,
                                         binary=item.__class__ is not str)
            if fut is not None:
                await fut

        async def _eio_ws_close(self, code: Optional[int]) -> None:
            # Tornado sends a close frame without a status for None
            self.close(code)

        async def on_message(self, message: Any) -> None:
            ws = self._eio_ws
            if ws is not None:
                await ws.deliver(message)

        def on_close(self) -> None:
            ws = self._eio_ws
            if ws is not None:
                server.driver.spawn(ws.end())

    return EngineIOHandler


__all__ = ['get_tornado_handler']
