"""The app the official Socket.IO protocol suite (socketio/socket.io-protocol,
``test-suite/``) expects, on python-socketio switched to engineio_fast:
``pingInterval`` 300 ms, ``pingTimeout`` 200 ms, ``maxPayload`` 1,000,000,
``connectTimeout`` 1 s, CORS for every origin; on connect to ``/`` or
``/custom`` the server emits ``auth`` with the client's auth payload (``{}``
when none); ``message`` is answered with ``message-back`` and the same
arguments, ``message-with-ack`` is acknowledged with its arguments.
js/protocol_server.mjs is the same app on Node's socket.io (the reference).

``EIO_ASYNC_MODE``: ``asyncio`` (``asgi_app``, an AsyncServer in
socketio.ASGIApp: the built-in server, uvicorn), ``aiohttp``, ``sanic``,
``tornado`` (``sio``), or a sync mode (``wsgi_app``, a Server).
"""

import os

import engineio_fast

engineio_fast.install()

import socketio  # noqa: E402  (after the switch)

MODE = os.environ.get('EIO_ASYNC_MODE', 'asyncio')
ASYNC_MODES = {'asyncio': 'asgi', 'aiohttp': 'aiohttp', 'sanic': 'sanic',
               'tornado': 'tornado'}
# always_connect: the CONNECT packet goes out before the connect handler
# runs, so the handler's ``auth`` event follows it (as in Node, whose
# "connection" event comes once the socket is connected)
OPTIONS = dict(ping_interval=0.3, ping_timeout=0.2,
               max_http_buffer_size=1000000, connect_timeout=1.0,
               cors_allowed_origins='*', always_connect=True)


def _auth(auth):
    return auth if auth is not None else {}


if MODE in ASYNC_MODES:
    sio = socketio.AsyncServer(async_mode=ASYNC_MODES[MODE], **OPTIONS)

    @sio.event
    async def connect(sid, environ, auth):
        await sio.emit('auth', _auth(auth), to=sid)

    @sio.on('connect', namespace='/custom')
    async def custom_connect(sid, environ, auth):
        await sio.emit('auth', _auth(auth), to=sid, namespace='/custom')

    @sio.event
    async def message(sid, *args):
        await sio.emit('message-back', args, to=sid)
else:
    sio = socketio.Server(async_mode=MODE, **OPTIONS)

    @sio.event
    def connect(sid, environ, auth):
        sio.emit('auth', _auth(auth), to=sid)

    @sio.on('connect', namespace='/custom')
    def custom_connect(sid, environ, auth):
        sio.emit('auth', _auth(auth), to=sid, namespace='/custom')

    @sio.event
    def message(sid, *args):
        sio.emit('message-back', args, to=sid)


@sio.on('message-with-ack')
def message_with_ack(sid, *args):
    return args


def route(path):
    """Plain HTTP beside the Socket.IO path (aiohttp, Sanic and Tornado,
    tests/socketio/serve.py): ``GET /_health``."""
    if path == '/_health':
        return '200 OK', b'ok'
    return '404 Not Found', b'not found'


if MODE == 'asyncio':
    asgi_app = socketio.ASGIApp(sio)
elif MODE not in ASYNC_MODES:
    wsgi_app = socketio.WSGIApp(sio)
