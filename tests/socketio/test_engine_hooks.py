"""What python-socketio's admin instrumentation replaces, taking effect on
engineio_fast's servers with python-engineio's meaning: ``handle_post_request``,
``_websocket_handler`` and ``_send_ping`` replaced on
``engineio_fast.socket.Socket`` / ``async_socket.AsyncSocket`` at class level,
``send``/``wait`` on the ``ws`` object, ``eio._ok`` on the server; and
``eio.sockets`` / ``eio._get_socket()``. On the built-in server, uvicorn and
the sync Server under Werkzeug, with raw clients (every byte known), the
replacements installed in the shape python-socketio gives them (wrappers
around the originals, ``functools.partialmethod`` on the class) and removed
the way its ``uninstrument()`` does.

No python-socketio here: the pytest process may hold python-engineio, and
these are engineio_fast's own classes."""

import functools
import json
import threading
import time

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

import engineio_fast
from engineio_fast.async_socket import AsyncSocket
from engineio_fast.protocol import instrument as _instrument
from engineio_fast.socket import Socket

from ..support import BuiltinServer, LiveServer, WerkzeugServer

WAIT = 5.0
KINDS = ['builtin', 'uvicorn', 'werkzeug']
EIO = '/engine.io/?EIO=4'


def wait_for(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Hooks:
    """Replacements of python-socketio's shape that log what they see.

    ``send_map``/``wait_map`` change what ``ws.send``/``ws.wait`` pass on,
    ``ok_header`` is added to every ``_ok`` answer, ``post=False`` makes
    ``handle_post_request`` drop the POST (the original is not called),
    ``ping=False`` makes ``_send_ping`` send nothing.
    """

    def __init__(self, servers, send_map=None, wait_map=None,
                 ok_header=None, post=True, ping=True):
        self.servers = servers
        self.send_map = send_map or (lambda data: data)
        self.wait_map = wait_map or (lambda data: data)
        self.ok_header = ok_header
        self.call_post = post
        self.call_ping = ping
        self.lock = threading.Lock()
        self.log = []
        self.saved = []

    def add(self, *entry):
        with self.lock:
            self.log.append(entry)

    def of(self, kind):
        with self.lock:
            return [e[1:] for e in self.log if e[0] == kind]

    # -- the replacements: (socket, hooks, original, arguments...), bound
    # -- to the socket class with partialmethod as python-socketio does
    def _sync_post(sock, self, real, environ):
        ret = real(sock, environ) if self.call_post else None
        self.add('post', sock.sid, int(environ.get('CONTENT_LENGTH', 0)))
        return ret

    async def _async_post(sock, self, real, environ):
        ret = await real(sock, environ) if self.call_post else None
        self.add('post', sock.sid, int(environ.get('CONTENT_LENGTH', 0)))
        return ret

    def _sync_ws(sock, self, real, ws):
        hooks, send, wait = self, ws.send, ws.wait

        def new_send(data, *args, **kwargs):
            hooks.add('send', sock.sid, data)
            return send(hooks.send_map(data), *args, **kwargs)

        def new_wait():
            data = wait()
            hooks.add('wait', sock.sid, data)
            return hooks.wait_map(data)

        ws.send, ws.wait = new_send, new_wait
        self.add('ws', sock.sid, sock.upgraded)
        return real(sock, ws)

    async def _async_ws(sock, self, real, ws):
        hooks, send, wait = self, ws.send, ws.wait

        async def new_send(data):
            hooks.add('send', sock.sid, data)
            return await send(hooks.send_map(data))

        async def new_wait():
            data = await wait()
            hooks.add('wait', sock.sid, data)
            return hooks.wait_map(data)

        ws.send, ws.wait = new_send, new_wait
        self.add('ws', sock.sid, sock.upgraded)
        return await real(sock, ws)

    def _sync_ping(sock, self, real):
        self.add('ping', sock.sid)
        if self.call_ping:
            return real(sock)

    async def _async_ping(sock, self, real):
        self.add('ping', sock.sid)
        if self.call_ping:
            return await real(sock)

    def _ok(self, real, packets=None, headers=None, jsonp_index=None):
        ret = real(packets=packets, headers=headers, jsonp_index=jsonp_index)
        self.add('ok', None if packets is None else
                 [p.encode(b64=True) for p in packets], ret['response'])
        if self.ok_header:
            ret['headers'] = ret['headers'] + [self.ok_header]
        return ret

    # -- install / remove, as instrument() / uninstrument() ---------------------
    def __enter__(self):
        for cls, kind in ((Socket, '_sync'), (AsyncSocket, '_async')):
            for name, mine in (('handle_post_request', '_post'),
                               ('_websocket_handler', '_ws'),
                               ('_send_ping', '_ping')):
                real = getattr(cls, name)
                self.saved.append((cls, name, real))
                setattr(cls, name, functools.partialmethod(
                    getattr(Hooks, kind + mine), self, real))
        for eio in self.servers:
            real_ok = eio._ok
            self.saved.append((eio, '_ok', real_ok))
            eio._ok = functools.partial(self._ok, real_ok)
        return self

    def __exit__(self, *exc):
        for obj, name, real in reversed(self.saved):
            setattr(obj, name, real)


def no_hooks_on(eio):
    """True when the engine runs its own methods only."""
    engine = eio._engine
    shadows = set(vars(engine)) & set(_instrument.SHADOWED)
    return shadows == {'_reply'} and engine._reply == engine.policy.text


class Server:
    """``kind`` serving an echo Engine.IO server that records handler
    events (thread-safe)."""

    def __init__(self, kind, **options):
        self.kind = kind
        self.events = []
        self.lock = threading.Lock()
        if kind == 'werkzeug':
            self.eio = eio = engineio_fast.Server(async_mode='threading',
                                                  **options)

            @eio.on('message')
            def message(sid, data):
                self.add('message', sid, data)
                eio.send(sid, data)

            self.live = WerkzeugServer(eio)
        else:
            self.eio = eio = engineio_fast.AsyncServer(**options)

            @eio.on('message')
            async def message(sid, data):
                self.add('message', sid, data)
                await eio.send(sid, data)

            app = engineio_fast.ASGIApp(eio)
            cls = BuiltinServer if kind == 'builtin' else LiveServer
            self.live = cls(app).start()

        @eio.on('disconnect')
        def disconnect(sid, reason):
            self.add('disconnect', sid, reason)

        self.url = 'http://127.0.0.1:%d' % self.live.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.live.port

    def add(self, *event):
        with self.lock:
            self.events.append(event)

    def of(self, kind):
        with self.lock:
            return [e[1:] for e in self.events if e[0] == kind]

    def stop(self):
        self.live.stop()


@pytest.fixture(params=KINDS)
def server(request):
    srv = Server(request.param, ping_interval=25)
    yield srv
    srv.stop()


def poll_open(srv, client):
    r = client.get(srv.url + EIO + '&transport=polling')
    assert r.status_code == 200, r.text
    return json.loads(r.text[1:])['sid'], r


def test_polling_counts_and_ok_answers(server):
    """handle_post_request sees each POST with its Content-Length; _ok
    renders every answer (handshake, POST, GET), what it returns is sent."""
    eio = server.eio
    assert no_hooks_on(eio)
    with Hooks([eio], ok_header=('X-Hooked', 'yes')) as hooks, \
            httpx.Client(timeout=WAIT) as client:
        assert not no_hooks_on(eio)
        sid, first = poll_open(server, client)
        assert first.headers['x-hooked'] == 'yes'
        url = server.url + EIO + '&transport=polling&sid=' + sid
        body = '4hello\x1e4w\u00f6rld'
        posted = client.post(url, content=body.encode())
        assert (posted.status_code, posted.text) == (200, 'ok')
        assert posted.headers['x-hooked'] == 'yes'
        got = client.get(url)
        assert got.text == '4hello\x1e4w\u00f6rld'
        assert got.headers['x-hooked'] == 'yes'
        assert eio.sockets[sid].upgraded is False
        assert eio._get_socket(sid).sid == sid
        assert len(eio.sockets) == 1 and list(eio.sockets) == [sid]
    assert hooks.of('post') == [(sid, len(body.encode()))]
    oks = hooks.of('ok')
    assert len(oks) == 3
    handshake, post_ok, poll = oks
    assert handshake[0][0].startswith('0{"sid":"%s"' % sid)
    assert handshake[1] == first.content
    assert post_ok == (None, b'ok')
    assert poll == (['4hello', '4w\u00f6rld'], got.content)
    assert server.of('message') == [(sid, 'hello'), (sid, 'w\u00f6rld')]
    # put back as uninstrument() does: the engine's own methods again
    assert no_hooks_on(eio)


def test_websocket_send_and_wait(server):
    """ws.wait sees (and may change) every message received, ws.send every
    message sent, the open packet first; what they pass on is what the
    engine reads and the client gets."""
    eio = server.eio

    def send_map(data):
        return data + '!' if data[:1] == '4' else data

    def wait_map(data):
        return '4changed' if data == '4change me' else data

    with Hooks([eio], send_map=send_map, wait_map=wait_map) as hooks, \
            ws_connect(server.ws_url + EIO + '&transport=websocket') as ws:
        opened = ws.recv(timeout=WAIT)
        sid = json.loads(opened[1:])['sid']
        assert eio._get_socket(sid).upgraded is True
        ws.send('4hi')
        assert ws.recv(timeout=WAIT) == '4hi!'
        ws.send('4change me')
        assert ws.recv(timeout=WAIT) == '4changed!'
        ws.send(b'\x00\x01')
        assert ws.recv(timeout=WAIT) == b'\x00\x01'
    assert wait_for(lambda: server.of('disconnect'))
    assert hooks.of('ws') == [(sid, True)]
    assert hooks.of('wait') == [(sid, '4hi'), (sid, '4change me'),
                                (sid, b'\x00\x01')]
    assert hooks.of('send') == [(sid, opened), (sid, '4hi'),
                                (sid, '4changed'), (sid, b'\x00\x01')]
    assert server.of('message') == [(sid, 'hi'), (sid, 'changed'),
                                    (sid, b'\x00\x01')]
    assert server.of('disconnect') == [(sid, 'transport close')]
    assert no_hooks_on(eio)


def test_upgrade_goes_through_the_websocket_handler(server):
    """The upgrade probe is a websocket handed to _websocket_handler (as in
    python-engineio): '2probe' and '5' through ws.wait, '3probe' through
    ws.send; the socket reports upgrading, then upgraded."""
    eio = server.eio
    with Hooks([eio]) as hooks, httpx.Client(timeout=WAIT) as client:
        sid, _ = poll_open(server, client)
        url = EIO + '&transport=websocket&sid=' + sid
        with ws_connect(server.ws_url + url) as ws:
            ws.send('2probe')
            assert ws.recv(timeout=WAIT) == '3probe'
            assert eio._get_socket(sid).upgrading is True
            ws.send('5')
            assert wait_for(lambda: eio._get_socket(sid).upgraded)
            assert [s.upgraded for s in eio.sockets.values()] == [True]
            ws.send('4up')
            assert ws.recv(timeout=WAIT) == '4up'
    assert hooks.of('ws') == [(sid, False)]
    assert hooks.of('wait') == [(sid, '2probe'), (sid, '5'), (sid, '4up')]
    assert hooks.of('send') == [(sid, '3probe'), (sid, '4up')]


@pytest.mark.parametrize('kind', KINDS)
def test_pings_go_through_send_ping(kind):
    """_send_ping runs for every ping the heartbeat sends, and the ping is
    what its original sends: a replacement that does not call it leaves the
    client without pings, and the session ends with 'ping timeout'."""
    # pings every 0.2 s; the pong window is wider (1.5 s): the server runs
    # in a thread of this process, and with the other test process busy
    # beside it (pure kernels) an answer once took over 0.3 s
    srv = Server(kind, ping_interval=0.2, ping_timeout=1.5)
    try:
        with Hooks([srv.eio]) as hooks, \
                ws_connect(srv.ws_url + EIO + '&transport=websocket') as ws:
            sid = json.loads(ws.recv(timeout=WAIT)[1:])['sid']
            for _ in range(3):
                assert ws.recv(timeout=WAIT) == '2'
                ws.send('3')
            pings = len(hooks.of('ping'))
            assert pings >= 3
        with Hooks([srv.eio], ping=False) as hooks, \
                ws_connect(srv.ws_url + EIO + '&transport=websocket') as ws:
            mute = json.loads(ws.recv(timeout=WAIT)[1:])['sid']
            assert wait_for(lambda: (mute, 'ping timeout') in
                            srv.of('disconnect'))
            assert hooks.of('ping') == [(mute,)]
            # nothing but the close: no ping ever reached the client
            rest = []
            try:
                while True:
                    rest.append(ws.recv(timeout=WAIT))
            except Exception:
                pass
            assert '2' not in rest
        assert no_hooks_on(srv.eio)
    finally:
        srv.stop()
    assert (sid, 'transport close') in srv.of('disconnect') or \
        (sid, 'client disconnect') in srv.of('disconnect')


def test_a_post_the_replacement_does_not_pass_on(server):
    """A handle_post_request that never calls the original takes the POST
    without reading it (python-engineio answers it all the same)."""
    eio = server.eio
    with Hooks([eio], post=False) as hooks, \
            httpx.Client(timeout=WAIT) as client:
        sid, _ = poll_open(server, client)
        url = server.url + EIO + '&transport=polling&sid=' + sid
        posted = client.post(url, content=b'4dropped')
        assert (posted.status_code, posted.text) == (200, 'ok')
    assert hooks.of('post') == [(sid, 8)]
    with httpx.Client(timeout=WAIT) as client:
        client.post(url, content=b'4kept')
        assert client.get(url).text == '4kept'
    assert server.of('message') == [(sid, 'kept')]


def test_only_ok_replaced(server):
    """Each replacement is followed on its own: with only eio._ok replaced,
    websockets run the engine's own methods."""
    eio = server.eio
    real_ok = eio._ok
    seen = []

    def ok(packets=None, headers=None, jsonp_index=None):
        ret = real_ok(packets=packets, headers=headers,
                      jsonp_index=jsonp_index)
        seen.append(len(ret['response']))
        return ret

    eio._ok = ok
    try:
        engine = eio._engine
        assert set(vars(engine)) & set(_instrument.SHADOWED) == {
            '_reply', '_ok'}
        with httpx.Client(timeout=WAIT) as client:
            sid, first = poll_open(server, client)
        assert seen == [len(first.content)]
    finally:
        eio._ok = real_ok
    assert no_hooks_on(eio)


def test_sockets_view():
    """eio.sockets and eio._get_socket() on a server with no session, and
    the KeyError python-engineio raises for an unknown sid."""
    eio = engineio_fast.AsyncServer()
    assert len(eio.sockets) == 0 and list(eio.sockets.values()) == []
    assert 'nope' not in eio.sockets
    with pytest.raises(KeyError):
        eio._get_socket('nope')
    with pytest.raises(KeyError):
        eio.sockets['nope']
    assert no_hooks_on(eio)


def test_a_replacement_that_suspends():
    """An asyncio replacement that suspends before calling the original is
    finished as a task; the server goes on without waiting for it (the POST
    is read, its messages handled)."""
    srv = Server('uvicorn')

    async def post(sock, environ, real):
        import asyncio
        await asyncio.sleep(0)
        return await real(sock, environ)

    real = AsyncSocket.handle_post_request
    AsyncSocket.handle_post_request = functools.partialmethod(post, real)
    try:
        with httpx.Client(timeout=WAIT) as client:
            sid, _ = poll_open(srv, client)
            url = srv.url + EIO + '&transport=polling&sid=' + sid
            assert client.post(url, content=b'4still').status_code == 200
            assert client.get(url).text == '4still'
    finally:
        AsyncSocket.handle_post_request = real
        srv.stop()
    assert srv.of('message') == [(sid, 'still')]
    assert no_hooks_on(srv.eio)


def test_sync_async_handlers_is_writable():
    """Flask-SocketIO's test client sets eio.async_handlers = False: the
    sync Server then runs handlers in the thread that received the
    message, and in its handler pool again once set back to True."""
    from engineio_fast.adapters.wsgi.dispatch import WORKER_NAME

    eio = engineio_fast.Server(async_mode='threading')
    threads = []

    @eio.on('message')
    def message(sid, data):
        threads.append((data, threading.current_thread().name))

    srv = WerkzeugServer(eio)
    try:
        with httpx.Client(timeout=WAIT) as client:
            r = client.get(srv.url + EIO + '&transport=polling')
            sid = json.loads(r.text[1:])['sid']
            url = srv.url + EIO + '&transport=polling&sid=' + sid
            assert eio.async_handlers is True
            client.post(url, content=b'4pool')
            assert wait_for(lambda: len(threads) == 1)
            eio.async_handlers = False
            assert eio.async_handlers is False
            client.post(url, content=b'4inline')
            assert wait_for(lambda: len(threads) == 2)
    finally:
        srv.stop()
    assert threads[0] == ('pool', WORKER_NAME)
    assert threads[1][0] == 'inline' and threads[1][1] != WORKER_NAME


@pytest.mark.parametrize('hooks', [False, True])
def test_hook_path_benchmark_runs(hooks):
    """benchmarks/hook_path.py (the figures of the plain and instrumented
    paths) runs against today's package, at tiny sizes; with --hooks its
    counting replacements see every POST, answer and websocket message."""
    import ast
    import os
    import subprocess
    import sys

    from ..sync.servers import REPO_ROOT

    args = [sys.executable, os.path.join(REPO_ROOT, 'benchmarks',
                                         'hook_path.py'),
            '--count', '20', '--batch', '4', '--rounds', '1']
    out = subprocess.run(args + (['--hooks'] if hooks else []), cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(None, 1) for line in out.stdout.splitlines()
                 if line.startswith(('poll-', 'ws-')))
    assert sorted(lines) == ['poll-builtin', 'poll-wsgi', 'ws-builtin',
                             'ws-wsgi']
    assert all(float(v.split()[0]) > 0 for v in lines.values())
    counted = [line for line in out.stdout.splitlines()
               if line.startswith('counted:')]
    if not hooks:
        assert counted == []
        return
    totals = ast.literal_eval(counted[0].split(':', 1)[1].strip())
    # 2 polling benchmarks x 20 POSTs, 2 websocket ones x 20 x 4 frames
    assert totals['packetsIn'] == 2 * 20 + 2 * 20 * 4
    assert totals['bytesIn'] == 32 * totals['packetsIn']
    assert totals['packetsOut'] >= totals['packetsIn']


UNINSTRUMENT = '''
import json
import engineio_fast
engineio_fast.install()
import socketio
from engineio_fast.protocol import instrument

def shadows(sio):
    engine = sio.eio._engine
    return sorted(name for name in instrument.SHADOWED
                  if name in vars(engine) and name != '_reply')

out = {}
for name, sio in (('async', socketio.AsyncServer(async_mode='asgi')),
                  ('sync', socketio.Server(async_mode='threading'))):
    before = shadows(sio)
    admin = sio.instrument(auth=False)
    during = shadows(sio)
    admin.uninstrument()
    out[name] = [before, during, shadows(sio),
                 sio.eio._engine._reply == sio.eio._engine.policy.text]
print(json.dumps(out))
'''


def test_python_socketio_instrument_and_uninstrument():
    """python-socketio's own instrument() installs every hook on the
    engine of its server (sync and asyncio), and its uninstrument() takes
    them all away again (in a subprocess: the switch comes first)."""
    import os
    import subprocess
    import sys

    from ..sync.servers import REPO_ROOT

    out = subprocess.run([sys.executable, '-c', UNINSTRUMENT],
                         capture_output=True, text=True, timeout=60,
                         cwd=REPO_ROOT,
                         env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    assert out.returncode == 0, out.stderr[-3000:]
    every = sorted(set(_instrument.SHADOWED) - {'_reply'})
    assert json.loads(out.stdout) == {
        'async': [[], every, [], True], 'sync': [[], every, [], True]}
