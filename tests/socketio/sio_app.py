"""The python-socketio app the Socket.IO tests serve in a subprocess
(``tests/socketio/serve.py``), on engineio_fast (``engineio_fast.install()``
runs first, before ``import socketio``) or, for comparison, on
python-engineio. Configured by environment variables:

``EIO_IMPL``            ``engineio_fast`` (default) or ``engineio``
``EIO_ASYNC_MODE``      ``asyncio`` (an AsyncServer in ``socketio.ASGIApp``:
                        uvicorn, the built-in server), ``aiohttp``,
                        ``sanic`` or ``tornado`` (an AsyncServer in that
                        mode, served by tests/socketio/serve.py) or a sync
                        mode (a Server: threading, eventlet, gevent)
``SIO_PING_INTERVAL``   / ``SIO_PING_TIMEOUT``: seconds (default 25 / 20)
``SIO_INSTRUMENT``      ``1``: ``sio.instrument(auth=False)`` (default ``0``)
``SIO_STATS_INTERVAL``  the admin UI's server_stats interval (default 0.5 s)

Socket.IO events on the default namespace:

``echo``   acknowledged with its arguments (text or binary)
``kick``   the server disconnects the sender (``sio.disconnect(sid)``)

Plain HTTP routes: ``GET /_health`` (``ok``) and ``GET /_record``: JSON with
``impl``, ``engine`` (the module of ``sio.eio``), ``async_mode`` (its
``async_mode``), ``sockets``
(``len(sio.eio.sockets)``), ``events``: ``[kind, sid, detail, eio_sid]``
for every connect (``auth``), disconnect (python-socketio's reason) and
event, and on engineio_fast ``parked``: the eio sids with a GET parked.

Attributes served: ``asgi_app`` (socketio.ASGIApp, for uvicorn and, as it
is, ``engineio_fast.run()``), ``sio`` (the AsyncServer, for aiohttp, Sanic and
Tornado, with ``route`` answering the plain HTTP routes) and ``wsgi_app``
(socketio.WSGIApp, for the WSGI servers).
"""

import json
import os
import threading

IMPL = os.environ.get('EIO_IMPL', 'engineio_fast')
MODE = os.environ.get('EIO_ASYNC_MODE', 'asyncio')
if IMPL == 'engineio_fast':
    import engineio_fast
    engineio_fast.install()

import socketio  # noqa: E402


def _number(name, default):
    value = float(os.environ.get(name, default))
    return int(value) if value.is_integer() else value


OPTIONS = dict(ping_interval=_number('SIO_PING_INTERVAL', 25),
               ping_timeout=_number('SIO_PING_TIMEOUT', 20),
               cors_allowed_origins='*')

_lock = threading.Lock()
events = []
eio_sids = {}


def record(kind, sid, detail=None):
    with _lock:
        events.append([kind, sid, detail, eio_sids.get(sid)])


def report():
    with _lock:
        seen = list(events)
    out = {'impl': IMPL, 'engine': type(sio.eio).__module__,
           'async_mode': sio.eio.async_mode,
           'sockets': len(sio.eio.sockets), 'events': seen}
    if IMPL == 'engineio_fast':
        # the sessions with a GET parked (engineio_fast's own state)
        out['parked'] = [s.sid for s in sio.eio._engine.sessions.values()
                         if s.poll_pending]
    return out


#: the AsyncServer modes (``asyncio``: ASGI)
ASYNC_MODES = {'asyncio': 'asgi', 'aiohttp': 'aiohttp', 'sanic': 'sanic',
               'tornado': 'tornado'}

if MODE in ASYNC_MODES:
    sio = socketio.AsyncServer(async_mode=ASYNC_MODES[MODE], **OPTIONS)

    @sio.event
    async def kick(sid):
        await sio.disconnect(sid)
else:
    sio = socketio.Server(async_mode=MODE, **OPTIONS)

    @sio.event
    def kick(sid):
        sio.disconnect(sid)


@sio.event
def connect(sid, environ, auth):
    eio_sids[sid] = sio.manager.eio_sid_from_sid(sid, '/')
    record('connect', sid, auth)


@sio.event
def disconnect(sid, reason):
    record('disconnect', sid, reason)


@sio.event
def echo(sid, *args):
    record('event', sid, 'echo')
    return args


if os.environ.get('SIO_INSTRUMENT', '0') == '1':
    sio.instrument(auth=False, server_stats_interval=_number(
        'SIO_STATS_INTERVAL', 0.5))


def route(path):
    """The plain HTTP routes: ``(status line, body)`` of a GET of ``path``."""
    if path == '/_health':
        return '200 OK', b'ok'
    if path == '/_record':
        return '200 OK', json.dumps(report()).encode()
    return '404 Not Found', b'not found'


def record_wsgi(environ, start_response):
    status, body = route(environ.get('PATH_INFO', ''))
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(body)))])
    return [body]


async def record_asgi(scope, receive, send):
    if scope['type'] != 'http':
        return
    status, body = route(scope.get('path', ''))
    await send({'type': 'http.response.start',
                'status': int(status.split()[0]),
                'headers': [(b'content-type', b'application/json')]})
    await send({'type': 'http.response.body', 'body': body})


if MODE == 'asyncio':
    asgi_app = socketio.ASGIApp(sio, other_asgi_app=record_asgi)
elif MODE not in ASYNC_MODES:
    wsgi_app = socketio.WSGIApp(sio, wsgi_app=record_wsgi)
