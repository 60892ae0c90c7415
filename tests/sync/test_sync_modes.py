"""Every async mode on its real WSGI server (subprocesses, see servers.py):
``disconnect(sid)`` returns at once, and a connection costs at most the
server's own thread or greenlet, with none added per message or ping.

python-engineio 4.15's ``Server.disconnect(sid)`` blocks forever on a
polling client in threading mode; engineio_fast's returns promptly in every
mode (the client's parked poll is answered with the close packet).
"""

import json
import threading
import time

import httpx
import pytest

from engineio_fast.adapters.wsgi.dispatch import BASE_GREENLETS, BASE_THREADS

from ..io.builtin_helpers import (
    OP_CLOSE,
    OP_TEXT,
    RawConn,
    RawWs,
    request,
    wait_for,
)
from .servers import KINDS, MODE_OF_KIND, ServerProcess

pytestmark = pytest.mark.timeout(120)
WAIT = 5.0
N = 12
THREADED = ('werkzeug', 'gunicorn-gthread')


@pytest.fixture(scope='module', params=KINDS)
def server(request):
    kind = request.param
    srv = ServerProcess(kind, app='tests.sync.ops_app:app', env={
        'EIO_ASYNC_MODE': MODE_OF_KIND[kind],
        'EIO_PING_INTERVAL': '0.2', 'EIO_PING_TIMEOUT': '5',
        'EIO_MAX_HTTP_BUFFER_SIZE': '10000', 'EIO_PER_MESSAGE_DEFLATE': '1'},
        extra_args=['--threads', '64'] if kind == 'gunicorn-gthread' else [])
    srv.start()
    yield srv
    srv.stop()


def _get(srv, path):
    r = httpx.get(srv.url + path, timeout=WAIT)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def _open(srv):
    r = httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling',
                  timeout=WAIT)
    assert r.status_code == 200, r.text
    return json.loads(r.text[1:])['sid']


def test_disconnect_is_prompt_with_a_parked_poll(server):
    sid = _open(server)
    box = {}

    def parked():
        # the first GET gets the first ping (0.2 s); it is not answered,
        # so no other ping comes (for the 5 s ping timeout) and the next
        # GET stays parked until the disconnect. A new connection per
        # request (uWSGI's HTTP router does not keep connections alive)
        url = server.url + '/engine.io/?EIO=4&transport=polling&sid=' + sid
        for _ in range(10):
            r = httpx.get(url, timeout=WAIT)
            box.setdefault('bodies', []).append(r.text)
            if r.status_code != 200 or '1' in r.text.split('\x1e'):
                return

    t = threading.Thread(target=parked, daemon=True)
    t.start()
    # the close must find the GET parked (this test is about answering a
    # parked GET at once)
    assert wait_for(lambda: box.get('bodies') == ['2'] and
                    sid in _get(server, '/_count')['parked'], 5), box
    t0 = time.monotonic()
    out = _get(server, '/_disconnect?sid=' + sid)
    assert out['elapsed'] < 0.3, out
    assert time.monotonic() - t0 < 1.0
    t.join(WAIT)
    assert not t.is_alive()
    assert box['bodies'][-1].split('\x1e')[-1] == '1', box
    assert _get(server, '/_count')['reasons'][sid] == 'server disconnect'


def test_disconnect_is_prompt_on_websocket(server):
    ws = RawWs(server.port)
    sid = ws.open_packet()['sid']
    out = _get(server, '/_disconnect?sid=' + sid)
    assert out['elapsed'] < 0.3, out
    while True:
        text = ws.recv_text()
        if text != '2':
            break
    assert text == '1'
    assert ws.expect_close() == 1000
    ws.close()
    assert _get(server, '/_count')['reasons'][sid] == 'server disconnect'


def _ours(count):
    """OS threads other than gunicorn gthread's executor pool's."""
    return count['threads'] - count['executor']


def test_cost_per_connection(server):
    kind = server.kind
    _open(server)
    assert wait_for(lambda: _get(server, '/_count')['sessions'] <= 1, 8)
    base = _get(server, '/_count')
    conns = [RawWs(server.port) for _ in range(N)]
    for c in conns:
        c.open_packet()
    opened = _get(server, '/_count')
    pool = opened['handlers'] - base['handlers']
    if kind in THREADED:
        threads = opened['threads'] - base['threads'] - pool
        greenlets = opened['greenlets'] - base['greenlets']
    else:
        threads = opened['threads'] - base['threads']
        greenlets = opened['greenlets'] - base['greenlets'] - pool
    if kind == 'gunicorn-gthread':
        # the executor's thread per connection (it may add one for the
        # /_count request), and none of ours
        assert _ours(opened) - pool == _ours(base), (opened, base)
        assert opened['executor'] - base['executor'] <= N + 1, \
            (opened, base)
    elif kind in THREADED:
        # the WSGI server's own thread per connection, nothing more
        assert threads <= N, (threads, greenlets)
        if kind == 'werkzeug':
            assert threads == N
    else:
        assert threads == 0, (threads, greenlets)
        assert greenlets <= N + 1, (threads, greenlets)
    # a second of traffic and ~5 ping rounds add nothing
    deadline = time.monotonic() + 1.0
    rounds = 0
    while time.monotonic() < deadline:
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
    during = _get(server, '/_count')
    # the handler pool stays within its base size (the handlers are quick)
    assert during['handlers'] <= (BASE_THREADS if kind in THREADED
                                  else BASE_GREENLETS), during
    grown = during['handlers'] - opened['handlers']
    if kind == 'gunicorn-gthread':
        # gthread's executor may add a thread of its own for any request
        # (the /_count requests too): counted apart; ours add none (~5
        # rounds of N messages would add many)
        assert _ours(during) - grown == _ours(opened), (during, opened)
    elif kind in THREADED:
        assert during['threads'] - grown == opened['threads'], \
            (during, opened)
    else:
        assert during['threads'] == opened['threads'], (during, opened)
    assert during['greenlets'] - (0 if kind in THREADED else grown) <= \
        opened['greenlets'], (during, opened)
    assert rounds >= 3
    for c in conns:
        c.send_frame(OP_CLOSE, (1000).to_bytes(2, 'big'))
        c.close()

    def released():
        # the pool's idle workers retire later (IDLE): not counted here
        now = _get(server, '/_count')
        pool = now['handlers'] - base['handlers']
        if kind == 'werkzeug':
            return now['threads'] - pool <= base['threads']
        if kind == 'gunicorn-gthread':
            # the executor's threads outlive their connections
            return _ours(now) - pool <= _ours(base)
        if kind in THREADED:
            return now['threads'] - pool <= opened['threads']
        return now['greenlets'] - pool <= base['greenlets'] + 1 and \
            now['threads'] == base['threads']

    assert wait_for(released, 8), (_get(server, '/_count'), base)


@pytest.mark.parametrize('payload,kw,code', [
    (b'4hi', {'mask': False}, 1002),
    (b'4\xff\xfe', {}, 1007),
    (b'4' + b'x' * 20000, {}, 1009),
    (b'9', {}, 1002),
])
def test_bad_frame_closes_only_that_connection(server, payload, kw, code):
    ws = RawWs(server.port)
    sid = ws.open_packet()['sid']
    other = RawWs(server.port)
    other_sid = other.open_packet()['sid']
    ws.send_frame(OP_TEXT, payload, **kw)
    assert ws.expect_close() == code
    ws.close()
    other.send_text('4alive')
    while True:
        text = other.recv_text()
        if text != '2':
            break
    assert text == '4alive'
    reasons = _get(server, '/_count')['reasons']
    assert reasons[sid] == 'transport error'
    assert other_sid not in reasons
    other.close()


@pytest.mark.parametrize('body', [b'4ok\x1e9nope', b'\xff', b'4' + b'x' * 20000])
def test_bad_post_closes_only_that_session(server, body):
    sid = _open(server)
    other = _open(server)
    url = server.url + '/engine.io/?EIO=4&transport=polling&sid='
    r = httpx.post(url + sid, content=body, timeout=WAIT)
    assert r.status_code == 400 and r.json()['code'] == 3, r.text
    assert httpx.post(url + other, content='4fine', timeout=WAIT).text == \
        'ok'
    got = httpx.get(url + other, timeout=WAIT).text.split('\x1e')
    assert '4fine' in got
    assert _get(server, '/_count')['reasons'][sid] == 'transport error'


HANDSHAKE = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
             ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
             ('Sec-WebSocket-Version', '13')]
EIO_WS = '/engine.io/?EIO=4&transport=websocket'
# servers that answer the websocket handshake before the application runs
# (gevent-websocket's handler), or write their own 101 (uWSGI): neither
# negotiates permessage-deflate
OWN_HANDSHAKE = ('gevent-ws',)
OWN_101 = ('gevent-ws', 'uwsgi')


@pytest.mark.parametrize('method, drop, extra, status, body', [
    ('GET', 'Sec-WebSocket-Key', [], 400,
     b'Missing or invalid Sec-WebSocket-Key header'),
    ('GET', 'Sec-WebSocket-Version', [('Sec-WebSocket-Version', '12')], 400,
     b'Missing or invalid Sec-WebSocket-Version header'),
    ('GET', 'Upgrade', [('Upgrade', 'foo')], 400, b'Invalid Upgrade header'),
    ('POST', None, [], 405, b'Invalid HTTP method'),
], ids=['no-key', 'version-12', 'upgrade-foo', 'post'])
def test_bad_handshake_refused_as_the_js_server(server, method, drop, extra,
                                                 status, body):
    """The refusals of protocol.websocket.handshake on every server (as
    the JavaScript server answers). gevent-websocket makes the key and
    version checks itself, before the application runs: same statuses,
    its own bodies (which it fails to write: a str on Python 3)."""
    ours = server.kind not in OWN_HANDSHAKE or method == 'POST' or \
        drop == 'Upgrade'
    headers = [h for h in HANDSHAKE if h[0] != drop] + extra
    with RawConn(server.port) as c:
        c.send(request(method, EIO_WS, headers))
        r = c.read_response(head_only=not ours)
    assert r.status == status, r
    if ours:
        assert r.body == body and r.headers['content-type'] == 'text/html'


def test_websocket_for_an_unknown_sid_is_refused_over_http(server):
    """The engine's refusal of a websocket request is an HTTP answer
    wherever the server has not answered the handshake already (uWSGI
    writes its 101 only once the request is accepted)."""
    with RawConn(server.port) as c:
        c.send(request('GET', EIO_WS + '&sid=nope', HANDSHAKE))
        r = c.read_response(head_only=server.kind in OWN_HANDSHAKE)
        if server.kind in OWN_HANDSHAKE:
            assert r.status == 101
            ws = RawWs.__new__(RawWs)
            ws.sock, ws.buf = c.sock, c.buf
            assert ws.expect_close() == 1008
            return
    assert r.status == 400 and json.loads(r.body)['code'] == 1, r


def test_permessage_deflate_where_the_server_lets_us_answer(server):
    from websockets.sync.client import connect as ws_connect
    big = '4' + 'deflate me ' * 500     # over the 1024-byte threshold
    with ws_connect(server.ws_url + EIO_WS, open_timeout=WAIT) as ws:
        ext = ws.response.headers.get('Sec-WebSocket-Extensions')
        if server.kind in OWN_101:
            assert ext is None
        else:
            assert ext == ('permessage-deflate; server_no_context_takeover; '
                           'client_no_context_takeover')
        assert ws.recv(timeout=WAIT)[0] == '0'
        ws.send(big)
        got = ws.recv(timeout=WAIT)
        while got == '2':
            ws.send('3')
            got = ws.recv(timeout=WAIT)
        assert got == big
