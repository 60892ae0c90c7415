"""The app our servers run in the conformance suite: the same behaviour as
``js/server.mjs`` on the official server (every message echoed with its
type; pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, CORS
for every origin), plus what only our side has.

``make_asgi_app()`` builds it on an :class:`engineio_fast.AsyncServer`
(served by uvicorn or the built-in server), ``make_wsgi_app()`` on a
:class:`engineio_fast.Server` (``EIO_ASYNC_MODE`` picks the mode; run by
``tests/sync/serve.py`` as ``tests.conformance.wsgi_app:app``).

Engine.IO hooks:

``close`` (text message)   the server disconnects the sender
``?kick=accept``           the connect handler disconnects the new session
                           (``disconnect(sid)``) and then accepts it
``?kick=refuse``           the same, and then refuses it (returns False)

Plain HTTP routes (outside ``/engine.io/``):

``GET /_health``               ``ok``
``GET /_conf/state``           JSON: ``sessions`` and ``closing`` (the sizes
                               of the engine's tables), ``reasons`` (``{sid:
                               [reason, ...]}`` from the disconnect handler)
                               and ``kicked`` (the sids kicked, in order)
``GET /_conf/disconnect?sid=X``  ``disconnect(X)`` from outside any request
                               of that session
"""

import json
import threading
import urllib.parse

OPTIONS = {
    'ping_interval': 0.3,
    'ping_timeout': 0.2,
    'max_http_buffer_size': 1000000,
    'cors_allowed_origins': '*',
}
MAX_RECORDED = 10000


class Record:
    """What the app's handlers saw (thread-safe; the lock is a green one
    under eventlet and gevent, which patch threading first)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reasons = {}
        self.kicked = []

    def kicking(self, sid):
        with self.lock:
            if len(self.kicked) < MAX_RECORDED:
                self.kicked.append(sid)

    def disconnected(self, sid, reason):
        with self.lock:
            if sid in self.reasons or len(self.reasons) < MAX_RECORDED:
                self.reasons.setdefault(sid, []).append(reason)

    def state(self, eio):
        engine = eio._engine
        with self.lock:
            return {'sessions': len(engine.sessions),
                    'closing': len(getattr(engine, 'closing', ())),
                    'reasons': {sid: list(r)
                                for sid, r in self.reasons.items()},
                    'kicked': list(self.kicked)}


def kick_of(environ):
    """The ``kick`` query argument of a connect request ('' when absent)."""
    query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    return query.get('kick', [''])[0]


def route(path, eio, record):
    """``(status, content_type, body)`` for a plain HTTP route other than
    the disconnect route (the caller runs that one in its own way)."""
    if path == '/_health':
        return 200, 'text/plain', b'ok'
    if path == '/_conf/state':
        return (200, 'application/json',
                json.dumps(record.state(eio)).encode())
    return 404, 'text/plain', b'not found'


def _sid_of(query_string):
    return urllib.parse.parse_qs(query_string).get('sid', [''])[0]


def make_wsgi_app():
    """The app on the sync :class:`engineio_fast.Server` (a WSGIApp)."""
    import os

    import engineio_fast

    eio = engineio_fast.Server(
        async_mode=os.environ.get('EIO_ASYNC_MODE') or None, **OPTIONS)
    record = Record()

    @eio.on('connect')
    def connect(sid, environ):
        kick = kick_of(environ)
        if kick:
            record.kicking(sid)
            eio.disconnect(sid)
            if kick == 'refuse':
                return False
        return None

    @eio.on('message')
    def message(sid, data):
        if data == 'close':
            eio.disconnect(sid)
        else:
            eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        record.disconnected(sid, reason)

    def plain(environ, start_response):
        path = environ.get('PATH_INFO') or '/'
        query = environ.get('QUERY_STRING', '')
        if path == '/_conf/disconnect':
            eio.disconnect(_sid_of(query))
            status, ctype, body = 200, 'application/json', b'{}'
        else:
            status, ctype, body = route(path, eio, record)
        start_response('%d %s' % (status, 'OK' if status == 200 else 'NO'),
                       [('Content-Type', ctype),
                        ('Content-Length', str(len(body)))])
        return [body]

    return engineio_fast.WSGIApp(eio, plain)


def make_async_server(async_mode='asgi'):
    """The conformance app's :class:`engineio_fast.AsyncServer` with its
    handlers: ``(eio, record)``."""
    import engineio_fast

    eio = engineio_fast.AsyncServer(async_mode=async_mode, **OPTIONS)
    record = Record()

    @eio.on('connect')
    async def connect(sid, environ):
        kick = kick_of(environ)
        if kick:
            record.kicking(sid)
            await eio.disconnect(sid)
            if kick == 'refuse':
                return False
        return None

    @eio.on('message')
    async def message(sid, data):
        if data == 'close':
            await eio.disconnect(sid)
        else:
            await eio.send(sid, data)

    @eio.on('disconnect')
    async def disconnect(sid, reason):
        record.disconnected(sid, reason)

    return eio, record


def make_plain(eio, record):
    """The plain routes for a server framework (aiohttp, Sanic, Tornado):
    ``async plain(method, path, query) -> (status, content_type, body)``,
    as tests/support.py's FrameworkServer takes it."""
    async def plain(method, path, query):
        if path == '/_conf/disconnect':
            await eio.disconnect(_sid_of(query))
            return 200, 'application/json', b'{}'
        return route(path, eio, record)
    return plain


def make_asgi_app():
    """The app on :class:`engineio_fast.AsyncServer` (an ASGIApp)."""
    import engineio_fast

    eio, record = make_async_server()

    async def plain(scope, receive, send):
        if scope['type'] == 'lifespan':
            while True:
                kind = (await receive())['type']
                await send({'type': kind + '.complete'})
                if kind == 'lifespan.shutdown':
                    return
        path = scope['path']
        query = scope.get('query_string', b'').decode('latin-1')
        if path == '/_conf/disconnect':
            await eio.disconnect(_sid_of(query))
            status, ctype, body = 200, 'application/json', b'{}'
        else:
            status, ctype, body = route(path, eio, record)
        await send({'type': 'http.response.start', 'status': status,
                    'headers': [(b'content-type', ctype.encode()),
                                (b'content-length',
                                 str(len(body)).encode())]})
        await send({'type': 'http.response.body', 'body': body})

    return engineio_fast.ASGIApp(eio, other_asgi_app=plain)
