"""ASGI adapter: turns ASGI http/websocket scopes into engine calls and
performs what the engine decides. No protocol decisions are made here.

:class:`~engineio_fast.ASGIApp` (routing, static files, lifespan) is in
:mod:`engineio_fast.adapters.asgi_app`; it sends Engine.IO requests here
through :meth:`AsyncServer.handle_request`.
"""

import asyncio
import io
import sys

from ..protocol import engine as _engine
from ..protocol.http import Request, Response, parse_query

_RESPOND = _engine.RESPOND
_CONNECT = _engine.CONNECT
_WAIT = _engine.WAIT


def _headers(scope):
    headers = {}
    for name, value in scope.get('headers', ()):
        name = name.decode('latin-1').lower()
        value = value.decode('latin-1')
        if name in headers:
            headers[name] = headers[name] + ', ' + value
        else:
            headers[name] = value
    return headers


def make_environ(scope, receive, send, body=b''):
    """A WSGI-style environ for an ASGI scope (what connect handlers get).

    Carries the real client address in REMOTE_ADDR/REMOTE_PORT, the scope
    as ``environ['asgi.scope']`` and as ``environ['asgi']['scope']``.
    """
    client = scope.get('client') or ('', 0)
    server = scope.get('server') or ('localhost', 0)
    scheme = scope.get('scheme', 'http')
    if scheme in ('ws', 'wss'):
        scheme = 'https' if scheme == 'wss' else 'http'
    query = scope.get('query_string', b'').decode('latin-1')
    path = scope.get('path', '/')
    environ = {
        'wsgi.input': io.BytesIO(body or b''),
        'wsgi.errors': sys.stderr,
        'wsgi.version': (1, 0),
        'wsgi.async': True,
        'wsgi.multithread': False,
        'wsgi.multiprocess': False,
        'wsgi.run_once': False,
        'wsgi.url_scheme': scheme,
        'SERVER_SOFTWARE': 'engineio_fast',
        'REQUEST_METHOD': scope.get('method', 'GET'),
        'PATH_INFO': path,
        'SCRIPT_NAME': scope.get('root_path', ''),
        'QUERY_STRING': query,
        'RAW_URI': path + ('?' + query if query else ''),
        'SERVER_PROTOCOL': 'HTTP/' + scope.get('http_version', '1.1'),
        'SERVER_NAME': str(server[0]) if server else 'localhost',
        'SERVER_PORT': str(server[1]) if server and len(server) > 1 else '0',
        'REMOTE_ADDR': str(client[0]),
        'REMOTE_PORT': str(client[1]),
        'asgi.scope': scope,
        'asgi.receive': receive,
        'asgi.send': send,
        'asgi': {'scope': scope, 'receive': receive, 'send': send},
    }
    for name, value in scope.get('headers', ()):
        name = name.decode('latin-1').upper().replace('-', '_')
        value = value.decode('latin-1')
        if name == 'CONTENT_TYPE' or name == 'CONTENT_LENGTH':
            environ[name] = value
            continue
        key = 'HTTP_' + name
        environ[key] = environ[key] + ',' + value if key in environ \
            else value
    return environ


async def _send_response(send, resp):
    headers = [(k.encode('latin-1'), v.encode('latin-1'))
               for k, v in resp.headers]
    headers.append((b'content-length', str(len(resp.body)).encode()))
    await send({'type': 'http.response.start', 'status': resp.status,
                'headers': headers})
    await send({'type': 'http.response.body', 'body': resp.body})


async def _read_body(receive, limit):
    """Read an http request body; stops as soon as it exceeds ``limit``
    (the engine then refuses it), so an oversized body is never buffered.
    Returns None if the client went away."""
    chunks = []
    size = 0
    while True:
        msg = await receive()
        if msg['type'] == 'http.disconnect':
            return None
        chunk = msg.get('body', b'')
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not msg.get('more_body', False):
            return b''.join(chunks)


def _request(scope, receive, send, body, is_websocket):
    scheme = scope.get('scheme', 'http')
    holder = []

    def environ():
        if not holder:
            holder.append(make_environ(scope, receive, send, body))
        return holder[0]

    query = scope.get('query_string', b'').decode('latin-1')
    return Request(scope.get('method', 'GET') if not is_websocket else 'GET',
                   parse_query(query),
                   _headers(scope),
                   scheme, body, is_websocket, environ)


async def handle(server, scope, receive, send):
    """Serve one ASGI http or websocket scope on the Engine.IO path."""
    if scope['type'] == 'websocket':
        return await _handle_websocket(server, scope, receive, send)
    engine = server._engine
    body = None
    if scope.get('method') == 'POST':
        body = await _read_body(receive, engine.config.max_http_buffer_size)
        if body is None:
            return
    req = _request(scope, receive, send, body, False)
    out = engine.handle_http(req, server._now())
    if out.events:
        await server._dispatch(out.events)
    kind = out.kind
    if kind == _RESPOND:
        return await _send_response(send, out.response)
    s = out.session
    if kind == _CONNECT:
        ok, value = await server._run_connect(s, req)
        if not ok:
            return await _send_response(send,
                                        engine.reject_connect(s, req, value))
        resp = engine.finish_connect(s, req, server._now(), out.jsonp)
        return await _send_response(send, resp)
    # _WAIT: park the GET until something is queued for it
    loop = asyncio.get_running_loop()
    try:
        while True:
            fut = loop.create_future()
            s.poll_waker = _future_setter(fut)
            await fut
            resp = engine.take_poll(s, req, out.jsonp)
            if resp is not None:
                break
    except BaseException:
        engine.poll_aborted(s)
        raise
    await _send_response(send, resp)


def _future_setter(fut):
    def wake():
        if not fut.done():
            fut.set_result(None)
    return wake


class _WsConn:
    """The writer side of one ASGI websocket: flushes the engine's items,
    one flush at a time, without a task per connection or per message."""

    __slots__ = ('server', 'link', 'send', 'flushing', 'scheduled',
                 'in_reader', 'closed')

    def __init__(self, server, link, send):
        self.server = server
        self.link = link
        self.send = send
        self.flushing = False
        self.scheduled = False
        self.in_reader = False
        self.closed = False
        link.waker = self.wake

    def wake(self):
        if self.flushing or self.scheduled or self.in_reader:
            return
        self.scheduled = True
        self.server._spawn(self.flush())

    async def flush(self):
        self.scheduled = False
        if self.flushing or self.closed:
            return
        self.flushing = True
        link = self.link
        take = self.server._engine.ws_take
        send = self.send
        try:
            while True:
                items = take(link)
                if not items:
                    break
                for item in items:
                    if item.__class__ is str:
                        await send({'type': 'websocket.send', 'text': item})
                    else:
                        await send({'type': 'websocket.send', 'bytes': item})
            if link.closing and not self.closed:
                self.closed = True
                await send({'type': 'websocket.close',
                            'code': link.close_code})
        except Exception:
            # the peer is gone; the reader sees the disconnect
            self.closed = True
        finally:
            self.flushing = False


async def _reject_websocket(scope, send, resp):
    if 'websocket.http.response' in scope.get('extensions', {}) or {}:
        headers = [(k.encode('latin-1'), v.encode('latin-1'))
                   for k, v in resp.headers]
        headers.append((b'content-length', str(len(resp.body)).encode()))
        await send({'type': 'websocket.http.response.start',
                    'status': resp.status, 'headers': headers})
        await send({'type': 'websocket.http.response.body',
                    'body': resp.body})
    else:
        await send({'type': 'websocket.close', 'code': 1008})


async def _handle_websocket(server, scope, receive, send):
    msg = await receive()
    if msg['type'] != 'websocket.connect':
        return
    engine = server._engine
    req = _request(scope, receive, send, None, True)
    out = engine.handle_http(req, server._now())
    if out.events:
        await server._dispatch(out.events)
    if out.kind == _RESPOND:
        return await _reject_websocket(scope, send, out.response)
    link = out.link
    if out.kind == _CONNECT:
        ok, value = await server._run_connect(out.session, req)
        if not ok:
            resp = engine.reject_connect(out.session, req, value)
            return await _reject_websocket(scope, send, resp)
        await send({'type': 'websocket.accept'})
        engine.finish_connect(out.session, req, server._now())
    else:
        await send({'type': 'websocket.accept'})
    conn = _WsConn(server, link, send)
    await conn.flush()
    receive_fn = receive
    ws_receive = engine.ws_receive
    dispatch = server._dispatch
    loop = asyncio.get_running_loop()
    try:
        while not conn.closed:
            msg = await receive_fn()
            mtype = msg['type']
            if mtype == 'websocket.receive':
                data = msg.get('text')
                if data is None:
                    data = msg.get('bytes') or b''
                conn.in_reader = True
                try:
                    events = ws_receive(link, data, loop.time())
                    if events:
                        await dispatch(events)
                finally:
                    conn.in_reader = False
                await conn.flush()
            elif mtype == 'websocket.disconnect':
                conn.closed = True
                break
    finally:
        events = engine.ws_closed(link, loop.time())
        if events:
            await dispatch(events)


__all__ = ['handle', 'make_environ', 'Response']
