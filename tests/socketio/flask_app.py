"""The Flask-SocketIO app the tests serve in a subprocess, on engineio_fast
(``engineio_fast.install()`` first) or, for comparison, python-engineio
(``EIO_IMPL=engineio``); ``EIO_ASYNC_MODE`` is the sync Server's mode.

Events (default namespace):

``connect``  marks the connection's environ (``flask.request.environ``),
             starts a counter in the Flask session Flask-SocketIO manages
             (stored in that environ) and emits ``welcome``
``where``    acknowledged with what the handler sees: whether its environ
             is the very dict the connect handler had, the mark, the
             counter (incremented: the session persists), the transport
``join``     joins room ``r`` and emits ``joined`` to the room

HTTP: ``/_health`` and ``/hello`` (a plain Flask route beside Socket.IO).
``wsgi_app`` is the Flask app (Flask-SocketIO's middleware in front).
"""

import os

IMPL = os.environ.get('EIO_IMPL', 'engineio_fast')
MODE = os.environ.get('EIO_ASYNC_MODE', 'threading')
if IMPL == 'engineio_fast':
    import engineio_fast
    engineio_fast.install()

import flask  # noqa: E402
from flask_socketio import SocketIO, emit, join_room  # noqa: E402

app = flask.Flask(__name__)
app.config['SECRET_KEY'] = 'not a secret'
socketio = SocketIO(app, async_mode=MODE, cors_allowed_origins='*',
                    ping_interval=float(os.environ.get('SIO_PING_INTERVAL',
                                                       25)))
wsgi_app = app
# id() of the environ each connection's connect handler saw
connect_environ = {}


@app.route('/_health')
def health():
    return 'ok'


@app.route('/hello')
def hello():
    return 'hello from flask (%s on %s)' % (
        type(socketio.server.eio).__module__, socketio.server.eio.async_mode)


@socketio.on('connect')
def on_connect(auth):
    env = flask.request.environ
    env['test.mark'] = flask.request.sid
    connect_environ[flask.request.sid] = id(env)
    flask.session['count'] = 0
    emit('welcome', {'sid': flask.request.sid, 'auth': auth})


@socketio.on('where')
def where():
    env = flask.request.environ
    sid = flask.request.sid
    flask.session['count'] = flask.session.get('count', 0) + 1
    try:
        transport = socketio.server.transport(sid)
    except KeyError:    # Flask-SocketIO's test client has no Engine.IO side
        transport = None
    return {'same_environ': id(env) == connect_environ.get(sid),
            'mark': env.get('test.mark') == sid,
            'count': flask.session['count'],
            'transport': transport,
            'flask_app': env.get('flask.app') is app,
            'engine': type(socketio.server.eio).__module__,
            'async_mode': socketio.server.eio.async_mode}


@socketio.on('join')
def join():
    join_room('r')
    emit('joined', flask.request.sid, to='r')
