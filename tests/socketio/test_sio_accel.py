"""engineio_fast.sio_accel: python-socketio's emit without a task per
recipient, python-socketio's behaviour unchanged. A python-socketio
AsyncServer under uvicorn and python-socketio's AsyncClient, both on
engineio_fast, in a fresh interpreter (the switch must come before
``import socketio``), with the accelerations on and off."""

import json
import textwrap

import pytest

from .inproc import run_script

SCRIPT = textwrap.dedent('''
    import asyncio, json, logging, sys
    import engineio_fast
    engineio_fast.install(**json.loads(sys.argv[1]))
    import socketio
    from tests.socketio.inproc import start_uvicorn

    sio = socketio.AsyncServer(async_mode='asgi')
    calls, order, tasks = [], [], []

    @sio.event
    async def echo(sid, data):
        calls.append(1)
        tasks.append(asyncio.current_task())  # kept: no id is reused
        async with asyncio.timeout(5):      # needs a task of its own
            return data

    @sio.event
    async def step(sid, name, pause):
        order.append('start ' + name)
        mine = asyncio.current_task()
        async with asyncio.timeout(5):      # captures the task, suspends
            await asyncio.sleep(pause)
        assert asyncio.current_task() is mine
        order.append('end ' + name)
        return name

    @sio.event
    async def boom(sid):
        raise ValueError('handler error')

    @sio.event
    async def boom_later(sid):
        await asyncio.sleep(0.01)
        raise ValueError('suspended handler error')

    async def main():
        url, stop = await start_uvicorn(socketio.ASGIApp(sio))
        client = socketio.AsyncClient(reconnection=False)
        await asyncio.wait_for(client.connect(
            url, transports=['websocket']), 10)
        echoed = await asyncio.gather(*[
            client.call('echo', i, timeout=10) for i in range(50)])
        await client.emit('boom')
        await client.emit('boom_later')
        # a slow one, then a quick one: the quick one does not wait
        stepped = await asyncio.gather(
            client.call('step', ('slow', 0.3), timeout=10),
            client.call('step', ('quick', 0), timeout=10))
        after = await client.call('echo', 'still here', timeout=10)
        await client.disconnect()
        await stop()
        print(json.dumps({
            'echoed': echoed, 'calls': len(calls),
            'tasks': len(set(tasks)),
            'bodies': sorted({t.get_coro().__qualname__ for t in tasks}),
            'order': order, 'stepped': stepped, 'after': after,
            'accel': engineio_fast.sio_accel.enabled,
            'packet': sio.packet_class.__module__}))

    asyncio.run(main())
''')


@pytest.mark.parametrize('env_value,install,accel', [
    ('1', {}, True), ('0', {}, False),
    ('1', {'accelerate': False}, False), ('0', {'accelerate': True}, True)],
    ids=['on', 'env-off', 'install-off', 'install-on'])
def test_switches_and_event_behaviour(tmp_path, env_value, install, accel):
    """The environment variable and install(accelerate=...) turn the
    accelerations on and off; python-socketio's event handling is the same
    either way."""
    out, stderr = run_script(tmp_path, SCRIPT, json.dumps(install),
                             env={'ENGINEIO_FAST_SOCKETIO_ACCEL': env_value})
    assert out['accel'] is accel
    # the Socket.IO packets on the kernels (engineio_fast/sio_packet.py)
    assert out['packet'] == ('engineio_fast.sio_packet' if accel
                             else 'socketio.packet')
    # python-socketio's behaviour either way: every call answered, in
    # order; a handler's error leaves the connection working; a handler
    # that suspends does not hold up the next event, and events start in
    # the order they came
    assert out['echoed'] == list(range(50))
    assert out['calls'] == 51
    # each event's handler in a Task of its own (never the connection's),
    # but not a new Task per event where the handler does not suspend
    # (engineio_fast.sio_accel: started at once in a lent Task)
    if accel:
        assert out['tasks'] <= 3, out['tasks']
        assert out['bodies'] == ['_carry']      # engineio_fast/_eager.py
    else:
        assert out['tasks'] == 51
        assert out['bodies'] == ['AsyncServer._handle_event_internal']
    assert out['after'] == 'still here'
    assert out['stepped'] == ['slow', 'quick']
    assert out['order'] == ['start slow', 'start quick', 'end quick',
                            'end slow']
    assert 'handler error' in stderr      # logged, the connection goes on
    assert 'suspended handler error' in stderr


EMITS = textwrap.dedent('''
    import asyncio, json, sys, types
    import engineio_fast
    switch, manager = (sys.argv[2:] + ['switch', 'default'])[:2]
    if switch == 'switch':
        engineio_fast.install()
    import socketio, socketio.async_manager
    from tests.socketio.inproc import start_uvicorn

    # count the tasks python-socketio's manager starts
    made = []
    real = socketio.async_manager.asyncio
    counting = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real)
                                        if not k.startswith('__')})
    def create_task(coro, **kw):
        made.append(1)
        return real.create_task(coro, **kw)
    counting.create_task = create_task
    socketio.async_manager.asyncio = counting

    sio = socketio.AsyncServer(
        async_mode='asgi',
        client_manager=engineio_fast.sio_accel.AsyncManager()
        if manager == 'ours' else None)
    sids = []

    def plain(v):        # bytes as hex, for JSON
        if isinstance(v, bytes):
            return v.hex()
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    @sio.event
    async def connect(sid, environ, auth):
        sids.append((auth['k'], sid))
        await sio.enter_room(sid, 'a' if auth['k'] < 3 else 'b')

    @sio.event
    async def go(sid):
        by = dict(sids)
        await sio.emit('x', 'to all')
        await sio.emit('x', {'room': 'a'}, to='a')
        await sio.emit('x', ['a and b', 2], to=['a', 'b'], skip_sid=by[0])
        await sio.emit('x', ('two', 'args'), to=by[4])
        await sio.emit('x', b'\\x00\\x01binary', room='b')
        await sio.emit('x', {'nested': [b'\\xff', 'text']}, to=by[1])
        await sio.emit('x', None, to='a')
        answer = await sio.call('q', 'question', to=by[5], timeout=5)
        await sio.emit('x', 'nobody', to='no such room')
        return answer

    async def main():
        url, stop = await start_uvicorn(socketio.ASGIApp(sio))
        clients, got = [], {}
        for k in range(6):
            c = socketio.AsyncClient(reconnection=False)
            got[k] = []
            c.on('x', (lambda k: lambda *a: got[k].append(plain(a)))(k))
            c.on('q', lambda text: text.upper())
            await asyncio.wait_for(c.connect(
                url, auth={'k': k}, transports=[sys.argv[1]]), 10)
            clients.append(c)
        made.clear()
        answer = await clients[0].call('go', timeout=10)
        await asyncio.sleep(0.3)            # the last emits arrive
        for c in clients:
            await c.disconnect()
        await stop()
        print(json.dumps({'got': got, 'answer': answer, 'tasks': len(made),
                          'accel': engineio_fast.sio_accel.enabled,
                          'engine': type(sio.eio).__module__,
                          'manager': type(sio.manager).__module__}))

    asyncio.run(main())
''')


def run_emits(tmp_path, accel, transport):
    return run_script(tmp_path, EMITS, transport,
                      env={'ENGINEIO_FAST_SOCKETIO_ACCEL': accel})[0]


@pytest.mark.parametrize('transport', ['websocket', 'polling'])
def test_emit_delivers_as_python_socketio_does(tmp_path, transport):
    """Every form of emit (all, a room, rooms with skip_sid, a sid, several
    arguments, binary, nested binary, no data, a call with its ack, a room
    of nobody) reaches the same clients with the same data in the same
    order as python-socketio's own emit, without a task per recipient."""
    fast = run_emits(tmp_path, '1', transport)
    plain = run_emits(tmp_path, '0', transport)
    assert fast['accel'] and not plain['accel']
    assert fast['got'] == plain['got']
    assert fast['answer'] == plain['answer'] == 'QUESTION'
    got = fast['got']
    assert got['0'] == [['to all'], [{'room': 'a'}], []]
    assert got['1'][-2] == [{'nested': [b'\xff'.hex(), 'text']}]
    assert got['4'] == [['to all'], [['a and b', 2]], ['two', 'args'],
                        [b'\x00\x01binary'.hex()]]
    assert plain['tasks'] >= 20       # python-socketio's: one per recipient
    assert fast['tasks'] == 0, fast['tasks']


@pytest.mark.parametrize('switch', ['switch', 'noswitch'])
def test_manager_for_client_manager(tmp_path, switch):
    """engineio_fast.sio_accel.AsyncManager, passed as python-socketio's
    client_manager=, delivers every form of emit as python-socketio's own
    AsyncManager does, without a task per recipient: on engineio_fast (the
    switch; also with the automatic accelerations off) and on
    python-engineio (no switch)."""
    env = {'ENGINEIO_FAST_SOCKETIO_ACCEL': '0'}
    ours = run_script(tmp_path, EMITS, 'websocket', switch, 'ours',
                      env=env)[0]
    theirs = run_script(tmp_path, EMITS, 'websocket', switch, 'default',
                        env=env)[0]
    engine = 'engineio_fast' if switch == 'switch' else 'engineio'
    assert ours['engine'].split('.')[0] == theirs['engine'].split('.')[0] \
        == engine
    assert ours['manager'] == 'engineio_fast.sio_accel'
    assert theirs['manager'] == 'socketio.async_manager'
    assert ours['got'] == theirs['got']
    assert ours['answer'] == theirs['answer'] == 'QUESTION'
    assert theirs['tasks'] >= 20
    assert ours['tasks'] == 0, ours['tasks']


THREADED = textwrap.dedent('''
    import json, sys, threading
    import engineio_fast
    engineio_fast.install()
    import socketio
    from werkzeug.serving import make_server

    N = 300
    sent_through = []

    class Subclassed(socketio.Server):
        def _send_eio_packet(self, eio_sid, eio_pkt):
            sent_through.append(1)
            return super()._send_eio_packet(eio_sid, eio_pkt)

    def make(cls, **kwargs):
        sio = cls(async_mode='threading', **kwargs)

        @sio.event
        def flood(sid, n):
            # binary emits from one thread, plain ones from two more
            def binary():
                for i in range(n):
                    sio.emit('bin', (i, bytes([i % 256]) * 3), to=sid)

            def plain():
                for i in range(n):
                    sio.emit('txt', i, to=sid)
            if cls is Subclassed:
                # python-socketio's own emit: one thread (see the test)
                for f in (binary, plain, plain):
                    f()
                return n
            tasks = [sio.start_background_task(f)
                     for f in (binary, plain, plain)]
            for task in tasks:
                task.join()
            return n

        @sio.event
        def back(sid, data):
            return data[::-1]       # a binary ack: Server._send_packet
        return sio

    def run(cls, **kwargs):
        sio = make(cls, **kwargs)
        server = make_server('127.0.0.1', 0, socketio.WSGIApp(sio),
                             threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = socketio.Client(reconnection=False)
        bins, txts = [], []
        client.on('bin', lambda i, data: bins.append([i, data.hex()]))
        client.on('txt', lambda i: txts.append(i))
        client.connect('http://127.0.0.1:%d' % server.server_port,
                       transports=[sys.argv[1]], wait_timeout=10)
        answer = client.call('flood', N, timeout=20)
        backs = [client.call('back', bytes([k, 1, 2]), timeout=10).hex()
                 for k in range(20)]
        client.disconnect()
        server.shutdown()
        wrong = [b for k, b in enumerate(bins)
                 if b != [k, ('%02x' % (k % 256)) * 3]]
        return {'answer': answer, 'bins': len(bins), 'wrong': wrong[:3],
                'txts': len(txts), 'backs': backs}

    import socketio.manager, socketio.server
    out = {'ours': run(socketio.Server)}
    out['patched'] = [
        hasattr(socketio.manager.Manager.emit, '__wrapped__'),
        hasattr(socketio.server.Server._send_packet, '__wrapped__')]
    out['subclassed'] = run(Subclassed)
    # the class for client_manager= (engineio_fast.sio_accel.Manager)
    out['manager_class'] = run(
        socketio.Server, client_manager=engineio_fast.sio_accel.Manager())
    out['through_subclass'] = len(sent_through)
    print(json.dumps(out))
''')


@pytest.mark.parametrize('transport', ['websocket', 'polling'])
def test_threads_never_tear_a_packet(tmp_path, transport):
    """python-socketio's Server in threading mode: binary emits from one
    thread and plain ones from two more, to one client at once, arrive
    whole (python-socketio sends a binary packet's header and attachments
    with one send() each; another thread's send can come between them and
    the client's decoder then fails). A binary ack (Server._send_packet)
    too. A Server subclass with its own ``_send_eio_packet`` still has it
    called: python-socketio's emit runs for it as it is (its parts are
    sent one by one, so this flood runs in one thread there)."""
    out = run_script(tmp_path, THREADED, transport)[0]
    assert out['patched'] == [True, True]
    backs = [bytes([2, 1, k]).hex() for k in range(20)]
    for name in ('ours', 'subclassed', 'manager_class'):
        assert out[name] == {'answer': 300, 'bins': 300, 'wrong': [],
                             'txts': 600, 'backs': backs}, name
    assert out['through_subclass'] >= 900


ROOMS = textwrap.dedent('''
    import asyncio, json
    import engineio_fast
    engineio_fast.install()
    import socketio, socketio.async_manager, socketio.packet
    from hypothesis import given, settings, strategies as st
    from engineio_fast.protocol.http import Request

    CLIENTS = 4

    class PlainManager(socketio.AsyncManager):
        """python-socketio's own emit (a task per recipient): taken before
        any server is made (the first one replaces AsyncManager.emit)."""
        emit = socketio.async_manager.AsyncManager.emit

    async def open_clients(sio):
        """CLIENTS sessions on the engine (sans-I/O handshakes), each
        connected to '/' through python-socketio; their sids in order."""
        engine = sio.eio._engine
        now = asyncio.get_running_loop().time()     # the server's clock
        sids = []
        for _ in range(CLIENTS):
            req = Request('GET', {'EIO': '4', 'transport': 'polling'}, {},
                          'http', None, False, {})
            out = engine.handle_http(req, now)
            engine.connect_done(out, req, (True, None), now)
            eio_sid = out.session.sid
            await sio._handle_eio_connect(eio_sid, {})
            await sio._handle_eio_message(eio_sid, '0')
            sids.append((sio.manager.sid_from_eio_sid(eio_sid, '/'),
                         out.session))
        for _, session in sids:
            session.queue.clear()
            session.queue_bytes = 0
        return sids

    async def play(sio, ops):
        clients = await open_clients(sio)
        sid = [c[0] for c in clients]
        for op in ops:
            kind = op[0]
            if kind == 'enter':
                await sio.enter_room(sid[op[1]], op[2])
            elif kind == 'leave':
                await sio.leave_room(sid[op[1]], op[2])
            elif kind == 'close':
                await sio.close_room(op[1])
            else:
                _, data, to, skip = op
                if isinstance(to, int):
                    to = sid[to]
                elif isinstance(to, list):
                    to = [sid[t] if isinstance(t, int) else t for t in to]
                if isinstance(skip, int):
                    skip = sid[skip]
                elif isinstance(skip, list):
                    skip = [sid[k] for k in skip]
                await sio.emit('x', data, to=to, skip_sid=skip)
        await asyncio.sleep(0)
        return [[i if isinstance(i, str) else i.hex()
                 for i in session.queue] for _, session in clients]

    def servers():
        fast = socketio.AsyncServer(async_mode='asgi')
        plain = socketio.AsyncServer(async_mode='asgi',
                                     client_manager=PlainManager())
        plain.packet_class = socketio.packet.Packet
        assert hasattr(socketio.async_manager.AsyncManager.emit,
                       '__wrapped__')
        assert not hasattr(PlainManager.emit, '__wrapped__')
        assert fast.packet_class is not socketio.packet.Packet
        return fast, plain

    rooms = st.sampled_from(['a', 'b', 'c'])
    client = st.integers(0, CLIENTS - 1)
    leaf = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3),
                     st.binary(max_size=3))
    data = st.recursive(leaf, lambda inner: st.lists(inner, max_size=2)
                        | st.dictionaries(st.text(max_size=2), inner,
                                          max_size=2), max_leaves=5)
    target = st.one_of(st.none(), rooms, client,
                       st.lists(st.one_of(rooms, client), max_size=3))
    skip = st.one_of(st.none(), client, st.lists(client, max_size=2))
    ops = st.lists(st.one_of(
        st.tuples(st.just('enter'), client, rooms),
        st.tuples(st.just('leave'), client, rooms),
        st.tuples(st.just('close'), rooms),
        st.tuples(st.just('emit'), st.one_of(data, st.tuples(data, data)),
                  target, skip)), max_size=12)
    checked = []

    @settings(max_examples=60, deadline=None)
    @given(ops)
    def same(ops):
        async def both():
            fast, plain = servers()
            return await play(fast, ops), await play(plain, ops)
        got_fast, got_plain = asyncio.run(both())
        assert got_fast == got_plain, (ops, got_fast, got_plain)
        checked.append(sum(len(q) for q in got_fast))

    same()
    print(json.dumps({'examples': len(checked),
                      'delivered': sum(checked)}))
''')


def test_rooms_and_emits_as_python_socketio(tmp_path):
    """Hypothesis-generated room operations (enter, leave, close) and emits
    (to everyone, a room, a sid, a list of rooms and sids, with skip_sid;
    text, nested and binary data, several arguments) on two python-socketio
    servers on engineio_fast: the accelerated emit and packet class, and
    python-socketio's own emit and Packet. Each client's queue holds the
    same items, byte for byte, in the same order."""
    out = run_script(tmp_path, ROOMS, timeout=240)[0]
    assert out['examples'] >= 50
    assert out['delivered'] > 0
