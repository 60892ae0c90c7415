"""engineio_fast.Client and AsyncClient: the sans-I/O helpers of
engineio_fast.protocol.client_machine byte for byte (the machine itself:
tests/protocol/test_client_machine.py), then both clients over real
sockets on 127.0.0.1 against our own servers (AsyncServer under uvicorn,
the threading Server on Werkzeug) and against small scripted servers that
misbehave (silence, garbage, unknown packets, 500s, oversized bodies)."""

import asyncio
import http.server
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings

import httpx
import pytest
from websockets.sync.server import serve as ws_serve

import engineio_fast as engineio
from engineio_fast import exceptions
from engineio_fast.protocol import client_machine as core

from ..ports import free_port
from ..support import LiveServer, WerkzeugServer, make_cert

pytestmark = pytest.mark.timeout(60)
WAIT = 5.0
SLACK = 1.5
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
loads = json.loads
dumps = json.JSONEncoder(separators=(',', ':')).encode


# ---------------------------------------------------------------------------
# the sans-I/O core

def test_engineio_url():
    u = core.engineio_url
    assert u('http://h:1', 'engine.io', 'polling') == \
        'http://h:1/engine.io/?transport=polling&EIO=4'
    assert u('ws://h:1/x', '/socket.io/', 'websocket') == \
        'ws://h:1/socket.io/?transport=websocket&EIO=4'
    assert u('wss://h?a=1&b=2', 'p', 'polling') == \
        'https://h/p/?a=1&b=2&transport=polling&EIO=4'
    assert u('https://h', 'p', 'websocket').startswith('wss://h/p/?')
    with pytest.raises(ValueError):
        u('http://h', 'p', 'carrier-pigeon')
    assert core.sid_param('a b/c') == '&sid=a%20b%2Fc'
    assert core.timestamp_param(12.5) == '&t=12.5'


def test_handshake_validation():
    h = core.Handshake({'sid': 'abc', 'upgrades': ['websocket', 3],
                        'pingInterval': 300, 'pingTimeout': 200,
                        'maxPayload': 1000})
    assert (h.sid, h.upgrades, h.ping_interval, h.ping_timeout,
            h.max_payload) == ('abc', ['websocket'], 0.3, 0.2, 1000)
    h = core.Handshake({'sid': 'a', 'pingInterval': 1, 'pingTimeout': 1e12,
                        'maxPayload': 'x', 'upgrades': 'websocket'})
    assert h.max_payload == core.DEFAULT_MAX_PAYLOAD
    assert h.upgrades == []
    assert h.ping_timeout == core.MAX_HEARTBEAT
    bad = [None, 'x', [], {}, {'sid': ''}, {'sid': 5},
           {'sid': 'a' * 600, 'pingInterval': 1, 'pingTimeout': 1},
           {'sid': 'a', 'pingInterval': '1', 'pingTimeout': 1},
           {'sid': 'a', 'pingInterval': True, 'pingTimeout': 1},
           {'sid': 'a', 'pingInterval': -1, 'pingTimeout': 1},
           {'sid': 'a', 'pingInterval': float('nan'), 'pingTimeout': 1},
           {'sid': 'a', 'pingInterval': 1}]
    for data in bad:
        with pytest.raises(core.ProtocolError):
            core.Handshake(data)


def test_decode_payload_any_number_of_packets():
    body = '\x1e'.join(['4m%d' % i for i in range(500)] + ['bAAE=', '2'])
    packets = core.decode_payload(body.encode(), loads)
    assert len(packets) == 502
    assert packets[0] == (4, 'm0', False)
    assert packets[500] == (4, b'\x00\x01', True)
    assert packets[501] == (2, '', False)
    for bad in (b'', b'\xff\xfe', b'4a\x1e', b'4a\x1e7', b'hello'):
        with pytest.raises(core.ProtocolError):
            core.decode_payload(bad, loads)


def test_batches_respect_max_payload():
    items = ['4' + 'x' * 99] * 25            # 100 bytes each
    groups = core.batch_items(items, 1000)
    # 9 items + 8 separators = 908 bytes; a 10th would make 1009
    assert [len(g) for g in groups] == [9, 9, 7]
    for body in core.encode_payloads(items, 1000):
        assert len(body.encode()) <= 1000
    assert sum(len(b.split('\x1e'))
               for b in core.encode_payloads(items, 1000)) == 25
    # an item over the limit travels alone, order kept
    groups = core.batch_items(['4a', '4' + 'y' * 50, '4b', '4c'], 20)
    assert groups == [['4a'], ['4' + 'y' * 50], ['4b', '4c']]
    # sizes are UTF-8 bytes and base64 for binary
    assert core.item_size('4é') == 3
    assert core.item_size(b'\x00' * 3) == 5      # 'b' + 4 characters
    assert core.item_size(b'\x00' * 4) == 9
    assert core.batch_items([b'\x00' * 6] * 2, 18) == [[b'\x00' * 6]] * 2
    assert core.batch_items([b'\x00' * 6] * 2, 19) == [[b'\x00' * 6] * 2]
    assert core.encode_payloads([b'\x00\x01', '4a'], 100) == ['bAAE=\x1e4a']
    assert core.batch_items([], 10) == []


def test_outbox_bounds_and_order():
    from engineio_fast.adapters.clients.sync_io import Outbox
    box = Outbox(max_items=2, max_bytes=100)
    for i in range(5):                  # unbounded until the writer runs
        assert box.put('4%d' % i)
    assert box.take() == ['40', '41', '42', '43', '44']
    box.bounded = True
    assert box.put('4a') and box.put('4b')
    done = []
    th = threading.Thread(target=lambda: done.append(box.put('4c')))
    th.start()
    th.join(0.1)
    assert th.is_alive()                # full: the sender waits
    assert box.put('3', force=True)     # pongs and close never wait
    assert box.take() == ['4a', '4b', '3']
    th.join(WAIT)
    assert done == [True] and box.take() == ['4c']
    assert box.put('4' + 'x' * 500)     # one oversized item alone is fine
    box.close()
    assert not box.put('4late')
    assert box.take() == ['4' + 'x' * 500]
    assert box.take() is None


def test_dispatcher_order_stall_helper_and_close():
    from engineio_fast.adapters.clients.sync_io import (
        STALL_SECONDS,
        Dispatcher,
    )
    d = Dispatcher(logging.getLogger('test'))
    got = []
    for i in range(200):
        d.put(got.append, (i,))
    release = threading.Event()
    d.put(lambda: release.wait(WAIT), ())   # blocks until a later call
    d.put(release.set, ())
    d.put(got.append, ('after',))
    t0 = time.monotonic()
    assert release.wait(WAIT)
    assert time.monotonic() - t0 < STALL_SECONDS + 1
    deadline = time.monotonic() + WAIT
    while 'after' not in got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == list(range(200)) + ['after']
    d.put(lambda: 1 / 0, ())            # a failing call is logged, not fatal
    finished = threading.Event()
    assert d.finish(finished.set, ())
    assert finished.wait(WAIT)
    assert not d.put(got.append, ('closed',))
    d2 = Dispatcher(logging.getLogger('test'))
    d2.close()
    assert not d2.finish(got.append, (1,))


def test_websocket_options_from_the_http_session():
    import requests

    from engineio_fast.adapters.clients import http_sessions as client_http
    c = engineio.Client(handle_sigint=False,
                        websocket_extra_options={
                            'header': ['X-A: 1'], 'headers': {'X-B': '2'},
                            'timeout': 3, 'max_queue': 4})
    url = 'ws://127.0.0.1:9/engine.io/'
    for session in (requests.Session(), httpx.Client()):
        session.auth = ('user', 'pw')
        session.cookies.set('sticky', 'node1', domain='127.0.0.1')
        adapter = client_http.wrap(session, False, True, False)
        opts = c._ws_options(url, {'Cookie': 'a=b'}, adapter)
        h = opts['additional_headers']
        assert h['X-A'] == '1' and h['X-B'] == '2'
        assert h['Cookie'] == 'sticky=node1; a=b'
        assert h['Authorization'] == 'Basic dXNlcjpwdw=='
        assert opts['open_timeout'] == 3 and opts['max_queue'] == 4
        assert opts['ping_interval'] is None and opts['compression'] is None
        assert 'ssl' not in opts
        # a caller's Authorization header wins over the session's auth
        opts = c._ws_options(url, {'authorization': 'Bearer x'}, adapter)
        assert opts['additional_headers'] == {
            'authorization': 'Bearer x', 'Cookie': 'sticky=node1',
            'X-A': '1', 'X-B': '2'}
        session.close()

    async def with_aiohttp():
        import aiohttp
        with warnings.catch_warnings():
            # aiohttp 3.14 deprecates session-wide auth; still honoured
            warnings.simplefilter('ignore', DeprecationWarning)
            session = aiohttp.ClientSession(
                auth=aiohttp.BasicAuth('user', 'pw'),
                cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with session:
            import yarl
            session.cookie_jar.update_cookies({'sticky': 'node1'},
                                           yarl.URL('http://127.0.0.1:9/'))
            adapter = client_http.wrap(session, False, True, True)
            return adapter.ws_headers('http://127.0.0.1:9/engine.io/')
    assert asyncio.run(with_aiohttp()) == {
        'Cookie': 'sticky=node1', 'Authorization': 'Basic dXNlcjpwdw=='}
    insecure = engineio.Client(handle_sigint=False, ssl_verify=False)
    ctx = insecure._ws_options('wss://h/', {}, None)['ssl']
    assert ctx.verify_mode == 0 and not ctx.check_hostname
    # a requests session's TLS settings go to the websocket too
    session = requests.Session()
    session.verify = False
    ctx = c._ws_options('wss://h/', {}, client_http.wrap(
        session, False, True, False))['ssl']
    assert ctx.verify_mode == 0 and not ctx.check_hostname
    with pytest.raises(ValueError):
        client_http.wrap(session, False, True, True)   # requests for asyncio
    with pytest.raises(ValueError):
        client_http.wrap(object(), False, True, False)


# ---------------------------------------------------------------------------
# drivers: one blocking interface over Client and AsyncClient

class Events:
    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def add(self, *event):
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait(self, predicate, timeout=WAIT):
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)

    def of(self, name):
        with self.cond:
            return [e[1:] for e in self.items if e[0] == name]

    def messages(self):
        return [e[0] for e in self.of('message')]

    def reasons(self):
        return [e[0] for e in self.of('disconnect')]


class SyncDriver:
    kind = 'sync'

    def __init__(self, **options):
        options.setdefault('handle_sigint', False)
        self.client = engineio.Client(**options)
        self.events = Events()
        self._register()

    def _register(self):
        ev = self.events
        self.client.on('connect', lambda: ev.add('connect'))
        self.client.on('message', lambda data: ev.add('message', data))
        self.client.on('disconnect', lambda reason: ev.add('disconnect',
                                                           reason))

    def call(self, name, *args, **kwargs):
        return getattr(self.client, name)(*args, **kwargs)

    def wait(self, timeout=WAIT):
        th = threading.Thread(target=self.client.wait, daemon=True)
        th.start()
        th.join(timeout)
        return not th.is_alive()

    def close(self):
        self.client.disconnect()


class AsyncDriver(SyncDriver):
    kind = 'async'
    loop_errors = None

    def __init__(self, **options):
        options.setdefault('handle_sigint', False)
        self.loop = asyncio.new_event_loop()
        self.loop_errors = []
        self.loop.set_exception_handler(
            lambda loop, ctx: self.loop_errors.append(ctx))
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       daemon=True)
        self.thread.start()
        self.client = self.run(self._make(options))
        self.events = Events()
        self._register()

    @staticmethod
    async def _make(options):
        return engineio.AsyncClient(**options)

    def _register(self):
        ev = self.events

        async def message(data):
            ev.add('message', data)

        async def disconnect(reason):
            ev.add('disconnect', reason)

        self.client.on('connect', lambda: ev.add('connect'))
        self.client.on('message', message)
        self.client.on('disconnect', disconnect)

    def run(self, coro, timeout=WAIT * 2):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(
            timeout)

    def call(self, name, *args, **kwargs):
        ret = getattr(self.client, name)(*args, **kwargs)
        if asyncio.iscoroutine(ret):
            ret = self.run(ret)
        return ret

    def wait(self, timeout=WAIT):
        try:
            self.run(self.client.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def close(self):
        try:
            self.run(self.client.disconnect())
        finally:
            async def settle():
                await asyncio.sleep(0)
            self.run(settle())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(WAIT)
            self.loop.close()
        assert not self.loop_errors, self.loop_errors


DRIVERS = {'sync': SyncDriver, 'async': AsyncDriver}
TRANSPORTS = {'polling': ['polling'], 'websocket': ['websocket'],
              'upgrade': None}


class LogWatch(logging.Handler):
    """Collects the client's records of unexpected internal errors."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.bad = []

    def emit(self, record):
        msg = record.getMessage()
        if 'Unexpected error' in msg or record.exc_info and \
                'handler error' not in msg:
            self.bad.append(msg)


@pytest.fixture
def clients():
    """``clients(kind, **options)`` makes a driver; at teardown each is
    closed and no exception may have escaped a thread or loop."""
    made = []
    thread_errors = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: thread_errors.append(args)
    watch = LogWatch()
    logging.getLogger('engineio.client').addHandler(watch)

    def make(kind, **options):
        d = DRIVERS[kind](**options)
        made.append(d)
        return d

    try:
        yield make
        for d in made:
            d.close()
    finally:
        threading.excepthook = old_hook
        logging.getLogger('engineio.client').removeHandler(watch)
    assert not thread_errors, [str(a.exc_value) for a in thread_errors]
    assert not watch.bad, watch.bad


@pytest.fixture(params=['sync', 'async'])
def kind(request):
    return request.param


@pytest.fixture(params=list(TRANSPORTS))
def transport(request):
    return request.param


# ---------------------------------------------------------------------------
# our servers

def echo_async_server(rec, **options):
    eio = engineio.AsyncServer(async_mode='asgi', **options)

    @eio.on('connect')
    def connect(sid, environ):
        rec.add('connect', sid, environ)
        if environ.get('HTTP_X_REJECT'):
            return {'why': environ['HTTP_X_REJECT']}

    @eio.on('message')
    async def message(sid, data):
        rec.add('message', sid, data)
        if data == 'bye':
            await eio.disconnect(sid)
        elif data == 'burst':
            for i in range(200):
                await eio.send(sid, 'b%d' % i)
        elif data == 'pair':
            await eio.send(sid, 'first')
            await eio.send(sid, 'second')
        else:
            await eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    return eio


def echo_sync_server(rec, **options):
    eio = engineio.Server(async_mode='threading', **options)

    @eio.on('connect')
    def connect(sid, environ):
        rec.add('connect', sid, environ)

    @eio.on('message')
    def message(sid, data):
        rec.add('message', sid, data)
        if data == 'bye':
            eio.disconnect(sid)
        elif data == 'burst':
            for i in range(200):
                eio.send(sid, 'b%d' % i)
        else:
            eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    return eio


@pytest.fixture
def servers():
    """``servers(kind_of_server, **options)`` -> (url, events)."""
    started = []

    def start(which='asgi', **options):
        rec = Events()
        if which == 'asgi':
            s = LiveServer(engineio.ASGIApp(echo_async_server(rec,
                                                              **options)))
            s.start()
        else:
            s = WerkzeugServer(echo_sync_server(rec, **options))
        started.append(s)
        return s.url, rec

    yield start
    for s in started:
        s.stop()


def server_messages(rec):
    return [e[1] for e in rec.of('message')]


# ---------------------------------------------------------------------------
# the API against our servers

@pytest.mark.parametrize('which', ['asgi', 'threading'])
def test_echo_every_type_in_order(servers, clients, kind, transport, which):
    url, rec = servers(which)
    c = clients(kind)
    assert c.client.state == 'disconnected' and c.client.sid is None
    c.call('connect', url, transports=TRANSPORTS[transport])
    assert c.client.state == 'connected'
    assert c.client.sid == rec.of('connect')[0][0]
    expected = 'polling' if transport == 'polling' else 'websocket'
    assert c.call('transport') == expected
    sent = ['text', 'é ☃', '', b'\x00\x01\xff', b'', {'a': [1, 'x']},
            [1, 2], '123']
    for data in sent:
        c.call('send', data)
    c.call('send', 'burst')
    assert c.events.wait(lambda ev: len(ev.messages()) == len(sent) + 200)
    got = c.events.messages()
    # what the server hands back: JSON-looking text comes back decoded
    assert got[:len(sent)] == sent
    assert got[len(sent):] == ['b%d' % i for i in range(200)]
    assert server_messages(rec)[:len(sent)] == sent
    c.call('disconnect')
    assert c.client.state == 'disconnected' and c.client.sid is None
    assert c.events.reasons() == [engineio.Client.reason.CLIENT_DISCONNECT]
    assert c.wait(0.5)
    assert rec.wait(lambda r: r.of('disconnect'))
    assert rec.of('disconnect')[0][1] == 'client disconnect'


def test_server_disconnect_and_wait(servers, clients, kind, transport):
    url, rec = servers()
    c = clients(kind)
    c.call('connect', url, transports=TRANSPORTS[transport])
    c.call('send', 'bye')
    assert c.wait(WAIT)
    assert c.events.reasons() == ['server disconnect']
    assert c.client.state == 'disconnected'
    # the client can connect again
    c.call('connect', url, transports=TRANSPORTS[transport])
    assert c.client.state == 'connected'
    with pytest.raises(ValueError, match='not in a disconnected state'):
        c.call('connect', url)


def test_refused_and_unreachable(servers, clients, kind):
    url, rec = servers()
    c = clients(kind)
    for transports in (['polling'], ['websocket']):
        with pytest.raises(exceptions.ConnectionError) as info:
            c.call('connect', url, transports=transports,
                   headers={'X-Reject': 'nope'})
        assert info.value.args == (
            'Unexpected status code 401 in server response', {'why': 'nope'})
        assert c.client.state == 'disconnected'
    port = free_port()     # nothing listens there (tests/ports.py)
    for transports in (['polling'], ['websocket']):
        with pytest.raises(exceptions.ConnectionError) as info:
            c.call('connect', 'http://127.0.0.1:%d' % port,
                   transports=transports)
        assert info.value.args[0]
    with pytest.raises(ValueError):
        c.call('connect', url, transports=['carrier-pigeon'])
    with pytest.raises(ValueError):
        c.client.on('nope')


def test_connect_handler_failure(servers, clients, kind):
    url, rec = servers()
    c = clients(kind)

    def boom():
        raise RuntimeError('no thanks')
    c.client.on('connect', boom)
    with pytest.raises(exceptions.ConnectionError,
                       match='Connect handler failed: no thanks'):
        c.call('connect', url, transports=['polling'])
    assert c.client.state == 'disconnected'
    # the server learns the session is over
    assert rec.wait(lambda r: r.of('disconnect'))


def test_headers_and_timestamps(servers, clients, kind, transport):
    url, rec = servers()
    c = clients(kind)
    c.call('connect', url + '/?q=1', transports=TRANSPORTS[transport],
           headers={'X-Token': 'abc'})
    c.call('send', 'x')
    assert rec.wait(lambda r: r.of('message'))
    environ = rec.of('connect')[0][1]
    assert environ['HTTP_X_TOKEN'] == 'abc'
    assert 'q=1' in environ['QUERY_STRING']
    assert '&t=' in environ['QUERY_STRING']
    c.call('disconnect')
    c2 = clients(kind, timestamp_requests=False,
                 websocket_extra_options={'headers': {'X-Extra': '1'}})
    c2.call('connect', url, transports=TRANSPORTS[transport])
    environ = rec.of('connect')[1][1]
    assert '&t=' not in environ['QUERY_STRING']
    if transport == 'websocket':
        assert environ['HTTP_X_EXTRA'] == '1'



def test_max_payload_splits_posts(servers, clients, kind):
    # the server refuses any POST over 1000 bytes
    url, rec = servers(max_http_buffer_size=1000)
    c = clients(kind)
    c.call('connect', url, transports=['polling'])
    sent = ['%03d' % i + 'x' * 96 for i in range(60)]

    async def send_all():
        for data in sent:
            await c.client.send(data)
    if kind == 'async':
        c.run(send_all())
    else:
        for data in sent:
            c.call('send', data)
    assert rec.wait(lambda r: len(r.of('message')) == 60), \
        len(rec.of('message'))
    assert server_messages(rec) == sent
    assert c.client.state == 'connected'


def test_upgrade_keeps_messages_sent_while_connecting(servers, clients,
                                                      kind):
    url, rec = servers()
    c = clients(kind)
    n = 50

    def on_connect():
        c.events.add('connect')
        for i in range(n):
            if kind == 'sync':
                c.client.send('c%d' % i)
            else:
                asyncio.ensure_future(c.client.send('c%d' % i))
    c.client.on('connect', on_connect)
    c.call('connect', url)
    assert c.call('transport') == 'websocket'
    c.call('send', 'last')
    assert rec.wait(lambda r: len(r.of('message')) == n + 1)
    assert server_messages(rec) == ['c%d' % i for i in range(n)] + ['last']


def test_disconnect_from_handlers_does_not_deadlock(servers, clients, kind,
                                                     transport):
    url, rec = servers()
    c = clients(kind)
    if kind == 'sync':
        def message(data):
            c.events.add('message', data)
            c.client.disconnect()
    else:
        async def message(data):
            c.events.add('message', data)
            await c.client.disconnect()
    c.client.on('message', message)
    c.call('connect', url, transports=TRANSPORTS[transport])
    c.call('send', 'hello')
    assert c.wait(WAIT)
    assert c.events.reasons() == ['client disconnect']
    assert c.client.state == 'disconnected'


def test_handler_waiting_for_a_later_message(servers, clients, kind,
                                             transport):
    """python-socketio's call() from an event handler waits for an ack that
    arrives as a later message: that must not deadlock."""
    url, rec = servers()
    c = clients(kind)
    if kind == 'sync':
        second = threading.Event()

        def message(data):
            if data == 'first':
                got = second.wait(WAIT)
                c.client.send('first done %s' % got)
            elif data == 'second':
                second.set()
    else:
        box = {}

        async def message(data):
            second = box.setdefault('ev', asyncio.Event())
            if data == 'first':
                await asyncio.wait_for(second.wait(), WAIT)
                await c.client.send('first done True')
            elif data == 'second':
                second.set()
    c.client.on('message', message)
    c.call('connect', url, transports=TRANSPORTS[transport])
    t0 = time.monotonic()
    c.call('send', 'pair')
    assert rec.wait(lambda r: 'first done True' in server_messages(r))
    assert time.monotonic() - t0 < 2


def test_legacy_disconnect_handler_and_reason_constants(servers, clients,
                                                        kind):
    url, rec = servers()
    c = clients(kind)
    calls = []
    c.client.on('disconnect', lambda: calls.append('legacy'))
    c.call('connect', url, transports=['websocket'])
    c.call('disconnect')
    assert calls == ['legacy']
    r = c.client.reason
    assert (r.CLIENT_DISCONNECT, r.SERVER_DISCONNECT, r.TRANSPORT_ERROR) == (
        'client disconnect', 'server disconnect', 'transport error')


def test_primitives(clients, kind):
    d = clients(kind)
    c = d.client
    assert c.is_asyncio_based() is (kind == 'async')
    assert c.transport() is None
    if kind == 'sync':
        box = []
        t = c.start_background_task(lambda a, b=0: box.append(a + b), 1, b=2)
        t.join(WAIT)
        assert box == [3]
        q = c.create_queue()
        with pytest.raises(c.get_queue_empty_exception()):
            q.get_nowait()
        assert isinstance(c.create_event(), threading.Event)
        t0 = time.monotonic()
        c.sleep(0.05)
        assert time.monotonic() - t0 >= 0.04
        c.disconnect()          # not connected: a no-op
        c.wait()
    else:
        async def go():
            box = []

            async def task(a, b=0):
                box.append(a + b)
            await c.start_background_task(task, 1, b=2)
            q = c.create_queue()
            with pytest.raises(c.get_queue_empty_exception()):
                q.get_nowait()
            assert isinstance(c.create_event(), asyncio.Event)
            await c.sleep(0.01)
            await c.disconnect()
            await c.wait()
            return box
        assert d.run(go()) == [3]


def _session_maker(kind, which):
    """(make an http_session instance, is it closed?) for the client kind:
    python-engineio's kinds (requests, aiohttp) or httpx."""
    if which == 'httpx':
        if kind == 'sync':
            return httpx.Client, lambda h: h.is_closed
        return httpx.AsyncClient, lambda h: h.is_closed
    if kind == 'sync':
        import requests

        class Session(requests.Session):   # a subclass is a session too
            closed = False

            def close(self):
                self.closed = True
                super().close()
        return Session, lambda h: h.closed
    import aiohttp
    return aiohttp.ClientSession, lambda h: h.closed


@pytest.mark.parametrize('which', ['engineio', 'httpx'])
def test_http_session_instance_and_factory(servers, clients, kind, which):
    """An http_session instance is used and left open; a factory's session
    is made for the connection and closed at its end."""
    url, rec = servers()
    make, is_closed = _session_maker(kind, which)
    c = clients(kind)
    if kind == 'sync':
        session = make()
    else:
        async def build():
            return make()
        session = c.run(build())
    c.client.http = session
    c.client.external_http = True
    c.call('connect', url, transports=['polling'])
    c.call('send', 'x')
    assert c.events.wait(lambda ev: ev.messages() == ['x'])
    c.call('disconnect')
    assert c.client.http is session and not is_closed(session)
    if kind == 'sync':
        session.close()
    else:
        c.run(session.aclose() if which == 'httpx' else session.close())
    made = []
    if kind == 'sync':
        def factory():
            made.append(make())
            return made[-1]
    else:
        async def factory():
            made.append(make())
            return made[-1]
    c2 = clients(kind, http_session=factory)
    c2.call('connect', url)
    c2.call('send', 'y')
    assert c2.events.wait(lambda ev: ev.messages() == ['y'])
    c2.call('disconnect')
    assert len(made) == 1 and is_closed(made[0])


def test_http_session_of_the_wrong_kind(clients):
    import requests
    c = clients('async', http_session=requests.Session())
    with pytest.raises(ValueError, match='requests'):
        c.call('connect', 'http://127.0.0.1:9')
    assert c.client.state == 'disconnected'
    c = clients('sync', http_session=object())
    with pytest.raises(ValueError, match='http_session'):
        c.call('connect', 'http://127.0.0.1:9')
    assert c.client.state == 'disconnected'


def test_many_clients_threads_are_bounded(servers, clients):
    url, rec = servers()
    before = {t for t in threading.enumerate()}
    cs = [clients('sync') for _ in range(4)]
    for c in cs:
        c.call('connect', url, transports=['websocket'])
        c.call('send', 'x')
    for c in cs:
        assert c.events.wait(lambda ev: ev.messages() == ['x'])
    ours = [t for t in threading.enumerate()
            if t not in before and t.name.startswith('engineio-client')]
    # per client: one reader, one handler worker (+ one stall watch)
    assert len(ours) <= 4 * 2 + 1, [t.name for t in ours]
    for c in cs:
        c.call('disconnect')
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before
                and t.name in ('engineio-client-reader',
                               'engineio-client-handler')]
        if not left:
            break
        time.sleep(0.02)
    assert not left


# ---------------------------------------------------------------------------
# scripted servers that misbehave

OPEN = '0{"sid":"bad-sid","upgrades":[],"pingInterval":%d,"pingTimeout":%d,'\
    '"maxPayload":100000}'


class ScriptedPolling:
    """A threaded HTTP server: the handshake GET gets ``handshake``; each
    later GET gets ``polls[i]`` (the last one repeats): bytes, an int
    status, ``'silent'`` (never answered) or ``'truncated'``."""

    def __init__(self, polls, handshake=None, ping=(300, 300)):
        self.polls = polls
        self.handshake = OPEN % ping if handshake is None else handshake
        self.stop_event = threading.Event()
        self.posts = []
        self.gets = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _send(self, status, body):
                self.send_response(status)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                outer.posts.append(self.rfile.read(n))
                self._send(200, b'ok')

            def do_GET(self):
                if 'transport=websocket' in self.path:
                    return self._send(400, b'{"code":3}')
                if 'sid=' not in self.path:
                    h = outer.handshake
                    if isinstance(h, int):
                        return self._send(h, b'{"code":3}')
                    return self._send(200, h.encode()
                                      if isinstance(h, str) else h)
                i = outer.gets
                outer.gets += 1
                action = outer.polls[min(i, len(outer.polls) - 1)]
                if action == 'silent':
                    outer.stop_event.wait(30)
                    self.close_connection = True
                elif action == 'truncated':
                    self.send_response(200)
                    self.send_header('Content-Length', '100')
                    self.end_headers()
                    self.wfile.write(b'4abc')
                    self.wfile.flush()
                    self.close_connection = True
                elif isinstance(action, int):
                    self._send(action, b'{"code":3}')
                else:
                    self._send(200, action)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()

    def stop(self):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class ScriptedWs:
    """A websocket server that sends ``frames`` after accepting (each a
    str/bytes frame, or ``'silent'`` to go quiet until stopped)."""

    def __init__(self, frames, ping=(300, 300), open_packet=None,
                 reject=None):
        self.stop_event = threading.Event()
        self.received = []
        open_packet = OPEN % ping if open_packet is None else open_packet

        def handler(ws):
            for frame in [open_packet] + list(frames):
                if frame == 'silent':
                    self.stop_event.wait(30)
                    return
                if frame == 'close':
                    return          # a clean close, no close packet
                ws.send(frame)
            try:
                while True:
                    self.received.append(ws.recv(timeout=WAIT))
            except Exception:
                pass

        def process_request(connection, request):
            if reject is not None:
                return connection.respond(403, reject)

        self.server = ws_serve(handler, '127.0.0.1', 0, compression=None,
                               process_request=process_request)
        self.url = 'http://127.0.0.1:%d' % self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.stop_event.set()
        self.server.shutdown()


@pytest.fixture
def scripted():
    made = []

    def make(cls, *args, **kwargs):
        s = cls(*args, **kwargs)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


def assert_lost_within(c, seconds):
    t0 = time.monotonic()
    assert c.wait(seconds + SLACK), 'the client did not notice'
    assert c.events.reasons() == ['transport error']
    assert c.client.state == 'disconnected'
    return time.monotonic() - t0


@pytest.mark.parametrize('which', ['polling', 'websocket'])
def test_silent_server_noticed_within_heartbeat(scripted, clients, kind,
                                                which):
    if which == 'polling':
        s = scripted(ScriptedPolling, ['silent'])
    else:
        s = scripted(ScriptedWs, ['silent'])
    c = clients(kind)
    t0 = time.monotonic()
    c.call('connect', s.url, transports=[which])
    assert c.wait(0.6 + SLACK)
    elapsed = time.monotonic() - t0
    assert 0.5 < elapsed < 0.6 + SLACK
    assert c.events.reasons() == ['transport error']


def test_pings_keep_the_session_alive(scripted, clients, kind):
    s = scripted(ScriptedPolling, [b'2'] * 3 + [b'4done', 'silent'],
                 ping=(200, 200))
    c = clients(kind)
    c.call('connect', s.url, transports=['polling'])
    assert c.events.wait(lambda ev: ev.messages() == ['done'])
    assert c.wait(0.4 + SLACK)
    assert c.events.reasons() == ['transport error']
    # every ping got its pong
    assert b''.join(s.posts).count(b'3') >= 3


@pytest.mark.parametrize('poll', [
    b'\xff\xfe\x00', b'not a payload', b'4ok\x1e7', b'4ok\x1e', b'',
    500, 'truncated'])
def test_bad_polling_input_ends_cleanly(scripted, clients, kind, poll):
    s = scripted(ScriptedPolling, [poll, 'silent'], ping=(5000, 5000))
    c = clients(kind)
    c.call('connect', s.url, transports=['polling'])
    assert_lost_within(c, 1)


def test_oversized_poll_response(scripted, clients, kind):
    s = scripted(ScriptedPolling, [b'4' + b'x' * 5000, 'silent'],
                 ping=(5000, 5000))
    c = clients(kind)
    c.client.max_receive_size = 4096
    c.call('connect', s.url, transports=['polling'])
    assert_lost_within(c, 1)
    assert c.events.messages() == []


def test_many_packets_per_poll_and_server_close(scripted, clients, kind):
    body = '\x1e'.join(['4m%d' % i for i in range(100)] + ['1'])
    s = scripted(ScriptedPolling, [body.encode()], ping=(5000, 5000))
    c = clients(kind)
    c.call('connect', s.url, transports=['polling'])
    assert c.wait(WAIT)
    assert c.events.messages() == ['m%d' % i for i in range(100)]
    assert c.events.reasons() == ['server disconnect']


@pytest.mark.parametrize('frames', [['7'], [''], ['bnot!base64'],
                                    ['4' + 'x' * 5000]])
def test_bad_websocket_input_ends_cleanly(scripted, clients, kind, frames):
    s = scripted(ScriptedWs, frames + ['silent'], ping=(5000, 5000))
    c = clients(kind)
    c.client.max_receive_size = 4096
    c.call('connect', s.url, transports=['websocket'])
    assert_lost_within(c, 1)


def test_failed_upgrade_stays_on_polling(scripted, clients, kind):
    s = scripted(ScriptedPolling, [b'4hi', b'2', 'silent'],
                 handshake=OPEN.replace('[]', '["websocket"]') % (5000, 5000))
    c = clients(kind)
    c.call('connect', s.url)
    assert c.call('transport') == 'polling'
    assert c.events.wait(lambda ev: ev.messages() == ['hi'])
    c.call('send', 'x')
    deadline = time.monotonic() + WAIT
    while b'4x' not in b''.join(s.posts) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b'4x' in b''.join(s.posts)


class RawWsServer:
    """Accepts one websocket handshake, sends the open packet, then the raw
    bytes ``after`` and closes the TCP connection; with ``after=None`` it
    keeps the connection open, never reading from it, until stopped."""

    def __init__(self, after):
        import base64
        import hashlib
        self.stopped = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        guid = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

        def serve():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            head = b''
            while b'\r\n\r\n' not in head:
                head += conn.recv(4096)
            key = [line.split(b':', 1)[1].strip()
                   for line in head.split(b'\r\n')
                   if line.lower().startswith(b'sec-websocket-key')][0]
            accept = base64.b64encode(hashlib.sha1(key + guid).digest())
            conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\n'
                         b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                         b'Sec-WebSocket-Accept: ' + accept + b'\r\n\r\n')
            open_packet = (OPEN % (5000, 5000)).encode()
            conn.sendall(b'\x81' + bytes([len(open_packet)]) + open_packet)
            if after is None:
                self.stopped.wait(WAIT * 4)
                conn.close()
                return
            time.sleep(0.1)
            conn.sendall(after)
            time.sleep(0.1)
            conn.close()

        threading.Thread(target=serve, daemon=True).start()

    def stop(self):
        self.stopped.set()
        self.sock.close()


def test_websocket_send_waits_for_a_server_that_does_not_read(
        scripted, clients, kind):
    """send() blocks (sync) or waits (asyncio) once the socket is full:
    what the client holds for a server that stops reading stays bounded."""
    s = scripted(RawWsServer, None)
    c = clients(kind, request_timeout=1)
    c.call('connect', s.url, transports=['websocket'])
    chunk = 'x' * 65536
    done = []

    def send_all():
        for i in range(400):         # 25 MiB if nothing pushed back
            c.call('send', chunk)
            done.append(i)
    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    sender.join(1.5)
    assert sender.is_alive() and len(done) < 100, len(done)
    if kind == 'async':
        ws = c.client._conn.ws
        assert ws.transport.get_write_buffer_size() < 2 * 1024 * 1024
    # disconnect() is bounded by request_timeout even though the close
    # frame cannot be written
    t0 = time.monotonic()
    c.call('disconnect')
    assert time.monotonic() - t0 < 1 + SLACK
    s.stop()
    sender.join(WAIT)
    assert not sender.is_alive()


@pytest.mark.parametrize('after', [
    b'\x81\x7e\x03\xe8' + b'x' * 10,       # announces 1000 bytes, sends 10
    b'\x83\x024a',                          # reserved opcode
    b'\x81\x82abcd' + b'4a',                  # a masked server frame
    b'\x01\x024a'])                         # fragment, then EOF
def test_broken_websocket_frames_end_cleanly(scripted, clients, kind, after):
    s = scripted(RawWsServer, after)
    c = clients(kind)
    c.call('connect', s.url, transports=['websocket'])
    assert_lost_within(c, 1)


def test_unencodable_text_is_refused_by_send(servers, clients, kind,
                                             transport):
    url, rec = servers()
    c = clients(kind)
    c.call('connect', url, transports=TRANSPORTS[transport])
    with pytest.raises(UnicodeEncodeError):
        c.call('send', 'a\ud800b')
    c.call('send', 'ok')
    assert c.events.wait(lambda ev: ev.messages() == ['ok'])
    assert server_messages(rec) == ['ok']
    assert c.client.state == 'connected'


def test_custom_json_module(servers, clients, kind):
    from engineio_fast import packet

    class Marked:
        @staticmethod
        def dumps(obj, **kw):
            return json.dumps({'marked': obj}, **kw)

        loads = staticmethod(json.loads)
    url, rec = servers()
    saved = packet.Packet.json
    try:
        c = clients(kind, json=Marked)
        assert packet.Packet.json is Marked
        c.call('connect', url, transports=['websocket'])
        c.call('send', {'a': 1})
        assert rec.wait(lambda r: r.of('message'))
        assert server_messages(rec) == [{'marked': {'a': 1}}]
    finally:
        packet.Packet.json = saved


@pytest.mark.parametrize('handshake', [
    '0{not json', '4hello', '0"sid"', b'\xff', b'', 500])
def test_bad_handshake_raises(scripted, clients, kind, handshake):
    s = scripted(ScriptedPolling, [b'6'], handshake=handshake)
    c = clients(kind)
    with pytest.raises(exceptions.ConnectionError) as info:
        c.call('connect', s.url, transports=['polling'])
    if handshake == 500:
        assert info.value.args == (
            'Unexpected status code 500 in server response', {'code': 3})
    assert c.client.state == 'disconnected'


@pytest.mark.parametrize('frames', [['0{not json'], [b'\x00'], ['4x']])
def test_bad_websocket_handshake_raises(scripted, clients, kind, frames):
    s = scripted(ScriptedWs, [], open_packet=frames[0])
    c = clients(kind)
    with pytest.raises(exceptions.ConnectionError):
        c.call('connect', s.url, transports=['websocket'])
    assert c.client.state == 'disconnected'


def test_clean_websocket_close_is_a_server_disconnect(scripted, clients,
                                                     kind):
    s = scripted(ScriptedWs, ['4hi', 'close'], ping=(5000, 5000))
    c = clients(kind)
    c.call('connect', s.url, transports=['websocket'])
    assert c.wait(WAIT)
    assert c.events.messages() == ['hi']
    assert c.events.reasons() == ['server disconnect']


def test_refused_websocket_carries_the_body_text(scripted, clients, kind):
    s = scripted(ScriptedWs, [], reject='not you')
    c = clients(kind)
    with pytest.raises(exceptions.ConnectionError) as info:
        c.call('connect', s.url, transports=['websocket'])
    assert info.value.args == (
        'Unexpected status code 403 in server response', 'not you')


def test_post_failure_ends_session(scripted, clients, kind):
    s = scripted(ScriptedPolling, ['silent'], ping=(5000, 5000))
    s.httpd.RequestHandlerClass.do_POST = \
        lambda self: self._send(500, b'no')
    c = clients(kind)
    c.call('connect', s.url, transports=['polling'])
    c.call('send', 'x')
    assert_lost_within(c, 1)


# ---------------------------------------------------------------------------
# TLS and SIGINT

def test_https_and_wss_with_ssl_verify(clients, kind, tmp_path):
    certfile, keyfile = make_cert(tmp_path)
    rec = Events()
    with LiveServer(engineio.ASGIApp(echo_async_server(rec)),
                    ssl_certfile=certfile, ssl_keyfile=keyfile) as s:
        url = 'https://127.0.0.1:%d' % s.port
        strict = clients(kind)
        with pytest.raises(exceptions.ConnectionError):
            strict.call('connect', url)
        c = clients(kind, ssl_verify=False)
        c.call('connect', url)
        assert c.call('transport') == 'websocket'
        c.call('send', b'\x01secure')
        assert c.events.wait(lambda ev: ev.messages() == [b'\x01secure'])
        c.call('disconnect')
        c2 = clients(kind, ssl_verify=False)
        c2.call('connect', url.replace('https', 'wss'),
                transports=['websocket'])
        c2.call('send', 'x')
        assert c2.events.wait(lambda ev: ev.messages() == ['x'])
        c2.call('disconnect')


SIGINT_SCRIPT = r'''
import asyncio, sys
import engineio_fast as engineio
url, kind = sys.argv[1], sys.argv[2]
if kind == 'sync':
    c = engineio.Client()
    c.on('disconnect', lambda reason: print('disconnect', reason, flush=True))
    c.connect(url)
    print('ready', flush=True)
    c.wait()
else:
    async def main():
        c = engineio.AsyncClient()
        c.on('disconnect', lambda reason: print('disconnect', reason,
                                                flush=True))
        await c.connect(url)
        print('ready', flush=True)
        await c.wait()
    asyncio.run(main())
'''


def test_ctrl_c_disconnects(servers, kind):
    url, rec = servers()
    p = subprocess.Popen([sys.executable, '-c', SIGINT_SCRIPT, url, kind],
                         cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == 'ready'
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=WAIT * 2)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert 'disconnect client disconnect' in out, (out, err)
    assert 'KeyboardInterrupt' in err
    assert p.returncode != 0
    assert rec.wait(lambda r: r.of('disconnect'))
    assert rec.of('disconnect')[0][1] == 'client disconnect'
