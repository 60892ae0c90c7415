"""ASGI adapter: turns ASGI http/websocket scopes into engine calls and
performs what the engine decides. No protocol decisions are made here.

:class:`~engineio_fast.ASGIApp` (routing, static files, lifespan) is in
:mod:`engineio_fast.adapters.asgi_app`; it sends Engine.IO requests here
through :meth:`AsyncServer.handle_request`.
"""

import asyncio
from typing import Any, Dict, List

from ..protocol import engine as _engine
from ..protocol.http import Request, Response, parse_query
from . import aio as _aio
from .environ import make_environ as _make_environ

_RESPOND = _engine.RESPOND
_CONNECT = _engine.CONNECT


def _headers(scope):
    headers: Dict[str, str] = {}
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
    scheme = scope.get('scheme', 'http')
    if scheme in ('ws', 'wss'):
        scheme = 'https' if scheme == 'wss' else 'http'
    headers = [(name.decode('latin-1'), value.decode('latin-1'))
               for name, value in scope.get('headers', ())]
    return _make_environ(
        'engineio_fast', scope.get('method', 'GET'), scope.get('path', '/'),
        scope.get('query_string', b'').decode('latin-1'), scheme,
        scope.get('http_version', '1.1'), headers, scope.get('client'),
        scope.get('server'), body,
        {'asgi.scope': scope, 'asgi.receive': receive, 'asgi.send': send,
         'asgi': {'scope': scope, 'receive': receive, 'send': send}},
        scope.get('root_path', ''))


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
    holder: List[Dict[str, Any]] = []

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
    driver = server.driver
    if scope['type'] == 'websocket':
        return await _handle_websocket(driver, scope, receive, send)
    body = None
    if scope.get('method') == 'POST':
        body = await _read_body(receive,
                                driver.engine.config.max_http_buffer_size)
        if body is None:
            # the client left before the end of its body
            return await _aio.lost_post(
                driver, _request(scope, receive, send, None, False))
    req = _request(scope, receive, send, body, False)
    forward = getattr(server.manager, 'forward_request', None)
    if forward is not None:
        # a Redis manager: a session of another worker is served there
        # (engineio_fast/cluster/redis_forward.py)
        sid = req.query.get('sid')
        if (sid and driver.engine.get(sid) is None and
                await forward(sid, scope, body, send)):
            return

    async def write(resp):
        await _send_response(send, resp)

    def watch():
        # the GET's (empty) body first, then receive() returns only when
        # the client disconnects (or after the response)
        return asyncio.ensure_future(_watch_disconnect(receive))

    await _aio.exchange(driver, req, write, watch)


async def _watch_disconnect(receive):
    """True once the client of a parked GET disconnects; False when the
    server sends other messages instead (bounded: a server that never
    says more gets no more watching)."""
    for _ in range(3):
        msg = await receive()
        if msg.get('type') == 'http.disconnect':
            return True
    return False


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


async def _handle_websocket(driver, scope, receive, send):
    msg = await receive()
    if msg['type'] != 'websocket.connect':
        return
    engine = driver.engine
    req = _request(scope, receive, send, None, True)
    out = engine.handle_http(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)
    later = None
    if out.kind == _CONNECT:
        out = await driver.handshake(out, req)
        later = out.events
    if out.kind == _RESPOND:
        return await _reject_websocket(scope, send, out.response)
    await send({'type': 'websocket.accept'})

    async def write(items):
        for item in items:
            if item.__class__ is str:
                await send({'type': 'websocket.send', 'text': item})
            else:
                await send({'type': 'websocket.send', 'bytes': item})

    async def close(code):
        # no status (None): ASGI has no way to say it; 1000 then
        await send({'type': 'websocket.close', 'code': code or 1000})

    async def next_message():
        while True:
            msg = await receive()
            mtype = msg['type']
            if mtype == 'websocket.receive':
                data = msg.get('text')
                if data is None:
                    data = msg.get('bytes') or b''
                return data
            if mtype == 'websocket.disconnect':
                return None

    await _aio.WsSession(driver, out.link, write, close).run(next_message,
                                                           later)


__all__ = ['handle', 'make_environ', 'Response']
