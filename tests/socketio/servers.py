"""The servers the Socket.IO tests run their apps on, each in its own
subprocess: :class:`SioServer` is ``tests.sync.servers.ServerProcess`` with
more kinds (served by ``tests/socketio/serve.py``): ``builtin`` and
``uvicorn`` (an ASGI app), ``aiohttp``, ``sanic`` and ``tornado`` (an
AsyncServer in that async mode), and the ``flask-*`` kinds (Flask-SocketIO's
``socketio.run(app)``)."""

from ..sync.servers import MODE_OF_KIND, ServerProcess

#: kind -> the app attribute of sio_app.py (or flask_app.py) it serves
APP_ATTR = dict({kind: 'wsgi_app' for kind in MODE_OF_KIND},
                builtin='asgi_app', uvicorn='asgi_app', aiohttp='sio',
                sanic='sio', tornado='sio')
APP_ATTR.update({'flask-threading': 'socketio', 'flask-eventlet': 'socketio',
                 'flask-gevent': 'socketio'})


class SioServer(ServerProcess):
    """A Socket.IO app (``tests.socketio.sio_app`` by default) on KIND.

    ``env`` sets the app's options (see sio_app.py); ``EIO_IMPL`` picks
    engineio_fast (default) or python-engineio.
    """

    MODES = dict(MODE_OF_KIND, builtin='asyncio', uvicorn='asyncio',
                 aiohttp='aiohttp', sanic='sanic', tornado='tornado')
    MODES.update({'flask-threading': 'threading', 'flask-eventlet': 'eventlet',
                  'flask-gevent': 'gevent'})
    SERVE_MODULE = 'tests.socketio.serve'

    def __init__(self, kind, module='tests.socketio.sio_app', env=None,
                 **kwargs):
        kwargs.setdefault('start_timeout', 30.0)
        super().__init__(kind, app='%s:%s' % (module, APP_ATTR[kind]),
                         env=env, **kwargs)
