"""Engine.IO in a Sanic application (``AsyncServer.attach(app)``).

The route streams its body (``stream=True``), so the whole body is read up
to the engine's limit (whatever ``REQUEST_MAX_SIZE`` says) and a POST cut
short is seen as such; a websocket is upgraded by Sanic's own protocol
(``app.enable_websocket()``) and run by
:class:`~engineio_fast.adapters.aio.WsSession`. Sanic cancels the handler
of a client that leaves: a parked GET reports it then.
"""

import asyncio
from collections import deque
from typing import Any, Deque, List, Optional, Tuple

from sanic.compat import Header
from sanic.exceptions import WebsocketClosed
from sanic.response import HTTPResponse
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.protocol import OPEN

from ...protocol.http import Request, Response, parse_query
from .. import aio as _aio
from . import header_dict, is_websocket_upgrade, make_environ

# close codes of a websocket that was not failed (1005: no status)
_CLEAN = (1000, 1001, 1005)
_METHODS = ['GET', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'HEAD']


def create_route(app: Any, server: Any, path: str) -> None:
    """Route ``path`` of a Sanic app to ``server`` (every method: the
    engine answers those it does not serve), enable websockets, and shut
    the server down before Sanic stops (python-engineio's
    ``create_route``, plus the shutdown)."""
    async def engineio_handler(request: Any) -> Any:
        return await handle(server, request)

    # a handler that may upgrade to a websocket (it then returns no HTTP
    # response)
    engineio_handler.is_websocket = True  # type: ignore[attr-defined]

    async def shutdown(*_args: Any) -> None:
        await server.shutdown()

    app.add_route(engineio_handler, path, methods=_METHODS, stream=True,
                  name='engineio_fast_%x' % id(server))
    app.enable_websocket()
    app.register_listener(shutdown, 'before_server_stop')


def _environ_maker(request: Any, body: Optional[bytes]) -> Any:
    def environ() -> Any:
        info = request.conn_info
        peer = info.client_ip if info is not None else ''
        port = info.client_port if info is not None else 0
        local = (info.server, info.server_port) if info is not None \
            else None
        return make_environ(
            'sanic', request.method, request.path, request.query_string,
            request.scheme if request.scheme in ('http', 'https')
            else 'http', request.version, request.headers.items(),
            (peer, port), local, body, {'sanic.request': request})
    return environ


def _scheme(request: Any) -> str:
    scheme = request.scheme
    return 'https' if scheme in ('https', 'wss') else 'http'


async def _read_body(request: Any, limit: int) -> Tuple[bytes, bool]:
    """The whole body, or the part read once it went over ``limit``:
    ``(body, too_large)``."""
    stream = request.stream
    if stream is None:
        return request.body or b'', False
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await stream.read()
        if chunk is None:
            return b''.join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b''.join(chunks), True


def _gone(request: Any) -> bool:
    info = request.conn_info
    if info is not None and info.lost:
        return True
    transport = request.transport
    return transport is None or transport.is_closing()


class _Messages:
    """Takes the place of Sanic's frame assembler on one websocket.

    Sanic's ``recv()`` can lose a message that arrives together with the
    close frame (its fetch and its cancellation by the close both end, and
    it may pick the cancellation): here a message stays queued until the
    reader took it (:meth:`take`, after ``recv()`` returned it, or after the
    close), and the next one is not put before that.
    """

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: Deque[Any] = deque()
        self.parts: List[bytes] = []
        self.text = False
        self.arrived = asyncio.Event()
        self.taken = asyncio.Event()
        # Sanic parses what it reads at once (the socket's state may say
        # closed already) and hands the frames to a task it starts then;
        # ``pending`` counts those tasks, so that a reader told "closed"
        # still gets the messages that were read before the close
        self.pending = 0
        self.changed = asyncio.Event()
        for name in ('async_data_received', 'async_eof_received'):
            setattr(ws, name, self._counted(getattr(ws, name)))

    def _counted(self, step: Any) -> Any:
        def start(*args: Any) -> Any:
            # called by Sanic's data_received / eof_received themselves,
            # before the task that runs the coroutine exists
            self.pending += 1
            return self._run(step(*args))
        return start

    async def _run(self, coro: Any) -> None:
        try:
            await coro
        finally:
            self.pending -= 1
            self.changed.set()

    async def settled(self) -> None:
        """Until a message is queued or Sanic has handed over every frame
        it read."""
        while not self.messages and self.pending:
            self.changed.clear()
            await self.changed.wait()

    async def put(self, frame: Any) -> None:
        """A data frame (Sanic calls this for each, in order)."""
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            self.text = opcode is Opcode.TEXT
            self.parts = [frame.data]
        elif opcode is Opcode.CONT:
            self.parts.append(frame.data)
        else:
            return
        if not frame.fin:
            return
        data: Any = b''.join(self.parts)
        self.parts = []
        if self.text:
            try:
                data = data.decode('utf-8')
            except UnicodeDecodeError:
                data = _BAD_TEXT
                self.ws.fail_connection(1007, 'invalid UTF-8')
        self.messages.append(data)
        self.arrived.set()
        self.changed.set()
        while self.messages:
            self.taken.clear()
            await self.taken.wait()

    async def get(self, timeout: Optional[float] = None) -> Any:
        """What Sanic's ``recv()`` returns: the first message, left in the
        queue."""
        while not self.messages:
            self.arrived.clear()
            await self.arrived.wait()
        return self.messages[0]

    def take(self) -> Any:
        data = self.messages.popleft()
        self.taken.set()
        if data is _BAD_TEXT:
            raise _aio.WsFailed()
        return data


_BAD_TEXT = object()


def _ended(ws: Any) -> None:
    """The websocket closed: None, or :class:`WsFailed` when the closing
    frame sent says it was failed (bad frames, a message too big)."""
    sent = ws.ws_proto.close_sent
    if sent is not None and sent.code not in _CLEAN:
        raise _aio.WsFailed()
    return None


async def handle(server: Any, request: Any) -> Any:
    """Serve one Engine.IO request of Sanic (the response is written
    here; None is returned)."""
    driver = server.driver
    headers = header_dict(request.headers.items())
    method = request.method
    query = parse_query(request.query_string)
    scheme = _scheme(request)
    if is_websocket_upgrade(method, headers):
        req = Request('GET', query, headers, scheme, None, True,
                      _environ_maker(request, None))
        return await _websocket(driver, request, req)
    body = None
    too_large = False
    if method == 'POST':
        try:
            body, too_large = await _read_body(
                request, driver.engine.config.max_http_buffer_size)
        except BaseException as exc:
            # the client left before the end of its body (Sanic cancels
            # the handler, or the stream reports it)
            lost = _aio.lost_post(driver, Request(
                method, query, headers, scheme, None, False,
                _environ_maker(request, None)))
            if isinstance(exc, Exception):
                await lost
                return None
            driver.spawn(lost)
            raise
    req = Request(method, query, headers, scheme, body, False,
                  _environ_maker(request, body))
    req.too_large = too_large

    async def write(resp: Response) -> None:
        content_type = None
        out = Header()
        for name, value in resp.headers:
            if name.lower() == 'content-type':
                content_type = value
            else:
                out.add(name, value)
        response = HTTPResponse(resp.body, status=resp.status, headers=out,
                                content_type=content_type)
        response = await request.respond(response)
        await response.send(end_stream=True)

    await _aio.exchange(driver, req, write, None, lambda: _gone(request))
    return None


async def _websocket(driver: Any, request: Any, req: Request) -> Any:
    out = driver.engine.handle_http(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)
    later = None
    if out.kind == _aio.CONNECT:
        out = await driver.handshake(out, req)
        later = out.events
    if out.kind == _aio.RESPOND:
        resp = out.response
        return HTTPResponse(resp.body, status=resp.status,
                            headers=Header(resp.headers))
    protocol = request.transport.get_protocol()
    try:
        ws = await protocol.websocket_handshake(request)
    except BaseException:
        events = driver.engine.ws_closed(out.link, driver.now())
        if events:
            driver.fire(events)
        raise

    async def write(items: Any) -> None:
        for item in items:
            await ws.send(item)

    async def close(code: Optional[int]) -> None:
        # None: a close frame without a status (the websockets package's
        # protocol under Sanic's can say that)
        await ws.close(code)

    messages = ws.assembler = _Messages(ws)

    async def receive() -> Any:
        if not messages.messages:
            try:
                await ws.recv()
            except asyncio.CancelledError:
                if ws.ws_proto.state is OPEN:
                    raise       # the handler itself is cancelled
                # Sanic's way to say the socket closed
            except (ConnectionClosed, WebsocketClosed):
                pass
            # the close may have been seen before the frames read ahead
            # of it were handed over
            await messages.settled()
        if messages.messages:
            return messages.take()
        return _ended(ws)

    # the session runs in a task of its own: Sanic cancels this handler
    # when the connection is lost, maybe before it handed over the frames
    # it read ahead of the close (a message, then the close frame, in one
    # read); the session still takes them, in order, before the disconnect
    session = driver.spawn(
        _aio.WsSession(driver, out.link, write, close).run(receive, later))
    try:
        while True:
            try:
                await asyncio.shield(session)
                break
            except asyncio.CancelledError:
                if session.done() or ws.ws_proto.state is OPEN:
                    session.cancel()
                    raise       # the handler itself is cancelled
                # the connection is lost: a receive() waiting in Sanic's
                # recv() hears it now (Sanic's way to say the socket
                # closed); the session takes what was read and ends
                waiting = ws.recv_cancel
                if waiting is not None and not waiting.done():
                    waiting.cancel()
    finally:
        await ws.close()    # (nothing when it is closed already)
    return None
