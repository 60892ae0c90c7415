"""ASGI adapter: turns ASGI http/websocket scopes into engine calls and
performs what the engine decides. No protocol decisions are made here.

:class:`~engineio_fast.ASGIApp` (routing, static files, lifespan) is in
:mod:`engineio_fast.adapters.asgi_app`; it sends Engine.IO requests here
through :meth:`AsyncServer.handle_request`.
"""

import asyncio
import io
import sys
from typing import Any, Dict, List

from ..protocol import engine as _engine
from ..protocol.http import Request, Response, parse_query

_RESPOND = _engine.RESPOND
_CONNECT = _engine.CONNECT
_WAIT = _engine.WAIT


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
    engine = driver.engine
    body = None
    if scope.get('method') == 'POST':
        body = await _read_body(receive, engine.config.max_http_buffer_size)
        if body is None:
            # the client left before the end of its body
            req = _request(scope, receive, send, None, False)
            out = engine.post_lost(req, driver.now())
            if out.events:
                await driver.dispatch(out.events)
            return
    req = _request(scope, receive, send, body, False)
    out = engine.handle_http(req, driver.now())
    if out.events:
        await driver.dispatch(out.events)
    kind = out.kind
    if kind == _RESPOND:
        return await _send_response(send, out.response)
    if kind == _CONNECT:
        done = await driver.handshake(out, req)
        await _send_response(send, done.response)
        if done.events:
            await driver.dispatch(done.events)
        return
    resp = await _park(driver, out, req, receive)
    if resp is not None:
        await _send_response(send, resp)


class _Parked:
    """The wake-up of one parked GET: sets its current future."""

    __slots__ = ('fut',)

    def __init__(self):
        self.fut = None

    def wake(self, *_args):
        fut = self.fut
        if fut is not None and not fut.done():
            fut.set_result(None)


def _disconnected(task):
    return (task is not None and task.done() and not task.cancelled() and
            task.exception() is None and
            task.result().get('type') == 'http.disconnect')


async def _park(driver, out, req, receive):
    """A parked GET (``WAIT``): wait for the engine's answer, watching the
    connection so that a client that leaves is reported
    (:meth:`Engine.poll_lost`). Returns the response, or None when the
    client is gone."""
    engine = driver.engine
    s = out.session
    resp = engine.take_poll(s, req, out.jsonp)
    if resp is not None:
        return resp
    loop = asyncio.get_running_loop()
    parked = _Parked()

    def watch():
        # the GET's (empty) body first, then receive() returns only when
        # the client disconnects (or after the response)
        task = asyncio.ensure_future(receive())
        task.add_done_callback(parked.wake)
        return task

    gone = watch()
    watches = 1
    try:
        while True:
            parked.fut = loop.create_future()
            s.poll_waker = parked.wake
            await parked.fut
            if gone is not None and gone.done():
                if _disconnected(gone):
                    events = engine.poll_lost(s, driver.now())
                    if events:
                        await driver.dispatch(events)
                    return None
                # the request's own body message: watch again (bounded:
                # a server that never says more gets no more watching)
                gone = watch() if watches < 3 else None
                watches += 1
            resp = engine.take_poll(s, req, out.jsonp)
            if resp is not None:
                return resp
    except BaseException:
        engine.poll_aborted(s)
        raise
    finally:
        if gone is not None and not gone.done():
            gone.cancel()


def _future_setter(fut):
    def wake():
        if not fut.done():
            fut.set_result(None)
    return wake


class _WsConn:
    """The writer side of one ASGI websocket: flushes the engine's items,
    one flush at a time, without a task per connection or per message."""

    __slots__ = ('driver', 'link', 'send', 'flushing', 'scheduled',
                 'in_reader', 'closed')

    def __init__(self, driver, link, send):
        self.driver = driver
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
        self.driver.spawn(self.flush())

    async def flush(self):
        self.scheduled = False
        if self.flushing or self.closed:
            return
        self.flushing = True
        link = self.link
        take = self.driver.engine.ws_take
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
                # no status (None): ASGI has no way to say it; 1000 then
                await send({'type': 'websocket.close',
                            'code': link.close_code or 1000})
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
    link = out.link
    await send({'type': 'websocket.accept'})
    conn = _WsConn(driver, link, send)
    await conn.flush()
    if later:
        # a session closed while its connect handler ran
        await driver.dispatch(later)
    receive_fn = receive
    ws_receive = engine.ws_receive
    dispatch = driver.dispatch
    now = asyncio.get_running_loop().time   # the clock of driver.now()
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
                    events = ws_receive(link, data, now())
                    if events:
                        await dispatch(events)
                finally:
                    conn.in_reader = False
                await conn.flush()
            elif mtype == 'websocket.disconnect':
                conn.closed = True
                break
    finally:
        events = engine.ws_closed(link, now())
        if events:
            await dispatch(events)


__all__ = ['handle', 'make_environ', 'Response']
