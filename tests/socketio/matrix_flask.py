"""The socket.io-client matrix's Flask-SocketIO 5 app, the twin of
matrix_wsgi.py's python-socketio Server written the Flask-SocketIO way
(``@socketio.on`` handlers without a sid, ``flask.request.sid``,
``emit``/``call``/``join_room``/``disconnect`` from ``flask_socketio``, auth
kept in ``flask.session``), on engineio_fast through
``engineio_fast.install()`` before ``import flask_socketio``
(``EIO_IMPL=engineio`` leaves python-engineio in place).

``wsgi_app`` (the Flask app, Flask-SocketIO's middleware in front) is what
tests/sync/serve.py serves on gunicorn, eventlet or gevent, and
tests/socketio/serve.py's ``flask-*`` kinds run ``socketio.run(app)``;
``EIO_ASYNC_MODE`` names the async mode.

One more event than the other servers, for js/scenarios.mjs's
``flask_context`` scenario: ``flask_ctx`` is acknowledged with what the
handler sees of Flask: ``flask.request.sid``, its namespace and event,
a query argument of the connect request, whether the environ is the
connect's (a mark set there), the user of the Flask session the client
logged in with over HTTP (``GET /login?user=...``, a cookie) and a counter
kept in the session Flask-SocketIO manages (set at connect, one more per
event).
"""

import os

import engineio_fast

if os.environ.get('EIO_IMPL') != 'engineio':
    engineio_fast.install()

import flask  # noqa: E402  (after the switch)
import flask_socketio  # noqa: E402

from . import matrix_common as common  # noqa: E402

Refused = flask_socketio.ConnectionRefusedError

MARK = 'matrix.connect_sid'

app = flask.Flask(__name__)
app.config['SECRET_KEY'] = 'matrix, not a secret'
socketio = flask_socketio.SocketIO(
    app, async_mode=os.environ.get('EIO_ASYNC_MODE', 'threading'),
    **common.server_options())
wsgi_app = app
records = common.Records()


@app.route('/login')
def login():
    flask.session['user'] = flask.request.args['user']
    return 'ok'


def admit(auth):
    refusal = common.verdict(auth)
    if refusal is False:
        return False
    if refusal is not None:
        raise Refused(*refusal)
    flask.session['auth:' + flask.request.namespace] = auth
    return True


def whoami():
    namespace = flask.request.namespace
    return {'ns': namespace, 'auth': flask.session['auth:' + namespace],
            'transport': socketio.server.transport(flask.request.sid,
                                                   namespace=namespace)}


@socketio.on('connect')
def on_connect(auth):
    if not admit(auth):
        return False
    flask.request.environ[MARK] = flask.request.sid
    flask.session['count'] = 0
    return True


@socketio.on('disconnect')
def on_disconnect(reason):
    records.add('/', flask.request.sid, reason)


@socketio.on('whoami')
def on_whoami():
    return whoami()


@socketio.on('echo')
def echo(*args):
    return args


@socketio.on('ask')
def ask(text):
    answer = flask_socketio.call('question', text, timeout=common.WAIT)
    return ['got', answer]


@socketio.on('bin_echo')
def bin_echo(*args):
    flask_socketio.emit('bin_back', args)
    return ['ok', common.types_of(args)]


@socketio.on('bin_ack')
def bin_ack(data):
    return data[::-1]


@socketio.on('ask_bin')
def ask_bin(data):
    got = flask_socketio.call('bin_question', data, timeout=common.WAIT)
    # a list: python-socketio finds no binary inside a nested tuple
    return [common.types_of(got), list(got)]


@socketio.on('join')
def join(room):
    flask_socketio.join_room(room)
    return 'joined'


@socketio.on('leave')
def leave(room):
    flask_socketio.leave_room(room)
    return 'left'


@socketio.on('to_room')
def to_room(msg):
    flask_socketio.emit('room_msg', msg['text'], to=msg['room'],
                        include_self=not msg['skip_self'])
    return 'sent'


@socketio.on('broadcast')
def broadcast(text):
    socketio.emit('all_msg', text)
    return 'sent'


@socketio.on('flood')
def flood(n):
    # js/scenarios.mjs's whole_packets: binary and plain emits to this
    # client from three tasks at once (threads under threading)
    sid = flask.request.sid

    def binary():
        for i in range(n):
            socketio.emit('bin', common.flood_item(i), to=sid)

    def plain():
        for i in range(n):
            socketio.emit('txt', i, to=sid)
    tasks = [socketio.start_background_task(f)
             for f in (binary, plain, plain)]
    for task in tasks:
        task.join()
    return n


@socketio.on('kick_me')
def kick_me():
    flask_socketio.disconnect()


@socketio.on('flask_ctx')
def flask_ctx():
    request = flask.request
    flask.session['count'] += 1
    return {'sid': request.sid, 'namespace': request.namespace,
            'event': request.event['message'],
            'tag': request.args.get('tag'),
            'same_environ': request.environ.get(MARK) == request.sid,
            'user': flask.session.get('user'),
            'count': flask.session['count'],
            'app': flask.current_app.name}


class Chat(flask_socketio.Namespace):
    def on_connect(self, auth):
        return admit(auth)

    def on_whoami(self):
        return whoami()

    def on_disconnect(self, reason):
        records.add('/chat', flask.request.sid, reason)


socketio.on_namespace(Chat('/chat'))


@socketio.on('connect', namespace='/ctl')
def ctl_connect(auth):
    return True


@socketio.on('wait_disconnect', namespace='/ctl')
def wait_disconnect(query):
    until = common.deadline()
    while records.get(query['ns'], query['sid']) is None and \
            not common.expired(until):
        socketio.sleep(0.01)
    return records.get(query['ns'], query['sid'])
