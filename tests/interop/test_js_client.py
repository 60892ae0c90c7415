"""The official engine.io-client (node) against our server over real sockets.

Scenarios of one kind run concurrently in one node process (js/client.mjs); each test then
asserts on its own scenario's result and on what the server recorded for that sid.
"""

import base64
import hashlib
import json

import httpx
import pytest
import websockets.sync.client

from .app import gen_bytes, gen_text
from .conftest import run_node

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {
    'polling': ['polling'],
    'websocket': ['websocket'],
    'upgrade': ['polling', 'websocket'],
}
BIG = 200_000
BURST = 100
UTF8 = 'héllo wörld 👋🏽 世界 こんにちは ✓ 🎉'
BYTES_256 = bytes(range(256))
PING_INTERVAL = 0.3
PING_TIMEOUT = 0.5  # the pong window: a 2-core machine under a whole test run stalls a process 200 ms at times
# Server-side reason when the JS client calls socket.close(). Over polling the client POSTs a
# close packet ('client disconnect' in python-engineio). Over websocket engine.io-client sends NO
# close packet, it just closes the websocket cleanly: python-engineio and the JS server both report
# 'transport close' there; the lead's brief asks for 'client disconnect' on every transport.
# engine.io-client's close() POSTs a close packet over polling but just closes the socket
# over websocket, which the JavaScript server (and python-engineio) report as 'transport close'.
CLIENT_CLOSE_REASON = {'polling': 'client disconnect', 'websocket': 'transport close',
                       'upgrade': 'transport close'}
SURVIVE_MS = 1700  # several ping rounds
SLACK = 1.0  # seconds allowed on top of protocol deadlines on a loaded 2-core machine


def _text(s):
    return {'text': s}


def _bin(data, as_='buffer'):
    return {'b64': base64.b64encode(data).decode(), 'as': as_}


# name -> (steps, expected messages back, expected server-side messages)
ECHO_SCENARIOS = {
    'text': ([{'send': _text('hello world')}, {'waitMessages': 1}],
             ['hello world'], ['hello world']),
    'utf8': ([{'send': _text(UTF8)}, {'waitMessages': 1}], [UTF8], [UTF8]),
    'empty': ([{'send': _text('')}, {'waitMessages': 1}], [''], ['']),
    'binary_buffer': ([{'send': _bin(BYTES_256)}, {'waitMessages': 1}],
                      [BYTES_256], [BYTES_256]),
    'binary_arraybuffer': ([{'send': _bin(BYTES_256, 'arraybuffer')}, {'waitMessages': 1}],
                           [BYTES_256], [BYTES_256]),
    'binary_uint8array': ([{'send': _bin(b'\x00\xff\x00' + BYTES_256, 'uint8array')},
                           {'waitMessages': 1}],
                          [b'\x00\xff\x00' + BYTES_256], [b'\x00\xff\x00' + BYTES_256]),
    'big_text_up': ([{'send': {'gen': 'text', 'size': BIG}}, {'waitMessages': 1}],
                    [gen_text(BIG)], [gen_text(BIG)]),
    'big_bin_up': ([{'send': {'gen': 'bin', 'size': BIG}}, {'waitMessages': 1}],
                   [gen_bytes(BIG)], [gen_bytes(BIG)]),
    'big_text_down': ([{'send': _text(f'cmd:big:{BIG}')}, {'waitMessages': 1}],
                      [gen_text(BIG)], [f'cmd:big:{BIG}']),
    'big_bin_down': ([{'send': _text(f'cmd:bin:{BIG}')}, {'waitMessages': 1}],
                     [gen_bytes(BIG)], [f'cmd:bin:{BIG}']),
    'burst_up': ([{'burst': {'prefix': 'c', 'n': BURST}}, {'waitMessages': BURST}],
                 [f'c{i}' for i in range(BURST)], [f'c{i}' for i in range(BURST)]),
    'burst_down': ([{'send': _text(f'cmd:burst:{BURST}')}, {'waitMessages': BURST}],
                   [f'm{i}' for i in range(BURST)], [f'cmd:burst:{BURST}']),
    'mixed_order': ([{'sendMany': [_text('a'), _bin(b'\x01\x02'), _text(UTF8), _text(''),
                                   _bin(b'')]},
                     {'waitMessages': 5}],
                    ['a', b'\x01\x02', UTF8, '', b''], ['a', b'\x01\x02', UTF8, '', b'']),
    'client_close': ([{'send': _text('bye')}, {'waitMessages': 1}, {'close': True},
                      {'waitClose': True}], ['bye'], ['bye']),
    'server_close': ([{'send': _text('cmd:close')}, {'waitClose': True}], [], ['cmd:close']),
}


def _scenario(server, name, key, steps, timeout_ms=15000):
    steps = list(steps)
    if key == 'upgrade':
        # messages start flowing over polling while the upgrade probe runs; the upgrade must
        # still complete and nothing may be lost or reordered across the switch
        if name != 'server_close':
            steps.insert(len(steps) - (2 if name == 'client_close' else 0),
                         {'waitEvent': 'upgrade'})
    return {'name': name, 'url': server.url, 'transports': TRANSPORTS[key],
            'upgrade': key == 'upgrade', 'timeoutMs': timeout_ms, 'steps': steps}


@pytest.fixture(scope='module')
def echo_results(server):
    """Run every echo scenario for every transport key; cached per module."""
    cache = {}

    def get(key):
        if key not in cache:
            scenarios = [_scenario(server, name, key, spec[0])
                         for name, spec in ECHO_SCENARIOS.items()]
            scenarios.append(_scenario(server, 'across_upgrade', key, [
                {'burst': {'prefix': 'a', 'n': BURST}},
                {'send': _text(f'cmd:burst:{BURST}')},
                {'waitEvent': 'upgrade'} if key == 'upgrade' else {'sleep': 50},
                {'burst': {'prefix': 'b', 'n': BURST}},
                {'waitMessages': 3 * BURST},
            ]))
            out = run_node('client.mjs', {'scenarios': scenarios, 'timeoutMs': 40000}, 60)
            cache[key] = {r['name']: r for r in out['results']}
        return cache[key]

    return get


def _describe(value):
    if isinstance(value, str):
        raw = value.encode()
        return ('text', len(raw), hashlib.sha256(raw).hexdigest())
    return ('binary', len(value), hashlib.sha256(value).hexdigest())


def _received(msg):
    if msg['type'] == 'text':
        return ('text', msg['bytes'], msg['sha256'])
    return (msg['type'], msg['len'], msg['sha256'])


def _assert_ok(res):
    assert res['ok'], f"scenario {res['name']} failed: {res['error']}; events: " \
                      f"{json.dumps(res['events'][-30:])}; close: {res['close']}"
    assert res['sid']


def _assert_transport(res, key):
    if key == 'upgrade':
        assert res['upgraded'], res['events']
        assert res['transports'][:2] == ['polling', 'websocket'], res['transports']
        assert res['finalTransport'] == 'websocket'
        assert any(e['ev'] == 'upgrade' and e['transport'] == 'websocket'
                   for e in res['events'])
    else:
        assert not res['upgraded']
        assert res['transports'] == TRANSPORTS[key]
        assert res['finalTransport'] == TRANSPORTS[key][0]


@pytest.mark.parametrize('key', list(TRANSPORTS))
@pytest.mark.parametrize('name', [n for n in ECHO_SCENARIOS if not n.endswith('_close')])
def test_echo(server, echo_results, key, name):
    res = echo_results(key)[name]
    _assert_ok(res)
    _assert_transport(res, key)
    _, expected_back, expected_server = ECHO_SCENARIOS[name]
    got = res['messages']
    assert [_received(m) for m in got] == [_describe(v) for v in expected_back]
    for msg, value in zip(got, expected_back):
        if isinstance(value, bytes):
            assert msg['type'] == 'binary'
            if 'b64' in msg:
                assert base64.b64decode(msg['b64']) == value
        elif 'data' in msg:
            assert msg['data'] == value
    server_got = server.recorder.messages(res['sid'])
    assert len(server_got) == len(expected_server)
    for value, expected in zip(server_got, expected_server):
        assert type(value) is type(expected), (type(value), type(expected))
        assert value == expected
    if name == 'burst_up' and key == 'polling':
        # the client flushes m0 alone, then the 99 buffered messages as one payload
        posts = [e for e in server.recorder.events('http', method='POST')
                 if e['query'].get('sid') == res['sid']]
        counts = [len(e['body'].split(b'\x1e')) for e in posts]
        assert max(counts) >= BURST - 1, counts
        assert sum(counts) >= BURST, counts
    if name == 'burst_down' and key == 'polling':
        # all 100 messages arrive in one poll response: no pollComplete between them
        ev = res['events']
        first = next(i for i, e in enumerate(ev) if e['ev'] == 'message' and e['i'] == 0)
        last = next(i for i, e in enumerate(ev) if e['ev'] == 'message' and e['i'] == BURST - 1)
        assert not [e for e in ev[first:last] if e['ev'] == 'pollComplete'], ev[first:last + 1]


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_nothing_lost_across_upgrade(server, echo_results, key):
    res = echo_results(key)['across_upgrade']
    _assert_ok(res)
    _assert_transport(res, key)
    texts = [m.get('data') for m in res['messages']]
    assert sorted(texts) == sorted([f'a{i}' for i in range(BURST)] + [f'm{i}' for i in range(BURST)]
                                   + [f'b{i}' for i in range(BURST)])
    # each stream stays in order, and every a* echo precedes the b* ones sent later
    for prefix in 'amb':
        assert [t for t in texts if t[0] == prefix] == [f'{prefix}{i}' for i in range(BURST)]
    assert texts.index('a99') < texts.index('b0')
    assert server.recorder.messages(res['sid'])[BURST] == f'cmd:burst:{BURST}'


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_close_from_client(server, echo_results, key):
    res = echo_results(key)['client_close']
    _assert_ok(res)
    _assert_transport(res, key)
    assert res['close']['reason'] == 'forced close'
    assert server.recorder.disconnect_reason(res['sid']) == CLIENT_CLOSE_REASON[key]
    assert len(server.recorder.events('disconnect', res['sid'])) == 1


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_close_from_server(server, echo_results, key):
    res = echo_results(key)['server_close']
    _assert_ok(res)
    assert res['close']['reason'] == 'transport close', res['close']
    assert server.recorder.disconnect_reason(res['sid']) == 'server disconnect'
    assert len(server.recorder.events('disconnect', res['sid'])) == 1
    assert res['messages'] == []


# ---------------------------------------------------------------------------- heartbeat

@pytest.fixture(scope='module')
def ping_server(start_server):
    return start_server(ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT)


@pytest.fixture(scope='module')
def ping_results(ping_server):
    scenarios = []
    for key, transports in TRANSPORTS.items():
        base = {'url': ping_server.url, 'transports': transports, 'upgrade': key == 'upgrade',
                'timeoutMs': 8000}
        scenarios.append({**base, 'name': f'survive:{key}', 'steps': [
            {'sleep': SURVIVE_MS}, {'send': _text('still here')}, {'waitMessages': 1}]})
        scenarios.append({**base, 'name': f'mute:{key}', 'steps': [
            *([{'waitEvent': 'upgrade'}] if key == 'upgrade' else []),
            {'waitEvent': 'ping'}, {'muteHeartbeat': True}, {'waitClose': True}]})
        scenarios.append({**base, 'name': f'deaf:{key}', 'steps': [
            *([{'waitEvent': 'upgrade'}] if key == 'upgrade' else []),
            {'waitEvent': 'ping'}, {'deafHeartbeat': True}, {'waitClose': True}]})
    out = run_node('client.mjs', {'scenarios': scenarios, 'timeoutMs': 20000}, 40)
    return {r['name']: r for r in out['results']}


def _event(res, name):
    return next(e for e in res['events'] if e['ev'] == name)


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_heartbeat_keeps_session_alive(ping_server, ping_results, key):
    res = ping_results[f'survive:{key}']
    _assert_ok(res)
    _assert_transport(res, key)
    assert res['handshake']['pingInterval'] == round(PING_INTERVAL * 1000)  # 300
    assert res['handshake']['pingTimeout'] == round(PING_TIMEOUT * 1000)  # 500
    assert res['pings'] >= 3, res['events']
    assert res['openAtEnd'], res['close']
    assert res['messages'][0]['data'] == 'still here'
    rec = ping_server.recorder
    rec.wait_for('connect', res['sid'])
    later = [e for e in rec.events('disconnect', res['sid'])
             if e['wall'] < res['t0'] / 1000 + SURVIVE_MS / 1000]
    assert not later, f'server closed the session during the heartbeat test: {later}'
    assert rec.messages(res['sid']) == ['still here']


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_ping_timeout_client_stops_answering(ping_server, ping_results, key):
    """The client stops answering pings (and its own heartbeat timer is switched off): the
    server must time it out with 'ping timeout' and close the transport under it."""
    res = ping_results[f'mute:{key}']
    _assert_ok(res)
    muted_at = res['t0'] / 1000 + _event(res, 'muted')['t'] / 1000
    disconnect = ping_server.recorder.wait_for('disconnect', res['sid'], timeout=5)
    assert disconnect['reason'] == 'ping timeout'
    elapsed = disconnect['wall'] - muted_at
    assert 0.15 <= elapsed <= PING_INTERVAL + PING_TIMEOUT + SLACK, elapsed
    # the server closed the transport under the client (its own heartbeat timer is off)
    assert res['close']['reason'] == 'transport close', res['close']
    assert res['close']['t'] / 1000 - _event(res, 'muted')['t'] / 1000 <= \
        PING_INTERVAL + PING_TIMEOUT + SLACK


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_client_own_ping_timeout(ping_server, ping_results, key):
    """The client answers pings but lets its own timer run: it closes with 'ping timeout'
    after pingInterval + pingTimeout as advertised (300 + 500 ms), and the server, which got
    its pongs, never timed it out."""
    res = ping_results[f'deaf:{key}']
    _assert_ok(res)
    last_ping = [e for e in res['events'] if e['ev'] == 'ping'][-1]['t'] / 1000
    assert res['close']['reason'] == 'ping timeout', res['close']
    elapsed = res['close']['t'] / 1000 - last_ping
    assert PING_INTERVAL + PING_TIMEOUT - 0.05 <= elapsed <= PING_INTERVAL + PING_TIMEOUT + SLACK
    reason = ping_server.recorder.disconnect_reason(res['sid'], timeout=5)
    assert reason != 'ping timeout'


def test_ping_timeout_raw_polling_client(ping_server):
    """A polling client that handshakes and then never polls nor pongs."""
    with httpx.Client(timeout=5) as client:
        resp = client.get(ping_server.eio_url, params={'EIO': '4', 'transport': 'polling'})
        assert resp.status_code == 200
        sid = json.loads(resp.text[1:])['sid']
    opened = ping_server.recorder.wait_for('connect', sid)
    disconnect = ping_server.recorder.wait_for('disconnect', sid, timeout=5)
    assert disconnect['reason'] == 'ping timeout'
    elapsed = disconnect['time'] - opened['time']
    assert PING_INTERVAL + PING_TIMEOUT - 0.1 <= elapsed <= PING_INTERVAL + PING_TIMEOUT + SLACK


def test_ping_timeout_raw_websocket_client(ping_server):
    """A websocket client that reads pings and never answers: the server times it out and
    closes the websocket."""
    url = f'{ping_server.ws_url}/engine.io/?EIO=4&transport=websocket'
    frames = []
    with websockets.sync.client.connect(url, open_timeout=5, close_timeout=2) as ws:
        first = ws.recv(timeout=5)
        assert first.startswith('0')
        sid = json.loads(first[1:])['sid']
        opened = ping_server.recorder.wait_for('connect', sid)
        try:
            for _ in range(50):
                frames.append(ws.recv(timeout=PING_INTERVAL + PING_TIMEOUT + SLACK + 1))
        except websockets.exceptions.ConnectionClosed:
            pass
        else:
            pytest.fail(f'server kept the websocket open: {frames}')
    disconnect = ping_server.recorder.wait_for('disconnect', sid, timeout=5)
    assert disconnect['reason'] == 'ping timeout'
    elapsed = disconnect['time'] - opened['time']
    assert PING_INTERVAL + PING_TIMEOUT - 0.1 <= elapsed <= PING_INTERVAL + PING_TIMEOUT + SLACK
    assert frames and frames[0] == '2', frames
    assert set(frames) <= {'2', '1'}, frames


# ---------------------------------------------------------------------------- handshake

def _check_open_packet(text, ping_interval, ping_timeout, upgrades):
    assert text[0] == '0', text
    data = json.loads(text[1:])
    assert set(data) == {'sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload'}, data
    assert isinstance(data['sid'], str) and data['sid']
    assert data['upgrades'] == upgrades
    assert data['pingInterval'] == ping_interval
    assert data['pingTimeout'] == ping_timeout
    assert data['maxPayload'] == 1_000_000
    return data


@pytest.mark.parametrize('which', ['default', 'ping'])
def test_handshake_polling(server, ping_server, which):
    srv, interval, timeout = ((server, 25000, 20000) if which == 'default' else
                              (ping_server, round(PING_INTERVAL * 1000), round(PING_TIMEOUT * 1000)))
    with httpx.Client(timeout=5) as client:
        resp = client.get(srv.eio_url, params={'EIO': '4', 'transport': 'polling'})
        assert resp.status_code == 200
        assert resp.headers['content-type'].lower().replace(' ', '') == \
            'text/plain;charset=utf-8'
        data = _check_open_packet(resp.text, interval, timeout, ['websocket'])
        srv.recorder.wait_for('connect', data['sid'])
        closed = client.post(srv.eio_url, params={'EIO': '4', 'transport': 'polling',
                                                  'sid': data['sid']}, content=b'1')
        assert closed.status_code == 200
        assert closed.text.lower() == 'ok'  # JS engine.io: 'ok'; python-engineio: 'OK'
    assert srv.recorder.disconnect_reason(data['sid']) == 'client disconnect'


@pytest.mark.parametrize('which', ['default', 'ping'])
def test_handshake_websocket(server, ping_server, which):
    srv, interval, timeout = ((server, 25000, 20000) if which == 'default' else
                              (ping_server, round(PING_INTERVAL * 1000), round(PING_TIMEOUT * 1000)))
    url = f'{srv.ws_url}/engine.io/?EIO=4&transport=websocket'
    with websockets.sync.client.connect(url, open_timeout=5, close_timeout=2) as ws:
        data = _check_open_packet(ws.recv(timeout=5), interval, timeout, [])
        srv.recorder.wait_for('connect', data['sid'])
        ws.send('4hi')
        assert ws.recv(timeout=5) == '4hi'
        ws.send('1')
    assert srv.recorder.disconnect_reason(data['sid']) == 'client disconnect'
