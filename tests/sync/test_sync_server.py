"""The synchronous Server in threading mode, in this process, on a real
Werkzeug server (threaded) on 127.0.0.1: its API, disconnect promptness,
threads per connection, slow readers and bad input.

Other modes and WSGI servers run in subprocesses (test_smoke_servers.py,
test_js_interop.py, test_sync_modes.py)."""

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import websockets.sync.client as ws_client
from werkzeug.serving import make_server

import engineio_fast as engineio
from engineio_fast import packet as eio_packet
from engineio_fast.adapters.wsgi import dispatch
from engineio_fast.adapters.wsgi.dispatch import BASE_THREADS, WORKER_NAME

from ..io.builtin_helpers import (
    EIO_POLL,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawConn,
    RawWs,
    Recorder,
    close_code,
    frame,
    wait_for,
)
from ..support import WerkzeugServer

pytestmark = pytest.mark.timeout(60)
WAIT = 5.0
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture
def serve():
    started = []

    def start(eio, app=None):
        s = WerkzeugServer(eio, app)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def echo(rec=None, hold=0.5, **options):
    """A server that echoes every message; its handler of 'hold' first
    sleeps ``hold`` seconds. Handler events go to ``eio.rec``."""
    options.setdefault('async_mode', 'threading')
    eio = engineio.Server(**options)
    rec = rec if rec is not None else Recorder()

    @eio.on('connect')
    def connect(sid, environ):
        rec.add('connect', sid, environ)

    @eio.on('message')
    def message(sid, data):
        rec.add('message', sid, data)
        if data == 'hold':
            time.sleep(hold)
        eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    eio.rec = rec
    return eio


def poll_open(url, client=None):
    r = (client or httpx).get(url + EIO_POLL, timeout=WAIT)
    assert r.status_code == 200, r.text
    return json.loads(r.text[1:])['sid']


def poll(url, sid, client=None, timeout=WAIT):
    r = (client or httpx).get(url + EIO_POLL + '&sid=' + sid, timeout=timeout)
    assert r.status_code == 200, r.text
    return r.text.split('\x1e')


def post(url, sid, body, client=None):
    return (client or httpx).post(url + EIO_POLL + '&sid=' + sid,
                                  content=body, timeout=WAIT)


def in_thread(fn, *args):
    box = {}

    def run():
        try:
            box['value'] = fn(*args)
        except BaseException as exc:  # reported by the test
            box['error'] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


# ---------------------------------------------------------------------------
# API

def test_async_mode_selection_in_a_fresh_process():
    """python-engineio's order: eventlet, gevent_uwsgi, gevent, threading;
    the first whose packages import. Checked in subprocesses so that
    eventlet/gevent are never imported here."""
    code = r'''
import sys, json
block = sys.argv[1].split(',') if sys.argv[1] else []
for name in block:
    sys.modules[name] = None
import engineio_fast as e, engineio as ref
out = {}
for impl, mod in (('fast', e), ('ref', ref)):
    out[impl] = mod.Server().async_mode
    for mode in ('threading', 'eventlet', 'gevent', 'gevent_uwsgi', 'asgi',
                 'nope'):
        try:
            mod.Server(async_mode=mode)
            out[impl + ':' + mode] = 'ok'
        except ValueError as exc:
            out[impl + ':' + mode] = str(exc)
print(json.dumps(out))
'''
    seen = {}
    for block in ('', 'eventlet', 'eventlet,gevent'):
        r = subprocess.run([sys.executable, '-c', code, block], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        seen[block] = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen['']['fast'] == 'eventlet'
    assert seen['eventlet']['fast'] == 'gevent'
    assert seen['eventlet,gevent']['fast'] == 'threading'
    for block, out in seen.items():
        # the same choice and the same errors as python-engineio
        assert out['fast'] == out['ref'], (block, out)
        for mode in ('threading', 'eventlet', 'gevent', 'gevent_uwsgi',
                     'asgi', 'nope'):
            assert out['fast:' + mode] == out['ref:' + mode], (block, mode)
    assert seen['']['fast:gevent_uwsgi'] == 'Invalid async_mode specified'
    assert seen['eventlet']['fast:eventlet'] == 'Invalid async_mode specified'


def test_primitives_of_threading_mode():
    eio = engineio.Server(async_mode='threading')
    assert eio.async_mode == 'threading'
    assert not eio.is_asyncio_based()
    box = []
    t = eio.start_background_task(lambda a, b=0: box.append(a + b), 1, b=2)
    assert isinstance(t, threading.Thread)
    t.join(WAIT)
    assert box == [3]
    q = eio.create_queue()
    q.put(1)
    assert q.get(timeout=1) == 1
    with pytest.raises(eio.get_queue_empty_exception()):
        q.get(timeout=0.01)
    ev = eio.create_event()
    assert isinstance(ev, threading.Event) and not ev.is_set()
    t0 = time.monotonic()
    eio.sleep(0.05)
    assert time.monotonic() - t0 >= 0.04
    assert len(eio.generate_id()) == 20
    assert eio.reason.PING_TIMEOUT == 'ping timeout'
    assert engineio.Server.reason.SERVER_DISCONNECT == 'server disconnect'
    with pytest.raises(ValueError):
        eio.on('nope')


def test_send_every_type_over_polling_and_websocket(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    eio.send(sid, 'text')
    eio.send(sid, b'\x00\x01')
    eio.send(sid, {'a': [1, 'é']})
    eio.send(sid, [1, 2])
    eio.send_packet(sid, eio_packet.Packet(eio_packet.MESSAGE, 'raw'))
    got = poll(srv.url, sid)
    assert got[:2] == ['4text', 'bAAE=']
    assert json.loads(got[2][1:]) == {'a': [1, 'é']}
    assert got[3:] == ['4[1,2]', '4raw']
    assert eio.transport(sid) == 'polling'
    with ws_client.connect(srv.url.replace('http', 'ws') +
                           '/engine.io/?EIO=4&transport=websocket') as ws:
        wsid = json.loads(ws.recv(WAIT)[1:])['sid']
        assert eio.transport(wsid) == 'websocket'
        eio.send(wsid, 'text')
        eio.send(wsid, b'\x00\x01')
        eio.send(wsid, {'a': 1})
        assert [ws.recv(WAIT) for _ in range(3)] == ['4text', b'\x00\x01',
                                                     '4{"a":1}']
    with pytest.raises(KeyError):
        eio.transport('nope')


def test_user_session(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    assert eio.get_session(sid) == {}
    with eio.session(sid) as s:
        s['user'] = 'ann'
    assert eio.get_session(sid) == {'user': 'ann'}
    eio.save_session(sid, {'x': 1})
    assert eio.get_session(sid) == {'x': 1}
    with pytest.raises(KeyError):
        eio.get_session('nope')
    eio.send('nope', 'x')   # logs, does not raise


def test_connect_environ_and_rejection(serve):
    eio = engineio.Server(async_mode='threading')
    seen = {}

    @eio.on('connect')
    def connect(sid, environ):
        seen['environ'] = environ
        if environ.get('HTTP_X_DENY'):
            return {'why': 'denied'}
        return None

    srv = serve(eio)
    r = httpx.get(srv.url + EIO_POLL, headers={'X-Deny': '1'}, timeout=WAIT)
    assert r.status_code == 401 and r.json() == {'why': 'denied'}
    sid = poll_open(srv.url)
    assert sid and seen['environ']['REMOTE_ADDR'] == '127.0.0.1'
    assert seen['environ']['PATH_INFO'] == '/engine.io/'


def test_post_answered_before_async_handlers_run(serve):
    eio = echo()      # async_handlers=True: the 'hold' handler sleeps 0.5 s
    srv = serve(eio)
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    assert post(srv.url, sid, '4hold').text == 'ok'
    assert time.monotonic() - t0 < 0.4
    assert poll(srv.url, sid) == ['4hold']


def test_post_waits_for_handlers_without_async_handlers(serve):
    eio = echo(async_handlers=False)
    srv = serve(eio)
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    assert post(srv.url, sid, '4hold\x1e4after').text == 'ok'
    assert time.monotonic() - t0 >= 0.45
    assert [e[2] for e in eio.rec.of('message')] == ['hold', 'after']


def test_post_answered_after_its_quick_handlers(serve):
    # as the official suite does: POST several messages, then one GET must
    # carry every echo (the handlers run on the pool; the POST's answer
    # waits for them, up to a bound, as the JavaScript server's does)
    eio = engineio.Server(async_mode='threading')

    @eio.on('message')
    def message(sid, data):
        time.sleep(0.005)   # quick, but not instant
        eio.send(sid, data)

    srv = serve(eio)
    sid = poll_open(srv.url)
    with httpx.Client(timeout=WAIT) as client:
        for i in range(10):
            body = '\x1e'.join('4m%d-%d' % (i, j) for j in range(3))
            assert post(srv.url, sid, body, client).text == 'ok'
            got = poll(srv.url, sid, client)
            assert got == ['4m%d-%d' % (i, j) for j in range(3)], (i, got)


def test_post_does_not_wait_for_a_slow_handler(serve):
    eio = echo(hold=2)
    srv = serve(eio)
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    assert post(srv.url, sid, '4hold').text == 'ok'
    assert time.monotonic() - t0 < 1.0


# ---------------------------------------------------------------------------
# disconnect(sid) returns at once (python-engineio 4.15 blocks on polling)

def test_disconnect_polling_client_with_parked_get_is_prompt(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    t, box = in_thread(poll, srv.url, sid)
    assert wait_for(lambda: eio._engine.get(sid).poll_waker is not None)
    t0 = time.monotonic()
    eio.disconnect(sid)
    assert time.monotonic() - t0 < 0.2
    t.join(WAIT)
    assert box.get('value') == ['1'], box
    assert eio.rec.reason(sid) == 'server disconnect'
    r = httpx.get(srv.url + EIO_POLL + '&sid=' + sid, timeout=WAIT)
    assert r.status_code == 400


def test_disconnect_polling_client_without_a_get_is_prompt(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    eio.disconnect(sid)
    assert time.monotonic() - t0 < 0.2
    # the client's next poll still gets the close packet, then the sid is
    # gone
    assert poll(srv.url, sid) == ['1']
    r = httpx.get(srv.url + EIO_POLL + '&sid=' + sid, timeout=WAIT)
    assert r.status_code == 400 and r.json()['code'] == 1
    assert eio.rec.reason(sid) == 'server disconnect'


def test_disconnect_websocket_and_all(serve):
    eio = echo()
    srv = serve(eio)
    a = RawWs(srv.port)
    sid_a = a.open_packet()['sid']
    sid_p = poll_open(srv.url)
    t0 = time.monotonic()
    eio.disconnect(sid_a)
    assert time.monotonic() - t0 < 0.2
    assert a.recv_text() == '1'
    assert a.expect_close() == 1000
    a.close()
    b = RawWs(srv.port)
    sid_b = b.open_packet()['sid']
    t0 = time.monotonic()
    eio.disconnect()
    assert time.monotonic() - t0 < 0.2
    assert b.recv_text() == '1' and b.expect_close() == 1000
    b.close()
    assert poll(srv.url, sid_p) == ['1']
    for sid in (sid_a, sid_b, sid_p):
        assert eio.rec.reason(sid) == 'server disconnect'


def test_disconnect_from_a_message_handler(serve):
    eio = engineio.Server(async_mode='threading')
    rec = Recorder()

    @eio.on('message')
    def message(sid, data):
        eio.disconnect(sid)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    srv = serve(eio)
    ws = RawWs(srv.port)
    sid = ws.open_packet()['sid']
    ws.send_text('4bye')
    assert ws.recv_text() == '1' and ws.expect_close() == 1000
    ws.close()
    assert rec.reason(sid) == 'server disconnect'


# ---------------------------------------------------------------------------
# heartbeat from the one service thread

def test_heartbeat_and_ping_timeout(serve):
    eio = echo(ping_interval=0.2, ping_timeout=0.2)
    srv = serve(eio)
    ws = RawWs(srv.port)
    sid = ws.open_packet()['sid']
    for _ in range(3):
        assert ws.recv_text() == '2'
        ws.send_text('3')
    psid = poll_open(srv.url)
    assert poll(srv.url, psid) == ['2']
    t0 = time.monotonic()
    # neither client answers now
    assert eio.rec.reason(psid, timeout=3) == 'ping timeout'
    assert eio.rec.reason(sid, timeout=3) == 'ping timeout'
    assert time.monotonic() - t0 < 1.5
    assert ws.recv_text() == '2'
    # python-engineio and JS close a timed-out websocket without a packet
    assert ws.expect_close() == 1000
    ws.close()


# ---------------------------------------------------------------------------
# cost per connection

def _conn_threads():
    """Werkzeug's threads, one per open connection."""
    return sum(1 for t in threading.enumerate()
               if 'process_request_thread' in t.name and t.is_alive())


def _handler_threads():
    """The handler pool's workers (async_handlers=True)."""
    return sum(1 for t in threading.enumerate()
               if t.name == WORKER_NAME and t.is_alive())


def _other_threads():
    """Neither connection threads nor pool workers, from one snapshot
    (earlier tests' idle workers retire at any time)."""
    return sum(1 for t in threading.enumerate()
               if t.is_alive() and t.name != WORKER_NAME and
               'process_request_thread' not in t.name)


def _service_threads():
    return sum(1 for t in threading.enumerate()
               if t.name == 'engineio_fast-service' and t.is_alive())


def test_threads_per_connection(serve, monkeypatch):
    """A websocket costs exactly the WSGI server's own connection thread;
    messages and pings add none; one service thread per server; the
    handlers run on a pool of at most its base size (they are quick)."""
    # a quick handler that a busy machine keeps off the CPU for STALL
    # (50 ms) would rightly get an extra worker; that growth has its own
    # tests, so here it waits far longer than any starved handler
    monkeypatch.setattr(dispatch, 'STALL', 5.0)
    n = 16
    # connections of earlier tests end within their close timeout
    assert wait_for(lambda: _conn_threads() == 0, timeout=8)
    eio = echo(ping_interval=0.1, ping_timeout=2)
    srv = serve(eio)
    poll_open(srv.url)                   # starts the service thread
    assert wait_for(lambda: _conn_threads() == 0)
    base = _other_threads()
    # earlier tests' servers may still have idle workers (they retire)
    handlers_before = _handler_threads()
    conns = [RawWs(srv.port) for _ in range(n)]
    for c in conns:
        c.open_packet()
    assert wait_for(lambda: _conn_threads() == n), _conn_threads()
    assert _other_threads() == base
    start = time.monotonic()
    rounds = 0
    # at least 1 s (~10 ping rounds meanwhile) and 5 message rounds, even
    # on a slow machine; never more than 20 s
    while (time.monotonic() - start < 1.0 or rounds < 5) and \
            time.monotonic() - start < 20.0:
        for c in conns:
            c.send_text('4m%d' % rounds)
        for c in conns:
            while True:
                text = c.recv_text()
                if text == '2':
                    c.send_text('3')
                    continue
                assert text == '4m%d' % rounds
                break
        rounds += 1
        assert (_conn_threads(), _other_threads()) == (n, base), \
            [t.name for t in threading.enumerate()]
        assert _handler_threads() - handlers_before <= BASE_THREADS
    assert rounds >= 5
    assert sum(1 for t in threading.enumerate()
               if t.name == 'engineio_fast-service') >= 1
    for c in conns:
        c.send_frame(OP_CLOSE, (1000).to_bytes(2, 'big'))
        c.close()
    assert wait_for(lambda: _conn_threads() == 0), _conn_threads()
    assert _other_threads() == base
    assert wait_for(lambda: len(eio._engine.sessions) == 1)


def test_idle_handler_workers_retire_and_come_back(serve, monkeypatch):
    """Pool workers wait for jobs without a timer; when no job came for
    IDLE seconds the service loop stops them, and the next message starts
    a worker again."""
    monkeypatch.setattr(dispatch, 'IDLE', 0.3)
    eio = echo()
    d = eio._dispatcher
    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    for i in range(20):
        ws.send_text('4m%d' % i)
    assert [ws.recv_text() for _ in range(20)] == \
        ['4m%d' % i for i in range(20)]
    assert d.workers >= 1
    # idle == 0 once every worker took its stop job and returned
    assert wait_for(lambda: (d.workers, d.idle, d.retiring) == (0, 0, 0),
                    timeout=WAIT), (d.workers, d.idle, d.retiring)
    ws.send_text('4again')
    assert ws.recv_text() == '4again'
    assert d.workers >= 1
    ws.close()


def test_no_thread_left_after_the_server_shuts_down(serve):
    assert wait_for(lambda: _conn_threads() == 0, timeout=8)
    eio = echo()
    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    sid = poll_open(srv.url)
    t, box = in_thread(poll, srv.url, sid)
    assert wait_for(lambda: eio._engine.get(sid).poll_waker is not None)
    assert _service_threads() >= 1
    services = [t for t in threading.enumerate()
                if t.name == 'engineio_fast-service']
    srv.stop()
    t.join(WAIT)
    assert box.get('value') == ['1']
    assert ws.recv_text() == '1' and ws.expect_close() == 1000
    ws.close()
    assert wait_for(lambda: _conn_threads() == 0), _conn_threads()
    for service in services:
        service.join(WAIT)
        assert not service.is_alive()


# ---------------------------------------------------------------------------
# slow readers: senders never block, buffers stay bounded

def test_slow_websocket_reader_does_not_block_senders(serve):
    eio = echo(max_queue_bytes=2 << 20)
    srv = serve(eio)
    slow = RawWs(srv.port)
    slow_sid = slow.open_packet()['sid']
    slow.sock.setsockopt(__import__('socket').SOL_SOCKET,
                         __import__('socket').SO_RCVBUF, 4096)
    other = RawWs(srv.port)
    other_sid = other.open_packet()['sid']
    chunk = 'x' * 65536
    t0 = time.monotonic()
    sent = 0
    while eio._engine.get(slow_sid) is not None and sent < 2000:
        eio.send(slow_sid, chunk)
        sent += 1
    elapsed = time.monotonic() - t0
    # the queue bound closed the session; send() never waited on the socket
    assert eio._engine.get(slow_sid) is None
    assert elapsed < 2.0, elapsed
    assert eio.rec.reason(slow_sid) == 'transport error'
    # the other client is unaffected
    eio.send(other_sid, 'still here')
    assert other.recv_text() == '4still here'
    slow.close()


def test_stalled_websocket_resumes_in_order(serve):
    eio = echo()
    srv = serve(eio)
    ws = RawWs(srv.port)
    sid = ws.open_packet()['sid']
    payloads = ['%05d' % i + 'y' * 20000 for i in range(200)]   # ~4 MB
    t0 = time.monotonic()
    for p in payloads:
        eio.send(sid, p)
    assert time.monotonic() - t0 < 2.0
    got = []
    while len(got) < len(payloads):
        text = ws.recv_text()
        if text != '2':
            got.append(text[1:])
    assert got == payloads
    ws.close()


# ---------------------------------------------------------------------------
# bad input: the PROTOCOL.md answer, only that session closed

@pytest.mark.parametrize('body,message', [
    (b'4ok\x1e9nope', None),
    (b'\xff\xfe', None),
    (b'b!!notbase64', None),
    (b'4' + b'x' * 2000, 'Payload too large'),
])
def test_bad_post_closes_only_that_session(serve, body, message):
    eio = echo(max_http_buffer_size=1000)
    srv = serve(eio)
    sid = poll_open(srv.url)
    other = poll_open(srv.url)
    r = post(srv.url, sid, body)
    assert r.status_code == 400
    assert r.json()['code'] == 3
    if message:
        assert r.json()['message'] == message
    assert eio.rec.reason(sid) == 'transport error'
    assert post(srv.url, other, '4fine').text == 'ok'
    assert poll(srv.url, other) == ['4fine']


def test_bad_requests_get_protocol_errors(serve):
    eio = echo()
    srv = serve(eio)
    base = srv.url + '/engine.io/'
    cases = [
        ('GET', '?EIO=3&transport=polling', 5),
        ('GET', '?EIO=4&transport=carrier', 0),
        ('GET', '?EIO=4&transport=polling&sid=unknown', 1),
        ('PUT', '?EIO=4&transport=polling', 2),
        ('POST', '?EIO=4&transport=polling', 2),
        ('GET', '?EIO=4&transport=websocket', 3),
    ]
    for method, query, code in cases:
        r = httpx.request(method, base + query, timeout=WAIT)
        assert r.status_code == 400, (method, query, r.text)
        assert r.json()['code'] == code, (method, query, r.text)
    sid = poll_open(srv.url)
    t, box = in_thread(poll, srv.url, sid)
    assert wait_for(lambda: eio._engine.get(sid).poll_waker is not None)
    # a second GET while one is parked: 400, and the session ends
    r = httpx.get(srv.url + EIO_POLL + '&sid=' + sid, timeout=WAIT)
    assert r.status_code == 400
    t.join(WAIT)
    assert box.get('value') == ['1']
    assert eio.rec.reason(sid) == 'transport error'


@pytest.mark.parametrize('frames,code', [
    ([(OP_TEXT, b'4hi', {'mask': False})], 1002),
    ([(OP_TEXT, b'\xff\xfe', {})], 1007),
    ([(OP_TEXT, b'4' + b'x' * 3000, {})], 1009),
    ([(OP_TEXT, b'9', {})], 1002),
    ([(OP_CONT, b'x', {})], 1002),
    ([(OP_PING, b'x' * 200, {})], 1002),
    ([(OP_TEXT, b'4a', {'rsv': 4})], 1002),
    ([(3, b'', {})], 1002),
])
def test_bad_websocket_frames_close_only_that_connection(serve, frames,
                                                          code):
    assert wait_for(lambda: _conn_threads() == 0, timeout=8)
    eio = echo(max_http_buffer_size=1000)
    srv = serve(eio)
    ws = RawWs(srv.port)
    sid = ws.open_packet()['sid']
    other = RawWs(srv.port)
    other_sid = other.open_packet()['sid']
    for op, payload, kw in frames:
        ws.send_frame(op, payload, **kw)
    assert ws.expect_close() == code
    ws.close()
    assert eio.rec.reason(sid) == 'transport error'
    other.send_text('4alive')
    assert other.recv_text() == '4alive'
    other.close()
    assert wait_for(lambda: _conn_threads() == 0), _conn_threads()
    assert eio.rec.reason(other_sid) == 'transport close'


def test_websocket_protocol_details(serve):
    eio = echo()
    srv = serve(eio)
    ws = RawWs(srv.port)
    sid = ws.open_packet()['sid']
    ws.send_frame(OP_PING, b'hey')
    assert ws.recv_frame() == (OP_PONG, True, 0, b'hey')
    # a fragmented text message with a ping in between
    ws.send_frame(OP_TEXT, b'4fr', fin=False)
    ws.send_frame(OP_PING, b'')
    ws.send_frame(OP_CONT, b'ag', fin=True)
    assert ws.recv_frame()[0] == OP_PONG
    assert ws.recv_text() == '4frag'
    ws.send_frame(OP_BINARY, b'\x01\x02')
    assert ws.recv_frame() == (OP_BINARY, True, 0, b'\x01\x02')
    ws.send_frame(OP_CLOSE, (4000).to_bytes(2, 'big') + b'bye')
    op, _, _, payload = ws.recv_frame()
    assert op == OP_CLOSE and close_code(payload) == 4000
    assert ws.closed_within(WAIT)
    assert eio.rec.reason(sid) == 'transport close'


def test_upgrade_from_polling_keeps_order(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    t, box = in_thread(poll, srv.url, sid)
    assert wait_for(lambda: eio._engine.get(sid).poll_waker is not None)
    ws = RawWs(srv.port, path='/engine.io/?EIO=4&transport=websocket&sid=' +
               sid)
    ws.send_text('2probe')
    assert ws.recv_text() == '3probe'
    t.join(WAIT)
    assert box.get('value') == ['6']
    for i in range(5):
        eio.send(sid, 'q%d' % i)
    ws.send_text('5')
    assert [ws.recv_text() for _ in range(5)] == ['4q%d' % i
                                                  for i in range(5)]
    assert eio.transport(sid) == 'websocket'
    ws.send_text('4after')
    assert ws.recv_text() == '4after'
    ws.close()


def test_server_close_mid_upgrade_goes_over_the_new_websocket(serve):
    """Once the client has '3probe' it stops polling; the close packet of a
    server disconnect then reaches it after its '5' on the websocket."""
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    ws = RawWs(srv.port, path='/engine.io/?EIO=4&transport=websocket&sid=' +
               sid)
    ws.send_text('2probe')
    assert ws.recv_text() == '3probe'
    assert poll(srv.url, sid) == ['6']
    eio.send(sid, 'last')
    eio.disconnect(sid)
    ws.send_text('5')
    assert [ws.recv_text(), ws.recv_text()] == ['4last', '1']
    assert ws.expect_close() == 1000
    assert eio.rec.reason(sid) == 'server disconnect'


def test_binary_and_base64_over_polling(serve):
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    data = bytes(range(256))
    assert post(srv.url, sid,
                'b' + base64.b64encode(data).decode()).text == 'ok'
    got = poll(srv.url, sid)
    assert got == ['b' + base64.b64encode(data).decode()]
    assert eio.rec.of('message')[-1][2] == data


def test_client_leaving_a_parked_poll_is_noticed_at_the_next_wake(serve):
    """Nothing queued is handed to a connection that is gone: the session
    ends with 'transport error' (as the JavaScript server does) when the
    parked GET is woken."""
    from ..io.builtin_helpers import RawConn, request
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    conn = RawConn(srv.port)
    conn.send(request('GET', EIO_POLL + '&sid=' + sid))
    assert wait_for(lambda: eio._engine.get(sid).poll_waker is not None)
    conn.close()
    time.sleep(0.1)
    eio.send(sid, 'for nobody')
    assert eio.rec.reason(sid) == 'transport error'
    assert eio._engine.get(sid) is None


def test_tls_polling_and_websocket(serve):
    """https and wss on Werkzeug's TLS (a self-signed certificate): the
    websocket's bytes go through TLS."""
    import ssl
    eio = echo()
    httpd = make_server('127.0.0.1', 0, engineio.WSGIApp(eio), threaded=True,
                        ssl_context='adhoc')
    t = threading.Thread(target=httpd.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True)
    t.start()
    try:
        url = 'https://127.0.0.1:%d' % httpd.server_port
        with httpx.Client(verify=False, timeout=WAIT) as c:
            sid = poll_open(url, c)
            assert post(url, sid, '4secure', c).text == 'ok'
            assert poll(url, sid, c) == ['4secure']
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ws_client.connect(url.replace('https', 'wss') +
                               '/engine.io/?EIO=4&transport=websocket',
                               ssl=ctx) as ws:
            wsid = json.loads(ws.recv(WAIT)[1:])['sid']
            big = 'z' * 300000
            ws.send('4' + big)
            assert ws.recv(WAIT) == '4' + big
            ws.send(b'\x01\x02')
            assert ws.recv(WAIT) == b'\x01\x02'
        assert eio.rec.reason(wsid) == 'transport close'
    finally:
        eio.shutdown()
        httpd.shutdown()
        httpd.server_close()
        t.join(WAIT)


def test_handlers_keep_order_across_the_upgrade(serve):
    """With async_handlers=True the POST is answered before its (slow)
    handler runs; a message that then arrives on the new websocket still
    reaches the handler after it starts, and is not held up until it ends
    (the slow handler is detached, as a suspended coroutine handler gets
    its own task in AsyncServer)."""
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    assert post(srv.url, sid, '4hold').text == 'ok'    # handler: 0.5 s
    assert time.monotonic() - t0 < 0.4
    ws = RawWs(srv.port, path='/engine.io/?EIO=4&transport=websocket&sid=' +
               sid)
    ws.send_text('2probe')
    assert ws.recv_text() == '3probe'
    ws.send_text('5')
    ws.send_text('4after')
    assert wait_for(lambda: len(eio.rec.of('message')) == 2)
    assert [e[2] for e in eio.rec.of('message')] == ['hold', 'after']
    got = [ws.recv_text() for _ in range(2)]
    assert got == ['4after', '4hold']
    ws.close()


# ---------------------------------------------------------------------------
# handlers on the pool (async_handlers=True), and the fixes of the audit

def test_slow_handler_does_not_time_out_its_websocket(serve):
    """A handler that runs longer than pingInterval + pingTimeout: its
    connection goes on reading the pongs (python-engineio's default runs
    it in its own thread too), and the next message is handled meanwhile."""
    eio = echo(hold=1.5, ping_interval=0.3, ping_timeout=0.3)
    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    ws.send_text('4hold')
    ws.send_text('4quick')
    got = []
    deadline = time.monotonic() + 4
    while len(got) < 2 and time.monotonic() < deadline:
        text = ws.recv_text()
        if text == '2':
            ws.send_text('3')
        else:
            got.append(text)
    assert got == ['4quick', '4hold']
    assert eio.rec.of('disconnect') == []
    ws.close()


def test_handler_waits_for_a_later_message_of_its_client(serve):
    """python-socketio's call() inside a handler: the handler waits for the
    client's answer, which arrives as a later message of the same session
    (over polling and over websocket)."""
    eio = engineio.Server(async_mode='threading')
    answers = {}

    @eio.on('message')
    def message(sid, data):
        if data == 'ask':
            answers[sid] = eio.create_event()
            eio.send(sid, 'question')
            ok = answers[sid].wait(3)
            eio.send(sid, 'answered' if ok else 'no answer')
        elif data == 'reply':
            answers[sid].set()

    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    ws.send_text('4ask')
    assert ws.recv_text() == '4question'
    ws.send_text('4reply')
    assert ws.recv_text() == '4answered'
    ws.close()
    sid = poll_open(srv.url)
    assert post(srv.url, sid, '4ask').text == 'ok'
    assert poll(srv.url, sid) == ['4question']
    assert post(srv.url, sid, '4reply').text == 'ok'
    assert poll(srv.url, sid) == ['4answered']


def test_handler_waits_for_a_message_queued_with_it(serve):
    """The answer came in the same POST as the question: it was already
    queued behind the waiting handler before that handler started, and
    still runs while it waits."""
    eio = engineio.Server(async_mode='threading')
    answered = eio.create_event()
    got = []

    @eio.on('message')
    def message(sid, data):
        if data == 'ask':
            got.append('answered' if answered.wait(5) else 'no answer')
        elif data == 'reply':
            answered.set()

    srv = serve(eio)
    sid = poll_open(srv.url)
    started = time.monotonic()
    assert post(srv.url, sid, '4ask\x1e4reply').text == 'ok'
    deadline = started + 6
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == ['answered']
    assert time.monotonic() - started < 4


def test_disconnect_from_own_handler_runs_the_disconnect_handler_there(
        serve):
    eio = engineio.Server(async_mode='threading')
    order = []

    @eio.on('message')
    def message(sid, data):
        order.append('before')
        eio.disconnect(sid)
        order.append('after')

    @eio.on('disconnect')
    def disconnect(sid, reason):
        order.append(reason)

    srv = serve(eio)
    sid = poll_open(srv.url)
    post(srv.url, sid, '4bye')
    assert wait_for(lambda: len(order) == 3)
    assert order == ['before', 'server disconnect', 'after']


def _busy(seconds):
    """Hold the CPU (no wait in the engine's primitives) for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_client_close_waits_for_the_handler_that_asked_for_it(serve):
    """python-socketio's disconnect() from a handler: the DISCONNECT packet
    goes out, the client closes at once, and only then does the handler run
    the disconnect handler of its namespace (Flask-SocketIO needs the
    connection's environ, which python-socketio drops on the engine's
    disconnect). The engine's disconnect waits for that handler, though it
    runs far past STALL without waiting in the engine."""
    eio = engineio.Server(async_mode='threading')
    order = []

    @eio.on('message')
    def message(sid, data):
        eio.send(sid, 'bye')
        _busy(0.4)      # a busy machine: the client closes meanwhile
        order.append('handler done')

    @eio.on('disconnect')
    def disconnect(sid, reason):
        order.append(reason)

    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    ws.send_text('4go')
    assert ws.recv_text() == '4bye'
    ws.send_text('1')
    assert wait_for(lambda: len(order) == 2)
    assert order == ['handler done', 'client disconnect']
    ws.close()


@pytest.mark.parametrize('wait', ['sleep', 'event'])
def test_client_close_does_not_wait_for_a_handler_that_waits(serve, wait):
    """A handler that runs until its client goes (a loop in eio.sleep(), or
    an event it waits for, set by the disconnect handler) is not waited
    for: the disconnect handler runs while it waits."""
    eio = engineio.Server(async_mode='threading')
    gone = eio.create_event()
    done = []

    @eio.on('message')
    def message(sid, data):
        started = time.monotonic()
        if wait == 'sleep':
            while not gone.is_set() and time.monotonic() - started < 10:
                eio.sleep(0.01)
        else:
            gone.wait(10)
        done.append(time.monotonic() - started)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        gone.set()

    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    ws.send_text('4stream')
    time.sleep(0.1)
    closed = time.monotonic()
    ws.send_text('1')
    assert wait_for(lambda: done, timeout=12)
    assert time.monotonic() - closed < 1.5
    ws.close()


@pytest.mark.parametrize('mode', ['threading', 'eventlet', 'gevent'])
def test_client_close_waits_for_the_task_of_a_handler(mode):
    """python-socketio runs each event in a background task started by the
    engine's message handler (eio.start_background_task): a disconnect
    waits for the tasks its session's handlers started, unless they wait
    in the engine (in a fresh interpreter per async mode)."""
    out = subprocess.run(
        [sys.executable, '-c', TASK_ORDER_SCRIPT, mode],
        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split() == ['busy-task-done', 'client-disconnect',
                                  'parked-prompt'], out.stdout + out.stderr


TASK_ORDER_SCRIPT = r"""
import sys
mode = sys.argv[1]
if mode == 'eventlet':
    import eventlet
    eventlet.monkey_patch()
elif mode == 'gevent':
    from gevent import monkey
    monkey.patch_all()
import time

import engineio_fast as engineio
from tests.io.builtin_helpers import RawWs, wait_for
from tests.support import WerkzeugServer

# python-socketio's way: engine handlers inline, each event in a task
eio = engineio.Server(async_mode=mode, async_handlers=False)
order = []
gone = {}
ended = {}


def busy(seconds):
    # CPU held without waiting in the engine (green modes: yield to the
    # hub now and then, as code that does I/O would)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if mode != 'threading':
            time.sleep(0)


def task(sid, data):
    if data == 'busy':
        eio.send(sid, 'bye')
        busy(0.4)
        order.append('busy-task-done')
    else:
        gone[sid] = eio.create_event()
        eio.send(sid, 'looping')
        started = time.monotonic()
        while not gone[sid].is_set() and time.monotonic() - started < 10:
            eio.sleep(0.01)
        ended[sid] = time.monotonic()


@eio.on('message')
def message(sid, data):
    eio.start_background_task(task, sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    order.append(reason.replace(' ', '-'))
    if sid in gone:
        gone[sid].set()


srv = WerkzeugServer(eio)
ws = RawWs(srv.port)
ws.open_packet()
ws.send_text('4busy')
assert ws.recv_text() == '4bye'
ws.send_text('1')
assert wait_for(lambda: len(order) == 2), order
ws.close()
print(*order)
ws = RawWs(srv.port)
sid = ws.open_packet()['sid']
ws.send_text('4loop')
assert ws.recv_text() == '4looping'
closed = time.monotonic()
ws.send_text('1')
assert wait_for(lambda: sid in ended, timeout=12)
print('parked-prompt' if ended[sid] - closed < 1.5 else
      'parked-late %.2f' % (ended[sid] - closed))
srv.stop()
"""


def test_client_close_waits_for_a_blocked_handler_at_most_close_stall(
        serve, monkeypatch):
    """A handler blocked outside the engine (time.sleep, a database call)
    holds the disconnect handler back CLOSE_STALL seconds at most."""
    monkeypatch.setattr(dispatch, 'CLOSE_STALL', 0.5)
    eio = engineio.Server(async_mode='threading')
    release = threading.Event()      # not the engine's: not a parked wait
    got = []

    @eio.on('message')
    def message(sid, data):
        release.wait(10)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        got.append(time.monotonic())

    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.open_packet()
    ws.send_text('4block')
    time.sleep(0.1)
    closed = time.monotonic()
    ws.send_text('1')
    try:
        assert wait_for(lambda: got, timeout=8)
        assert 0.3 <= got[0] - closed < 5
    finally:
        release.set()
        ws.close()


def test_cors_list_with_star_allows_every_origin(serve):
    srv = serve(engineio.Server(async_mode='threading',
                                cors_allowed_origins=['*']))
    r = httpx.get(srv.url + EIO_POLL, headers={'Origin': 'http://a.example'},
                  timeout=WAIT)
    assert r.status_code == 200
    assert r.headers['access-control-allow-origin'] == 'http://a.example'


def test_server_keeps_pinging_after_shutdown(serve):
    """shutdown() disconnects everyone; clients that connect afterwards
    still get heartbeats (the service task starts again)."""
    eio = engineio.Server(async_mode='threading', ping_interval=0.2,
                          ping_timeout=1)
    srv = serve(eio)
    poll_open(srv.url)
    eio.shutdown()
    sid = poll_open(srv.url)
    t0 = time.monotonic()
    assert poll(srv.url, sid) == ['2']
    assert time.monotonic() - t0 < 2


def test_post_cut_short_reaches_no_handler(serve):
    """The client leaves before the end of its POST body: nothing of it is
    handled, and the session ends with 'transport error'."""
    eio = echo()
    srv = serve(eio)
    sid = poll_open(srv.url)
    conn = RawConn(srv.port)
    conn.send(b'POST /engine.io/?EIO=4&transport=polling&sid=' +
              sid.encode() + b' HTTP/1.1\r\nHost: x\r\n'
              b'Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n'
              b'4hello\x1e4wor')
    conn.sock.shutdown(socket.SHUT_WR)
    assert wait_for(lambda: eio.rec.of('disconnect'))
    conn.close()
    assert [e[2] for e in eio.rec.of('disconnect')] == ['transport error']
    assert eio.rec.of('message') == []


def test_non_reading_client_is_dropped_when_its_session_ends(serve):
    """A websocket client that stopped reading: once its session ends (here
    by disconnect()), what waits for it gets the close timeout, then the
    connection is closed and its queue freed."""
    eio = engineio.Server(async_mode='threading', ws_close_timeout=0.5)
    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sid = ws.open_packet()['sid']
    big = 'x' * 65536
    for _ in range(64):            # 4 MiB: far more than the socket takes
        eio.send(sid, big)
    conn = next(iter(c for c in _ws_conns(eio)), None)
    assert conn is not None and conn.out is not None
    eio.disconnect(sid)
    assert wait_for(lambda: conn.dead, timeout=5)
    ws.close()


def _ws_conns(eio, n=1):
    """The websocket connections the service task writes for (waits until
    there are ``n``: the task moves them from its incoming list to its own
    set outside the lock, and changes that set while we copy it)."""
    svc = eio._service
    found = []

    def look():
        try:
            with eio._lock:
                run = svc._run_state
                found[:] = list(run.watched if run else ()) + \
                    list(svc._incoming)
        except RuntimeError:    # the set changed size while copied
            return False
        return len(found) >= n

    wait_for(look, timeout=WAIT)
    return found


def test_pings_without_reading_do_not_pile_up(serve):
    """A client that sends pings and never reads: the pongs stay bounded
    (only the latest is answered once output waits)."""
    eio = engineio.Server(async_mode='threading')
    srv = serve(eio)
    ws = RawWs(srv.port)
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sid = ws.open_packet()['sid']
    for _ in range(8):
        eio.send(sid, 'x' * 1000000)   # more than the socket takes
    conns = _ws_conns(eio)
    assert len(conns) == 1 and conns[0].out is not None
    before = len(conns[0].out)
    ping = frame(OP_PING, b'p' * 100)
    for _ in range(200):
        ws.send(ping * 100)        # 20,000 pings: 2 MB of pongs unbounded
    time.sleep(0.5)                # the server reads them meanwhile
    assert len(conns[0].out or b'') <= before
    ws.close()


@pytest.mark.parametrize('mode', ['threading', 'eventlet', 'gevent'])
def test_background_task_has_join(mode):
    """start_background_task() returns an object with join() in every mode
    (eventlet's GreenThread itself has only wait())."""
    code = ('import engineio_fast as e\n'
            's = e.Server(async_mode=%r)\n'
            'box = []\n'
            't = s.start_background_task(box.append, 7)\n'
            't.join()\n'
            'assert box == [7], box\n'
            'print("joined")\n' % mode)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == 'joined', out.stderr
