"""The socket.io-client matrix's python-socketio AsyncServer (ASGI, and the
other asyncio modes through ``make_server``), on engineio_fast through
``engineio_fast.install()`` (``EIO_IMPL=engineio`` leaves python-engineio in
place, to try a scenario against it by hand).

``app`` (``socketio.ASGIApp``, with the browser page's static files) is what
``engineio-fast tests.socketio.matrix_app:app`` and uvicorn serve; each event
is described in js/scenarios.mjs, its client side.
"""

import asyncio
import os

import engineio_fast

if os.environ.get('EIO_IMPL') != 'engineio':
    engineio_fast.install()

import socketio  # noqa: E402  (after the switch)

from . import matrix_common as common  # noqa: E402

Refused = socketio.exceptions.ConnectionRefusedError


def make_server(async_mode='asgi'):
    """A python-socketio AsyncServer with the matrix's handlers."""
    sio = socketio.AsyncServer(async_mode=async_mode,
                               **common.server_options())
    records = common.Records()

    async def admit(sid, auth, namespace):
        refusal = common.verdict(auth)
        if refusal is False:
            return False
        if refusal is not None:
            raise Refused(*refusal)
        await sio.save_session(sid, {'auth': auth}, namespace=namespace)
        return True

    async def whoami(sid, namespace):
        session = await sio.get_session(sid, namespace=namespace)
        return {'ns': namespace, 'auth': session['auth'],
                'transport': sio.transport(sid, namespace=namespace)}

    @sio.event
    async def connect(sid, environ, auth):
        return await admit(sid, auth, '/')

    @sio.event
    async def disconnect(sid, reason):
        records.add('/', sid, reason)

    @sio.on('whoami')
    async def on_whoami(sid):
        return await whoami(sid, '/')

    @sio.event
    async def echo(sid, *args):
        return args

    @sio.event
    async def ask(sid, text):
        answer = await sio.call('question', text, to=sid,
                                timeout=common.WAIT)
        return ['got', answer]

    @sio.event
    async def bin_echo(sid, *args):
        await sio.emit('bin_back', args, to=sid)
        return ['ok', common.types_of(args)]

    @sio.event
    async def bin_ack(sid, data):
        return data[::-1]

    @sio.event
    async def ask_bin(sid, data):
        got = await sio.call('bin_question', data, to=sid,
                             timeout=common.WAIT)
        # a list: python-socketio finds no binary inside a nested tuple
        return [common.types_of(got), list(got)]

    @sio.event
    async def join(sid, room):
        await sio.enter_room(sid, room)
        return 'joined'

    @sio.event
    async def leave(sid, room):
        await sio.leave_room(sid, room)
        return 'left'

    @sio.event
    async def to_room(sid, msg):
        await sio.emit('room_msg', msg['text'], room=msg['room'],
                       skip_sid=sid if msg['skip_self'] else None)
        return 'sent'

    @sio.event
    async def broadcast(sid, text):
        await sio.emit('all_msg', text)
        return 'sent'

    @sio.event
    async def flood(sid, n):
        # js/scenarios.mjs's whole_packets: binary and plain emits to this
        # client from three tasks at once
        async def binary():
            for i in range(n):
                await sio.emit('bin', common.flood_item(i), to=sid)
                await sio.sleep(0)

        async def plain():
            for i in range(n):
                await sio.emit('txt', i, to=sid)
                await sio.sleep(0)
        await asyncio.gather(binary(), plain(), plain())
        return n

    @sio.event
    async def kick_me(sid):
        await sio.disconnect(sid)

    class Chat(socketio.AsyncNamespace):
        async def on_connect(self, sid, environ, auth):
            return await admit(sid, auth, '/chat')

        async def on_whoami(self, sid):
            return await whoami(sid, '/chat')

        def on_disconnect(self, sid, reason):
            records.add('/chat', sid, reason)

    sio.register_namespace(Chat('/chat'))

    @sio.on('connect', namespace='/ctl')
    async def ctl_connect(sid, environ, auth):
        return True

    @sio.on('wait_disconnect', namespace='/ctl')
    async def wait_disconnect(sid, query):
        until = common.deadline()
        while records.get(query['ns'], query['sid']) is None and \
                not common.expired(until):
            await sio.sleep(0.01)
        return records.get(query['ns'], query['sid'])

    return sio


sio = make_server()
app = socketio.ASGIApp(sio, static_files=common.STATIC_FILES)
