"""The socket.io-client matrix's python-socketio Server (WSGI), the twin of
matrix_app.py's AsyncServer, on engineio_fast through
``engineio_fast.install()`` (``EIO_IMPL=engineio`` leaves python-engineio in
place). tests/sync/serve.py serves ``app`` on gunicorn, eventlet or gevent;
``EIO_ASYNC_MODE`` (set by tests/sync/servers.py) names the async mode.
"""

import os

import engineio_fast

if os.environ.get('EIO_IMPL') != 'engineio':
    engineio_fast.install()

import socketio  # noqa: E402  (after the switch)

from . import matrix_common as common  # noqa: E402

Refused = socketio.exceptions.ConnectionRefusedError


def make_server(async_mode):
    """A python-socketio Server with the matrix's handlers."""
    sio = socketio.Server(async_mode=async_mode, **common.server_options())
    records = common.Records()

    def admit(sid, auth, namespace):
        refusal = common.verdict(auth)
        if refusal is False:
            return False
        if refusal is not None:
            raise Refused(*refusal)
        sio.save_session(sid, {'auth': auth}, namespace=namespace)
        return True

    def whoami(sid, namespace):
        session = sio.get_session(sid, namespace=namespace)
        return {'ns': namespace, 'auth': session['auth'],
                'transport': sio.transport(sid, namespace=namespace)}

    @sio.event
    def connect(sid, environ, auth):
        return admit(sid, auth, '/')

    @sio.event
    def disconnect(sid, reason):
        records.add('/', sid, reason)

    @sio.on('whoami')
    def on_whoami(sid):
        return whoami(sid, '/')

    @sio.event
    def echo(sid, *args):
        return args

    @sio.event
    def ask(sid, text):
        answer = sio.call('question', text, to=sid, timeout=common.WAIT)
        return ['got', answer]

    @sio.event
    def bin_echo(sid, *args):
        sio.emit('bin_back', args, to=sid)
        return ['ok', common.types_of(args)]

    @sio.event
    def bin_ack(sid, data):
        return data[::-1]

    @sio.event
    def ask_bin(sid, data):
        got = sio.call('bin_question', data, to=sid, timeout=common.WAIT)
        # a list: python-socketio finds no binary inside a nested tuple
        return [common.types_of(got), list(got)]

    @sio.event
    def join(sid, room):
        sio.enter_room(sid, room)
        return 'joined'

    @sio.event
    def leave(sid, room):
        sio.leave_room(sid, room)
        return 'left'

    @sio.event
    def to_room(sid, msg):
        sio.emit('room_msg', msg['text'], room=msg['room'],
                 skip_sid=sid if msg['skip_self'] else None)
        return 'sent'

    @sio.event
    def broadcast(sid, text):
        sio.emit('all_msg', text)
        return 'sent'

    @sio.event
    def flood(sid, n):
        # js/scenarios.mjs's whole_packets: binary and plain emits to this
        # client from three tasks at once (threads under threading)
        def binary():
            for i in range(n):
                sio.emit('bin', common.flood_item(i), to=sid)

        def plain():
            for i in range(n):
                sio.emit('txt', i, to=sid)
        tasks = [sio.start_background_task(f) for f in (binary, plain, plain)]
        for task in tasks:
            task.join()
        return n

    @sio.event
    def kick_me(sid):
        sio.disconnect(sid)

    class Chat(socketio.Namespace):
        def on_connect(self, sid, environ, auth):
            return admit(sid, auth, '/chat')

        def on_whoami(self, sid):
            return whoami(sid, '/chat')

        def on_disconnect(self, sid, reason):
            records.add('/chat', sid, reason)

    sio.register_namespace(Chat('/chat'))

    @sio.on('connect', namespace='/ctl')
    def ctl_connect(sid, environ, auth):
        return True

    @sio.on('wait_disconnect', namespace='/ctl')
    def wait_disconnect(sid, query):
        until = common.deadline()
        while records.get(query['ns'], query['sid']) is None and \
                not common.expired(until):
            sio.sleep(0.01)
        return records.get(query['ns'], query['sid'])

    return sio


sio = make_server(os.environ.get('EIO_ASYNC_MODE', 'threading'))
app = socketio.WSGIApp(sio)
