"""AsyncServer's python-engineio API, driven over real uvicorn on
127.0.0.1 with raw HTTP (httpx) and websocket (websockets) clients."""

import asyncio
import contextvars
import json
import logging
import time

import httpx
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect as ws_connect

import engineio_fast as engineio

from .builtin_helpers import Recorder, echo_server, polling_open, wait_for

WAIT = 5.0


@pytest.fixture
def served(live_server):
    """``served(eio)`` runs ``ASGIApp(eio)`` on uvicorn."""
    def start(eio, **asgi):
        return live_server(engineio.ASGIApp(eio, **asgi))
    return start


def poll(base, sid):
    return httpx.get(base + '/engine.io/', params={
        'EIO': '4', 'transport': 'polling', 'sid': sid}, timeout=WAIT)


def post(base, sid, body):
    return httpx.post(base + '/engine.io/', params={
        'EIO': '4', 'transport': 'polling', 'sid': sid}, content=body,
        timeout=WAIT)


def ws_open(server, **query):
    q = '&'.join('%s=%s' % kv for kv in query.items())
    ws = ws_connect(server.ws_url + '/engine.io/?EIO=4&transport=websocket'
                    + ('&' + q if q else ''), open_timeout=WAIT)
    return ws


# -- construction and registration -------------------------------------------

def test_async_modes():
    # python-engineio's order: the first framework installed (aiohttp is,
    # in the test environment); tests/frameworks/ checks it against
    # python-engineio itself
    assert engineio.AsyncServer().async_mode == 'aiohttp'
    for mode in ('asgi', 'aiohttp', 'sanic', 'tornado'):
        assert engineio.AsyncServer(async_mode=mode).async_mode == mode
    for mode in ('threading', 'eventlet', 'bogus'):
        with pytest.raises(ValueError, match='Invalid async_mode'):
            engineio.AsyncServer(async_mode=mode)


def test_on_decorator_and_call_form():
    eio = engineio.AsyncServer()

    @eio.on('connect')
    def c(sid, environ):
        pass

    def m(sid, data):
        pass

    assert eio.on('message', m) is None
    assert eio.handlers == {'connect': c, 'message': m}
    with pytest.raises(ValueError):
        eio.on('bogus', m)


def test_reason_constants_and_utilities():
    eio = engineio.AsyncServer()
    assert eio.reason.SERVER_DISCONNECT == 'server disconnect'
    assert engineio.AsyncServer.reason.CLIENT_DISCONNECT == \
        'client disconnect'
    assert eio.reason.PING_TIMEOUT == 'ping timeout'
    assert eio.reason.TRANSPORT_CLOSE == 'transport close'
    assert eio.reason.TRANSPORT_ERROR == 'transport error'
    ids = {eio.generate_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 20 for i in ids)
    assert eio.get_queue_empty_exception() is asyncio.QueueEmpty

    async def run():
        q = eio.create_queue()
        assert isinstance(q, asyncio.Queue)
        ev = eio.create_event()
        assert isinstance(ev, asyncio.Event)
        seen = []

        async def task(a, b=None):
            seen.append((a, b))
            ev.set()

        t = eio.start_background_task(task, 1, b=2)
        await asyncio.wait_for(ev.wait(), WAIT)
        await t
        t0 = time.monotonic()
        await eio.sleep(0.05)
        assert time.monotonic() - t0 >= 0.04
        return seen

    assert asyncio.run(run()) == [(1, 2)]


def test_invalid_transports():
    with pytest.raises(ValueError):
        engineio.AsyncServer(transports=['carrier-pigeon'])
    assert engineio.AsyncServer(transports='websocket').transports == [
        'websocket']


# -- over uvicorn --------------------------------------------------------------

def test_connect_environ_has_real_client_address(served):
    rec = Recorder()
    server = served(echo_server(rec))
    with httpx.Client() as client:
        r = client.get(server.url + '/engine.io/',
                       params={'EIO': '4', 'transport': 'polling'},
                       headers={'X-Test': 'yes', 'Authorization': 'Bearer t'})
        sid = json.loads(r.text[1:])['sid']
    (_, csid, environ), = rec.of('connect')
    assert csid == sid
    assert environ['REMOTE_ADDR'] == '127.0.0.1'
    assert environ['REMOTE_PORT'] not in ('', '0')
    assert environ['HTTP_X_TEST'] == 'yes'
    assert environ['QUERY_STRING'].startswith('EIO=4')
    scope = environ['asgi']['scope']
    assert scope is environ['asgi.scope']
    assert dict(scope['headers'])[b'authorization'] == b'Bearer t'
    assert scope['client'][0] == '127.0.0.1'


@pytest.mark.parametrize('ret,body', [
    # python-engineio's body: the JSON of the handler's value, or of
    # 'Unauthorized' (PROTOCOL.md, "Handshake")
    (False, 'Unauthorized'),
    ('go away', 'go away'),
    ({'reason': 'x'}, {'reason': 'x'}),
])
def test_connect_rejection(served, ret, body):
    eio = engineio.AsyncServer()

    @eio.on('connect')
    async def connect(sid, environ):
        return ret

    server = served(eio)
    r = httpx.get(server.url + '/engine.io/',
                  params={'EIO': '4', 'transport': 'polling'})
    assert r.status_code == 401
    assert r.headers['content-type'] == 'application/json'
    assert r.json() == body
    assert len(eio._engine.sessions) == 0


def test_connect_handler_raising_rejects(served):
    eio = engineio.AsyncServer()

    @eio.on('connect')
    def connect(sid, environ):
        raise RuntimeError('boom')

    server = served(eio)
    r = httpx.get(server.url + '/engine.io/',
                  params={'EIO': '4', 'transport': 'polling'})
    assert r.status_code == 401
    # websocket-only connections are refused too, before accept
    with pytest.raises(WebSocketException):
        ws_open(server)


def test_polling_roundtrip_and_client_close(served):
    rec = Recorder()
    server = served(echo_server(rec))
    sid = polling_open(server.url)
    assert post(server.url, sid, '4hello\x1e4{"a":[1,2]}').text == 'ok'
    assert poll(server.url, sid).text == '4hello\x1e4{"a":[1,2]}'
    assert post(server.url, sid, '1').text == 'ok'
    assert wait_for(lambda: rec.of('disconnect'))
    assert rec.of('disconnect') == [('disconnect', sid, 'client disconnect')]
    assert poll(server.url, sid).status_code == 400


def test_websocket_session_and_legacy_disconnect_handler(served):
    gone = []
    eio = engineio.AsyncServer()

    @eio.on('message')
    def message(sid, data):
        # a plain function handler on the asyncio server
        eio.start_background_task(eio.send, sid, data)

    @eio.on('disconnect')
    def disconnect(sid):
        gone.append(sid)

    server = served(eio)
    with ws_open(server) as ws:
        hs = json.loads(ws.recv(WAIT)[1:])
        assert hs['upgrades'] == []
        assert eio.transport(hs['sid']) == 'websocket'
        ws.send('4hi')
        assert ws.recv(WAIT) == '4hi'
        ws.send(b'\x00\xff')
        assert ws.recv(WAIT) == b'\x00\xff'
    assert wait_for(lambda: gone == [hs['sid']])


def test_server_disconnect(served):
    rec = Recorder()
    eio = echo_server(rec)
    server = served(eio)
    with ws_open(server) as ws:
        sid = json.loads(ws.recv(WAIT)[1:])['sid']
        server.call(eio.disconnect(sid))
        assert ws.recv(WAIT) == '1'
        with pytest.raises(WebSocketException):
            ws.recv(WAIT)
    assert rec.of('disconnect') == [('disconnect', sid, 'server disconnect')]
    with pytest.raises(KeyError):
        eio.transport(sid)


def test_disconnect_all_and_shutdown(served):
    rec = Recorder()
    eio = echo_server(rec)
    server = served(eio)
    sids = [polling_open(server.url) for _ in range(3)]
    with ws_open(server) as ws:
        sids.append(json.loads(ws.recv(WAIT)[1:])['sid'])
        server.call(eio.shutdown())
        assert ws.recv(WAIT) == '1'
    assert sorted(e[1] for e in rec.of('disconnect')) == sorted(sids)
    assert {e[2] for e in rec.of('disconnect')} == {'server disconnect'}
    # each polling client still learns it was closed, on its next GET
    assert poll(server.url, sids[0]).text == '1'
    assert poll(server.url, sids[0]).status_code == 400


def test_sessions(served):
    eio = engineio.AsyncServer()
    seen = []

    @eio.on('connect')
    async def connect(sid, environ):
        await eio.save_session(sid, {'user': 'ann'})

    @eio.on('message')
    async def message(sid, data):
        async with eio.session(sid) as session:
            session['count'] = session.get('count', 0) + 1
        seen.append(dict(await eio.get_session(sid)))

    server = served(eio)
    sid = polling_open(server.url)
    post(server.url, sid, '4a\x1e4b')
    assert wait_for(lambda: len(seen) == 2)
    assert seen == [{'user': 'ann', 'count': 1}, {'user': 'ann', 'count': 2}]

    async def missing():
        with pytest.raises(KeyError):
            await eio.get_session('nope')
        return True

    assert server.call(missing())


def test_send_to_unknown_sid_warns(caplog):
    eio = engineio.AsyncServer(logger=logging.getLogger('t.unknown'))
    with caplog.at_level(logging.WARNING, logger='t.unknown'):
        asyncio.run(eio.send('nope', 'x'))
    assert 'nope' in caplog.text


@pytest.mark.parametrize('kind', ['uvicorn', 'builtin'])
@pytest.mark.parametrize('async_handlers,order', [
    (True, ['4fast', '4slow']),    # a suspended handler does not block
    (False, ['4slow', '4fast']),   # each message waits for the one before
])
def test_async_handlers(served, builtin, kind, async_handlers, order):
    eio = engineio.AsyncServer(async_handlers=async_handlers)

    @eio.on('message')
    async def message(sid, data):
        if data == 'slow':
            await asyncio.sleep(0.3)
        await eio.send(sid, data)

    server = served(eio) if kind == 'uvicorn' else builtin(eio)
    with ws_open(server) as ws:
        ws.recv(WAIT)
        ws.send('4slow')
        ws.send('4fast')
        assert [ws.recv(WAIT), ws.recv(WAIT)] == order


@pytest.mark.parametrize('kind', ['uvicorn', 'builtin'])
@pytest.mark.parametrize('async_handlers,order', [
    (True, ['fast', 'slow']),
    (False, ['slow', 'fast']),
])
def test_async_handlers_in_one_post(served, builtin, kind, async_handlers,
                                    order):
    """The same rule for the messages of one polling payload."""
    eio = engineio.AsyncServer(async_handlers=async_handlers)

    @eio.on('message')
    async def message(sid, data):
        if data == 'slow':
            await asyncio.sleep(0.3)
        await eio.send(sid, data)

    server = served(eio) if kind == 'uvicorn' else builtin(eio)
    sid = polling_open(server.url)
    assert post(server.url, sid, '4slow\x1e4fast').text == 'ok'
    got = []
    deadline = time.monotonic() + WAIT
    while len(got) < 2 and time.monotonic() < deadline:
        got += poll(server.url, sid).text.split('\x1e')
    assert got == ['4' + m for m in order]


_seen = contextvars.ContextVar('seen', default=None)


@pytest.mark.parametrize('kind', ['uvicorn', 'builtin'])
@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_handlers_run_in_a_task_of_their_own(served, builtin, kind, transport):
    """Handlers start at once, yet in a Task of their own from their first
    line: asyncio.timeout(), TaskGroup and current_task() work there (redis-py
    and anyio need them), a timeout cancels only the handler (never the
    connection), and each handler sees a fresh copy of the context."""
    eio = engineio.AsyncServer()
    tasks = set()

    def note(where):
        task = asyncio.current_task()
        assert task is not None, where
        tasks.add(task)
        assert _seen.get() is None, where     # nothing left by another one
        _seen.set(where)

    @eio.on('connect')
    async def connect(sid, environ):
        note('connect')
        async with asyncio.timeout(1):
            pass

    @eio.on('message')
    async def message(sid, data):
        note(data)
        if data == 'quick':
            async with asyncio.timeout(1):
                await eio.send(sid, 'quick done')
        elif data == 'group':
            async with asyncio.TaskGroup() as group:
                one = group.create_task(asyncio.sleep(0.01, 'a'))
                two = group.create_task(asyncio.sleep(0.02, 'b'))
            await eio.send(sid, one.result() + two.result())
        elif data == 'late':
            try:
                async with asyncio.timeout(0.05):
                    await asyncio.sleep(2)
            except TimeoutError:
                assert _seen.get() == 'late'      # its own context still
                await eio.send(sid, 'timed out')

    server = served(eio) if kind == 'uvicorn' else builtin(eio)
    expected = ['quick done', 'ab', 'timed out', 'quick done']
    if transport == 'websocket':
        with ws_open(server) as ws:
            ws.recv(WAIT)
            for m in ('quick', 'group', 'late'):
                ws.send('4' + m)
                got = ws.recv(WAIT)
                assert got == '4' + expected.pop(0), got
            time.sleep(0.2)    # the connection outlived the handler's timeout
            ws.send('4quick')
            assert ws.recv(WAIT) == '4' + expected.pop(0)
    else:
        sid = polling_open(server.url)
        for m in ('quick', 'group', 'late', 'quick'):
            assert post(server.url, sid, '4' + m).text == 'ok'
            got = []
            deadline = time.monotonic() + WAIT
            while not got and time.monotonic() < deadline:
                got = [p for p in poll(server.url, sid).text.split('\x1e')
                       if p != '6']
            assert got == ['4' + expected.pop(0)]
    assert expected == []
    assert len(tasks) >= 1


def test_upgrade_changes_transport(served):
    rec = Recorder()
    eio = echo_server(rec)
    server = served(eio)
    sid = polling_open(server.url)
    assert eio.transport(sid) == 'polling'
    with ws_open(server, sid=sid) as ws:
        ws.send('2probe')
        assert ws.recv(WAIT) == '3probe'
        assert poll(server.url, sid).text == '6'
        ws.send('5')
        ws.send('4after')
        assert ws.recv(WAIT) == '4after'
        assert eio.transport(sid) == 'websocket'
        assert poll(server.url, sid).status_code == 400


@pytest.mark.parametrize('kind', ['uvicorn', 'builtin'])
def test_server_close_mid_upgrade_goes_over_the_new_websocket(served,
                                                              builtin, kind):
    """The JavaScript client pauses polling for good once it has '3probe';
    a server disconnect then must reach it over the websocket, after its
    '5', or it would sit paused until its own ping timeout."""
    rec = Recorder()
    eio = echo_server(rec)
    server = served(eio) if kind == 'uvicorn' else builtin(eio)
    sid = polling_open(server.url)
    with ws_open(server, sid=sid) as ws:
        ws.send('2probe')
        assert ws.recv(WAIT) == '3probe'
        assert poll(server.url, sid).text == '6'
        server.call(eio.send(sid, 'last'))
        server.call(eio.disconnect(sid))
        ws.send('5')
        assert [ws.recv(WAIT), ws.recv(WAIT)] == ['4last', '1']
        with pytest.raises(WebSocketException):
            ws.recv(WAIT)
    assert rec.of('disconnect') == [('disconnect', sid, 'server disconnect')]


def test_ping_timeout_is_prompt(served):
    rec = Recorder()
    server = served(echo_server(rec, ping_interval=0.2, ping_timeout=0.2))
    t0 = time.monotonic()
    sid = polling_open(server.url)
    assert wait_for(lambda: rec.of('disconnect'), timeout=3)
    elapsed = time.monotonic() - t0
    assert rec.of('disconnect') == [('disconnect', sid, 'ping timeout')]
    assert 0.35 < elapsed < 1.5


def test_bad_input_leaves_other_sessions_alone(served):
    rec = Recorder()
    eio = echo_server(rec)
    server = served(eio)
    base = server.url + '/engine.io/'
    with ws_open(server) as ws:
        healthy = json.loads(ws.recv(WAIT)[1:])['sid']
        victim = polling_open(server.url)
        cases = [
            ('GET', '', None), ('GET', '?EIO=3&transport=polling', None),
            ('GET', '?EIO=4&transport=nope', None),
            ('GET', '?EIO=4&transport=polling&sid=unknown', None),
            ('PUT', '?EIO=4&transport=polling', None),
            ('POST', '?EIO=4&transport=polling', b'4x'),
            ('GET', '?EIO=4&transport=websocket', None),
            ('GET', '?EIO=4&transport=polling&j=abc', None),
            ('POST', '?EIO=4&transport=polling&sid=' + victim,
             b'\xff\xfe\x00garbage'),
        ]
        for method, query, body in cases:
            r = httpx.request(method, base + query, content=body,
                              timeout=WAIT)
            assert r.status_code == 400, (method, query, r.text)
            err = r.json()
            assert set(err) == {'code', 'message'}
        assert rec.of('disconnect') == [
            ('disconnect', victim, 'transport error')]
        server.call(eio.send(healthy, 'still here'))
        assert ws.recv(WAIT) == '4still here'
        ws.send('4echo')
        assert ws.recv(WAIT) == '4echo'


def test_oversized_post_is_refused(served):
    rec = Recorder()
    server = served(echo_server(rec, max_http_buffer_size=1000))
    sid = polling_open(server.url)
    r = post(server.url, sid, '4' + 'x' * 5000)
    assert r.status_code == 400
    assert rec.of('disconnect') == [('disconnect', sid, 'transport error')]


def test_oversized_websocket_message_closes_with_1009(served):
    rec = Recorder()
    server = served(echo_server(rec, max_http_buffer_size=1000))
    with ws_open(server) as ws:
        sid = json.loads(ws.recv(WAIT)[1:])['sid']
        ws.send('4' + 'x' * 5000)
        with pytest.raises(WebSocketException):
            ws.recv(WAIT)
        assert ws.close_code == 1009
    assert wait_for(lambda: rec.of('disconnect'))
    assert rec.of('disconnect') == [('disconnect', sid, 'transport error')]
