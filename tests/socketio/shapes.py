"""python-socketio apps in every shape the built-in server serves, written
as a user writes them: nothing here imports engineio_fast, so
``engineio-fast tests.socketio.shapes:NAME`` must make the switch itself
(``tests.socketio.run_shape`` does it the programmatic way, with
``engineio_fast.install()`` and ``engineio_fast.run()``).

Each app has its own python-socketio server with the same handlers: a
``connect`` that wants ``auth={'token': 'ok'}`` (else it refuses with
``'denied'`` and ``{'code': 42}``), and ``hello``, which asks the client a
question (``sio.call``) and acks with the answer and what serves it.
"""

import sys

import socketio
from fastapi import FastAPI

#: NAME -> the Socket.IO path a client must use
PATHS = {
    'sio': '/socket.io',
    'app': '/socket.io',
    'app_other': '/rt',
    'api_root': '/socket.io',
    'api_ws': '/ws/socket.io',
    'api_full': '/ws/socket.io',
}
#: the apps whose other routes are FastAPI's (``GET /hello``)
WITH_API = ('app_other', 'api_root', 'api_ws', 'api_full')


def engine_report(sio):
    """What serves ``sio``: its engine's class, what ``engineio`` is, and
    every loaded module named engineio[.x] with its file."""
    eio = sys.modules.get('engineio')
    return {
        'engine': type(sio.eio).__module__ + '.' + type(sio.eio).__name__,
        'engineio': getattr(eio, '__name__', None),
        'engineio_files': sorted(
            getattr(m, '__file__', None) or '' for n, m in
            list(sys.modules.items())
            if m is not None and (n == 'engineio' or
                                  n.startswith('engineio.'))),
    }


def make_sio(**options):
    sio = socketio.AsyncServer(**options)

    @sio.event
    async def connect(sid, environ, auth):
        if not isinstance(auth, dict) or auth.get('token') != 'ok':
            raise socketio.exceptions.ConnectionRefusedError(
                'denied', {'code': 42})
        await sio.save_session(sid, {'path': environ.get('PATH_INFO')})

    @sio.event
    async def hello(sid, text):
        answer = await sio.call('question', text, to=sid, timeout=10)
        session = await sio.get_session(sid)
        return dict(engine_report(sio), answer=answer, path=session['path'])

    return sio


def make_api():
    api = FastAPI()

    @api.get('/hello')
    async def hello():
        return {'from': 'fastapi',
                'engineio': getattr(sys.modules.get('engineio'), '__name__',
                                    None)}

    return api


# a bare server, as most examples create it (no async_mode)
sio = make_sio()
app = socketio.ASGIApp(make_sio(async_mode='asgi'))
app_other = socketio.ASGIApp(make_sio(async_mode='asgi'),
                             other_asgi_app=make_api(), socketio_path='rt')
api_root = make_api()
api_root.mount('/', socketio.ASGIApp(make_sio(async_mode='asgi')))
api_ws = make_api()
api_ws.mount('/ws', socketio.ASGIApp(make_sio(async_mode='asgi')))
# the path python-socketio asks for under Starlette >= 0.33: the full one
api_full = make_api()
api_full.mount('/ws', socketio.ASGIApp(make_sio(async_mode='asgi'),
                                       socketio_path='/ws/socket.io'))

# what cannot be served by the built-in server
sync_sio = socketio.Server(async_mode='threading')
api_alone = make_api()
