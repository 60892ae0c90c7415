"""Engine.IO in an aiohttp application (``AsyncServer.attach(app)``).

aiohttp's request becomes the engine's Request (the whole body read, up to
the engine's limit, whatever ``client_max_size`` says); the engine's answer
is written with a ``web.Response``; a websocket is a ``WebSocketResponse``
run by :class:`~engineio_fast.adapters.aio.WsSession`. aiohttp says nothing
when the client of a parked GET leaves unless the runner cancels handlers
(``handler_cancellation=True``, then it is seen at once): the sockets of
the parked GETs are looked at once a second (:data:`SWEEP_INTERVAL`, one
timer per loop, only while GETs are parked), and each time the engine
wakes one.
"""

import asyncio
import weakref
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import WSMsgType, web

from ...protocol.http import Request, Response, parse_query
from .. import aio as _aio
from . import header_dict, is_websocket_upgrade, make_environ

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)

#: seconds between two looks at the sockets of the parked GETs
SWEEP_INTERVAL = 1.0


def _closed(request: web.BaseRequest) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class _Sweeper:
    """The parked GETs of one loop, whose sockets are looked at every
    :data:`SWEEP_INTERVAL` while there are any."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.parked: Dict['asyncio.Future[bool]', web.BaseRequest] = {}
        self.handle: Optional[asyncio.TimerHandle] = None

    def watch(self, request: web.BaseRequest) -> 'asyncio.Future[bool]':
        fut = self.loop.create_future()
        self.parked[fut] = request
        fut.add_done_callback(self._forget)
        if self.handle is None:
            self.handle = self.loop.call_later(SWEEP_INTERVAL, self._sweep)
        return fut

    def _forget(self, fut: 'asyncio.Future[bool]') -> None:
        self.parked.pop(fut, None)

    def _sweep(self) -> None:
        self.handle = None
        for fut, request in list(self.parked.items()):
            if not fut.done() and _closed(request):
                fut.set_result(True)
        if self.parked:
            self.handle = self.loop.call_later(SWEEP_INTERVAL, self._sweep)


_sweepers: 'weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweeper]' \
    = weakref.WeakKeyDictionary()


def _watch(request: web.BaseRequest) -> 'asyncio.Future[bool]':
    loop = asyncio.get_running_loop()
    sweeper = _sweepers.get(loop)
    if sweeper is None:
        sweeper = _sweepers[loop] = _Sweeper(loop)
    return sweeper.watch(request)


def create_route(app: web.Application, server: Any, path: str) -> None:
    """Route every method of ``path`` to ``server``; the app's shutdown
    shuts the server down (python-engineio's ``create_route``, plus the
    shutdown)."""
    async def engineio_handler(request: web.BaseRequest) -> Any:
        return await handle(server, request)

    async def shutdown(_app: web.Application) -> None:
        await server.shutdown()

    app.router.add_route('*', path, engineio_handler)
    app.on_shutdown.append(shutdown)


def _environ_maker(request: web.BaseRequest, body: Optional[bytes]) -> Any:
    def environ() -> Any:
        transport = request.transport
        peer = transport.get_extra_info('peername') if transport else None
        local = transport.get_extra_info('sockname') if transport else None
        return make_environ(
            'aiohttp', request.method, request.path, request.query_string,
            request.scheme, '%d.%d' % tuple(request.version),
            request.headers.items(), peer, local, body,
            {'aiohttp.request': request})
    return environ


async def _read_body(request: web.BaseRequest,
                     limit: int) -> Tuple[bytes, bool]:
    """The whole body (every chunk until the end: a read may return part
    of it), or the part read once it went over ``limit``: ``(body,
    too_large)``. Raises when the client left before the end."""
    content = request.content
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            return b''.join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b''.join(chunks), True


def _response(resp: Response) -> web.Response:
    return web.Response(body=resp.body, status=resp.status,
                        headers=resp.headers)


async def handle(server: Any, request: web.BaseRequest) -> Any:
    """Serve one Engine.IO request of aiohttp: the response to return from
    the route handler."""
    driver = server.driver
    headers = header_dict(request.headers.items())
    method = request.method
    query = parse_query(request.query_string)
    if is_websocket_upgrade(method, headers):
        req = Request('GET', query, headers, request.scheme, None, True,
                      _environ_maker(request, None))
        return await _websocket(driver, request, req)
    body = None
    too_large = False
    if method == 'POST':
        try:
            body, too_large = await _read_body(
                request, driver.engine.config.max_http_buffer_size)
        except Exception:
            # the client left before the end of its body
            req = Request(method, query, headers, request.scheme, None,
                          False, _environ_maker(request, None))
            await _aio.lost_post(driver, req)
            return web.Response(status=400)
    req = Request(method, query, headers, request.scheme, body, False,
                  _environ_maker(request, body))
    req.too_large = too_large
    written: List[web.StreamResponse] = []

    async def write(resp: Response) -> None:
        response = _response(resp)
        if too_large:
            # the rest of the body is not read: the connection ends
            response.force_close()
        await response.prepare(request)
        await response.write_eof()
        written.append(response)

    await _aio.exchange(driver, req, write, lambda: _watch(request),
                        lambda: _closed(request))
    if written:
        return written[0]
    # the client is gone: nothing can reach it
    return web.Response(status=400)


async def _websocket(driver: Any, request: web.BaseRequest,
                     req: Request) -> Any:
    out = driver.engine.handle_http(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)
    later = None
    if out.kind == _aio.CONNECT:
        out = await driver.handshake(out, req)
        later = out.events
    if out.kind == _aio.RESPOND:
        return _response(out.response)
    ws = web.WebSocketResponse(
        max_msg_size=driver.engine.config.max_http_buffer_size,
        compress=bool(driver.per_message_deflate), autoping=True)
    await ws.prepare(request)

    async def write(items: Any) -> None:
        for item in items:
            if item.__class__ is str:
                await ws.send_str(item)
            else:
                await ws.send_bytes(item)

    async def close(code: Optional[int]) -> None:
        # aiohttp always sends a status: 1000 for none
        await ws.close(code=code or 1000)

    async def receive() -> Any:
        while True:
            msg = await ws.receive()
            kind = msg.type
            if kind is _TEXT or kind is _BINARY:
                return msg.data
            if kind in _ENDED:
                return None
            if kind is WSMsgType.ERROR:
                raise _aio.WsFailed()
            # (pings are answered by aiohttp)

    await _aio.WsSession(driver, out.link, write, close).run(receive, later)
    return ws
