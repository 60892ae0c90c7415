"""The official engine.io-client 6 (node, tests/interop/js/client.mjs) against
engineio_fast's synchronous Server on every real WSGI server kind.

Per kind two server processes run the echo app (tests/sync/echo_app.py): one
with the default heartbeat for the echo scenarios, one with a short heartbeat
(0.3 s / 0.2 s) for the heartbeat scenarios. All echo scenarios of a kind
(every transport: polling, websocket, polling -> websocket upgrade) run
concurrently in ONE node invocation, then all heartbeat scenarios in a second
one; each test then asserts on its scenario's client-side result and on what
the server recorded for that sid (``GET /_record``).

Only engineio_fast is under test here. A kind that cannot run errors out
(ServerProcess.start raises): never a skip.
"""

import base64
import hashlib
import json
import threading
import time

import pytest

from ..interop.conftest import run_node
from .servers import KINDS, ServerProcess

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {
    'polling': ['polling'],
    'websocket': ['websocket'],
    'upgrade': ['polling', 'websocket'],
}
BIG = 200_000
BURST = 100
# 2-, 3- and 4-byte UTF-8 sequences, non-BMP (surrogate pairs in JS) too
UTF8 = ('h\u00e9llo w\u00f6rld \U0001f44b\U0001f3fd \u4e16\u754c '
        '\u3053\u3093\u306b\u3061\u306f \u2713 \U0001f389 \U00010348')
BYTES_256 = bytes(range(256))
PING_INTERVAL = 0.3
# the pong window: a stall of the server or the client longer than this
# (one single-threaded eventlet worker beside a wheel build on 2 cores under
# TEST_WORKERS=2 stalled ~0.3 s) times out a client that is answering, or
# lets a muted client's next poll arrive after its session has gone
PING_TIMEOUT = 1.0
SLOW_N = 10
# the slow handler's command: it ends once the server echoed the last message
# sent after it (or after 10 s, when the handlers behind it were held up)
SLOW_HANDLER = 'waitfor:z%d:10' % (SLOW_N - 1)
SURVIVE_MS = 1700  # several ping rounds
SLACK = 1.0  # seconds on top of protocol deadlines on a loaded 2-core machine
RECORD_WAIT = 10.0  # seconds to wait for expected disconnects on the server
# engine.io-client's close() POSTs a close packet over polling ('client
# disconnect'), but over websocket it just closes the socket cleanly, which the
# JavaScript server and python-engineio report as 'transport close'
CLIENT_CLOSE_REASON = {'polling': 'client disconnect',
                       'websocket': 'transport close',
                       'upgrade': 'transport close'}
# the server thread pool must hold every long-poll / websocket of the run at
# once (~60 sessions): gunicorn's gthread worker parks one thread per request
SERVER_ARGS = {'gunicorn-gthread': ['--threads', '200']}


def gen_text(n):
    """client.mjs genText"""
    alphabet = 'abcdefghijklmnopqrstuvwxyz'
    return (alphabet * (n // 26 + 1))[:n]


def gen_bytes(n):
    """client.mjs genBytes"""
    return bytes(i % 251 for i in range(n))


def _text(s):
    return {'text': s}


def _bin(data, as_='buffer'):
    return {'b64': base64.b64encode(data).decode(), 'as': as_}


# name -> (steps, expected messages back, expected messages the server saw)
ECHO_SCENARIOS = {
    'text': ([{'send': _text('hello world')}, {'waitMessages': 1}],
             ['hello world'], ['hello world']),
    'utf8': ([{'send': _text(UTF8)}, {'waitMessages': 1}], [UTF8], [UTF8]),
    'empty': ([{'send': _text('')}, {'waitMessages': 1}], [''], ['']),
    'binary_buffer': ([{'send': _bin(BYTES_256)}, {'waitMessages': 1}],
                      [BYTES_256], [BYTES_256]),
    'binary_arraybuffer': ([{'send': _bin(BYTES_256, 'arraybuffer')},
                            {'waitMessages': 1}],
                           [BYTES_256], [BYTES_256]),
    'binary_uint8array': ([{'send': _bin(b'\x00\xff\x00' + BYTES_256,
                                         'uint8array')},
                           {'waitMessages': 1}],
                          [b'\x00\xff\x00' + BYTES_256],
                          [b'\x00\xff\x00' + BYTES_256]),
    'big_text_up': ([{'send': {'gen': 'text', 'size': BIG}},
                     {'waitMessages': 1}],
                    [gen_text(BIG)], [gen_text(BIG)]),
    'big_bin_up': ([{'send': {'gen': 'bin', 'size': BIG}},
                    {'waitMessages': 1}],
                   [gen_bytes(BIG)], [gen_bytes(BIG)]),
    'big_bin_up_arraybuffer': ([{'send': {'gen': 'bin', 'size': BIG,
                                          'as': 'arraybuffer'}},
                                {'waitMessages': 1}],
                               [gen_bytes(BIG)], [gen_bytes(BIG)]),
    'big_text_down': ([{'send': _text('big:%d' % BIG)}, {'waitMessages': 1}],
                      ['x' * BIG], ['big:%d' % BIG]),
    'big_bin_down': ([{'send': _text('binbig:%d' % BIG)}, {'waitMessages': 1}],
                     [bytes(i % 256 for i in range(BIG))],
                     ['binbig:%d' % BIG]),
    'burst_up': ([{'burst': {'prefix': 'c', 'n': BURST}},
                  {'waitMessages': BURST}],
                 ['c%d' % i for i in range(BURST)],
                 ['c%d' % i for i in range(BURST)]),
    'burst_down': ([{'send': _text('bulk:%d' % BURST)},
                    {'waitMessages': BURST}],
                   ['bulk:%d' % i for i in range(BURST)],
                   ['bulk:%d' % BURST]),
    'mixed_order': ([{'sendMany': [_text('a'), _bin(b'\x01\x02'), _text(UTF8),
                                   _text(''), _bin(b'')]},
                     {'waitMessages': 5}],
                    ['a', b'\x01\x02', UTF8, '', b''],
                    ['a', b'\x01\x02', UTF8, '', b'']),
    'client_close': ([{'send': _text('bye')}, {'waitMessages': 1},
                      {'close': True}, {'waitClose': True}],
                     ['bye'], ['bye']),
    'server_close': ([{'send': _text('close')}, {'waitClose': True}],
                     [], ['close']),
}
# scenarios after which the session must be over on the server side
CLOSING = {'client_close', 'server_close'}


def _scenario(url, name, key, steps, timeout_ms=15000):
    steps = list(steps)
    if key == 'upgrade' and name != 'server_close':
        # messages flow over polling while the upgrade probe runs; the upgrade
        # must still complete (and, for client_close, before the close)
        steps.insert(len(steps) - (2 if name == 'client_close' else 0),
                     {'waitEvent': 'upgrade'})
    return {'name': '%s:%s' % (name, key), 'url': url,
            'transports': TRANSPORTS[key], 'upgrade': key == 'upgrade',
            'timeoutMs': timeout_ms, 'steps': steps}


def _echo_scenarios(url):
    scenarios = []
    for key in TRANSPORTS:
        for name, spec in ECHO_SCENARIOS.items():
            scenarios.append(_scenario(url, name, key, spec[0]))
        # what the server thinks the transport is once the client settled
        scenarios.append({
            'name': 'server_transport:%s' % key, 'url': url,
            'transports': TRANSPORTS[key], 'upgrade': key == 'upgrade',
            'timeoutMs': 15000, 'steps': [
                *([{'waitEvent': 'upgrade'}] if key == 'upgrade' else []),
                {'send': _text('transport')}, {'waitMessages': 1}]})
        # a numbered burst each way while the upgrade runs: nothing lost or
        # reordered across the switch
        scenarios.append(_scenario(url, 'across_upgrade', key, [
            {'burst': {'prefix': 'a', 'n': BURST}},
            {'send': _text('bulk:%d' % BURST)},
            {'waitEvent': 'upgrade'} if key == 'upgrade' else {'sleep': 50},
            {'burst': {'prefix': 'z', 'n': BURST}},
            {'waitMessages': 3 * BURST},
        ]))
        # a slow handler (SLOW_HANDLER) followed by more messages in the same
        # POST, then (once that POST was answered) more messages over a new
        # POST or, for 'upgrade', over the new websocket: the handlers must
        # still run one after the other in the order the client sent them
        scenarios.append({
            'name': 'slow_handler:%s' % key, 'url': url,
            'transports': TRANSPORTS[key], 'upgrade': key == 'upgrade',
            'timeoutMs': 15000, 'steps': [
                {'send': _text('warm')}, {'waitMessages': 1},
                {'sendMany': [_text(SLOW_HANDLER)]
                 + [_text('a%d' % i) for i in range(SLOW_N)]},
                {'waitEvent': 'upgrade'} if key == 'upgrade'
                else {'sleep': 100},
                {'burst': {'prefix': 'z', 'n': SLOW_N}},
                {'waitMessages': 2 + 2 * SLOW_N}]})
    return scenarios


def _ping_scenarios(url):
    scenarios = []
    for key, transports in TRANSPORTS.items():
        base = {'url': url, 'transports': transports,
                'upgrade': key == 'upgrade', 'timeoutMs': 10000}
        up = [{'waitEvent': 'upgrade'}] if key == 'upgrade' else []
        scenarios.append({**base, 'name': 'survive:%s' % key, 'steps': [
            {'sleep': SURVIVE_MS}, {'send': _text('still here')},
            {'waitMessages': 1}]})
        scenarios.append({**base, 'name': 'mute:%s' % key, 'steps': [
            *up, {'waitEvent': 'ping'}, {'muteHeartbeat': True},
            {'waitClose': True}]})
        scenarios.append({**base, 'name': 'deaf:%s' % key, 'steps': [
            *up, {'waitEvent': 'ping'}, {'deafHeartbeat': True},
            {'waitClose': True}]})
    return scenarios


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope='module', params=KINDS)
def kind(request):
    return request.param


@pytest.fixture(scope='module')
def servers(kind):
    """(echo server, short-heartbeat server) of KIND, started in parallel."""
    procs = [
        ServerProcess(kind, env={'EIO_IMPL': 'engineio_fast'},
                      extra_args=SERVER_ARGS.get(kind, ())),
        ServerProcess(kind, env={'EIO_IMPL': 'engineio_fast',
                                 'EIO_PING_INTERVAL': str(PING_INTERVAL),
                                 'EIO_PING_TIMEOUT': str(PING_TIMEOUT)},
                      extra_args=SERVER_ARGS.get(kind, ())),
    ]
    errors = [None, None]

    def start(i):
        try:
            procs[i].start()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        for i, err in enumerate(errors):
            if err is not None:
                raise err
            if threads[i].is_alive() or not procs[i].alive():
                raise RuntimeError('%s server %d did not start: %s'
                                   % (kind, i, procs[i].output()[-3000:]))
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope='module')
def srv(servers):
    return servers[0]


@pytest.fixture(scope='module')
def ping_srv(servers):
    return servers[1]


def _wait_record(server, sids, deadline):
    """The server's /_record once every sid in SIDS has a disconnect event
    (or at the deadline: the tests then fail on what is missing)."""
    while True:
        record = server.record()
        gone = {e['sid'] for e in record['events']
                if e['event'] == 'disconnect'}
        if set(sids) <= gone or time.monotonic() > deadline:
            return record
        time.sleep(0.2)


@pytest.fixture(scope='module')
def results(srv, ping_srv):
    """Run every scenario of this kind: the echo scenarios in one node
    process, then the heartbeat ones in another (run alone, so that the load
    of the echo run, 200 KB payloads on 2 cores, cannot delay a pong past
    the 0.2 s ping timeout)."""
    started = time.monotonic()
    by_name = {}
    for _server, scenarios in ((srv, _echo_scenarios(srv.url)),
                              (ping_srv, _ping_scenarios(ping_srv.url))):
        out = run_node('client.mjs', {'scenarios': scenarios,
                                      'timeoutMs': 40000}, 60)
        got = {r['name']: r for r in out['results']}
        assert sorted(got) == sorted(s['name'] for s in scenarios)
        by_name.update(got)
    deadline = time.monotonic() + RECORD_WAIT
    echo_closing = [by_name['%s:%s' % (n, k)]['sid'] for n in CLOSING
                    for k in TRANSPORTS]
    ping_closing = [by_name['%s:%s' % (n, k)]['sid'] for n in ('mute', 'deaf')
                    for k in TRANSPORTS]
    records = {
        'echo': _wait_record(srv, [s for s in echo_closing if s], deadline),
        'ping': _wait_record(ping_srv, [s for s in ping_closing if s],
                             deadline),
    }
    print('%s: node runs + records in %.1f s'
          % (srv.kind, time.monotonic() - started))
    return by_name, records


# ------------------------------------------------------------------ helpers

def _events(record, sid, event=None):
    return [e for e in record['events']
            if e['sid'] == sid and (event is None or e['event'] == event)]


def _server_messages(record, sid):
    out = []
    for e in _events(record, sid, 'message'):
        data = e['data']
        if data['type'] == 'bytes':
            out.append(base64.b64decode(data['b64']))
        else:
            out.append(data['text'])
    return out


def _disconnect_reason(record, sid):
    events = _events(record, sid, 'disconnect')
    assert len(events) == 1, 'disconnects of %s: %r' % (sid, events)
    return events[0]['reason']


def _describe(value):
    if isinstance(value, str):
        raw = value.encode()
        return ('text', len(raw), hashlib.sha256(raw).hexdigest())
    return ('binary', len(value), hashlib.sha256(value).hexdigest())


def _received(msg):
    if msg['type'] == 'text':
        return ('text', msg['bytes'], msg['sha256'])
    return (msg['type'], msg['len'], msg['sha256'])


def _server_view(record, sid):
    """What the server recorded for SID, message payloads left out."""
    return [{k: v for k, v in e.items() if k != 'data'}
            for e in _events(record, sid)][-20:]


def _assert_ok(res, record=None):
    assert res['ok'], 'scenario %s failed: %s; events: %s; close: %s%s' % (
        res['name'], res['error'], json.dumps(res['events'][-30:]),
        res['close'], '' if record is None else
        '; server saw: %s' % json.dumps(_server_view(record, res['sid'])))
    assert res['sid']


def _assert_transport(res, key):
    if key == 'upgrade':
        assert res['upgraded'], res['events']
        assert res['transports'][:2] == ['polling', 'websocket'], \
            res['transports']
        assert res['finalTransport'] == 'websocket'
        assert any(e['ev'] == 'upgrade' and e['transport'] == 'websocket'
                   for e in res['events'])
        assert not [e for e in res['events'] if e['ev'] == 'upgradeError']
    else:
        assert not res['upgraded']
        assert res['transports'] == TRANSPORTS[key]
        assert res['finalTransport'] == TRANSPORTS[key][0]


def _assert_connected(record, res, key):
    connects = _events(record, res['sid'], 'connect')
    assert len(connects) == 1, connects
    assert connects[0]['transport'] == \
        ('websocket' if key == 'websocket' else 'polling'), connects


def _event(res, name):
    return next(e for e in res['events'] if e['ev'] == name)


# -------------------------------------------------------------------- echo

@pytest.mark.parametrize('key', list(TRANSPORTS))
@pytest.mark.parametrize('name', [n for n in ECHO_SCENARIOS
                                  if n not in CLOSING])
def test_echo(srv, results, key, name):
    by_name, records = results
    res = by_name['%s:%s' % (name, key)]
    _assert_ok(res, records['echo'])
    _assert_transport(res, key)
    _, expected_back, expected_server = ECHO_SCENARIOS[name]
    got = res['messages']
    assert [_received(m) for m in got] == \
        [_describe(v) for v in expected_back]
    for msg, value in zip(got, expected_back):
        if isinstance(value, bytes):
            assert msg['type'] == 'binary'
            assert msg['cls'] == 'Buffer', msg  # node: binaryType nodebuffer
            if 'b64' in msg:
                assert base64.b64decode(msg['b64']) == value
        elif 'data' in msg:
            assert msg['data'] == value
    record = records['echo']
    _assert_connected(record, res, key)
    server_got = _server_messages(record, res['sid'])
    assert len(server_got) == len(expected_server)
    for value, expected in zip(server_got, expected_server):
        assert type(value) is type(expected), (type(value), type(expected))
        assert value == expected


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_server_sees_transport(srv, results, key):
    by_name, records = results
    res = by_name['server_transport:%s' % key]
    _assert_ok(res, records['echo'])
    _assert_transport(res, key)
    want = 'polling' if key == 'polling' else 'websocket'
    assert [m.get('data') for m in res['messages']] == [want]


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_nothing_lost_across_upgrade(srv, results, key):
    by_name, records = results
    res = by_name['across_upgrade:%s' % key]
    _assert_ok(res, records['echo'])
    _assert_transport(res, key)
    a = ['a%d' % i for i in range(BURST)]
    z = ['z%d' % i for i in range(BURST)]
    bulk = ['bulk:%d' % i for i in range(BURST)]
    # the server ran the handlers exactly once each, in the order sent
    assert _server_messages(records['echo'], res['sid']) == \
        a + ['bulk:%d' % BURST] + z
    texts = [m.get('data') for m in res['messages']]
    assert sorted(texts) == sorted(a + bulk + z)
    # each stream stays in order; every a* echo precedes the later z* ones
    assert [t for t in texts if t[0] == 'a'] == a
    assert [t for t in texts if t[0] == 'z'] == z
    assert [t for t in texts if t.startswith('bulk:')] == bulk
    assert texts.index(a[-1]) < texts.index('z0')


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_handler_order_behind_slow_handler(srv, results, key):
    """Handlers start in the order the client sent the messages (on a later
    POST, or over the websocket it upgraded to), and a slow handler does
    not hold up the ones behind it (it is detached, as a suspended
    coroutine handler gets its own task in AsyncServer): the answers to
    the later messages do not wait for its answer."""
    by_name, records = results
    res = by_name['slow_handler:%s' % key]
    _assert_ok(res, records['echo'])
    _assert_transport(res, key)
    a = ['a%d' % i for i in range(SLOW_N)]
    z = ['z%d' % i for i in range(SLOW_N)]
    assert _server_messages(records['echo'], res['sid']) == \
        ['warm', SLOW_HANDLER] + a + z
    got = [m.get('data') for m in res['messages']]
    assert got.count('slept') == 1 and got.index('slept') > 0
    assert [d for d in got if d != 'slept'] == ['warm'] + a + z
    # the slow handler ended only after the handlers behind it had answered
    # (held up behind it, they would have answered after its 10 s wait)
    assert got[-1] == 'slept', got


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_close_from_client(srv, results, key):
    by_name, records = results
    res = by_name['client_close:%s' % key]
    _assert_ok(res, records['echo'])
    _assert_transport(res, key)
    assert res['close']['reason'] == 'forced close'
    assert [m.get('data') for m in res['messages']] == ['bye']
    record = records['echo']
    assert _server_messages(record, res['sid']) == ['bye']
    assert _disconnect_reason(record, res['sid']) == CLIENT_CLOSE_REASON[key]
    assert res['sid'] not in record['connected']


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_close_from_server(srv, results, key):
    by_name, records = results
    res = by_name['server_close:%s' % key]
    _assert_ok(res, records['echo'])
    assert res['close']['reason'] == 'transport close', res['close']
    assert res['messages'] == []
    record = records['echo']
    assert _server_messages(record, res['sid']) == ['close']
    assert _disconnect_reason(record, res['sid']) == 'server disconnect'
    assert res['sid'] not in record['connected']


# --------------------------------------------------------------- heartbeat

@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_heartbeat_keeps_session_alive(ping_srv, results, key):
    by_name, records = results
    res = by_name['survive:%s' % key]
    _assert_ok(res, records['ping'])
    _assert_transport(res, key)
    assert res['handshake']['pingInterval'] == round(PING_INTERVAL * 1000)
    assert res['handshake']['pingTimeout'] == round(PING_TIMEOUT * 1000)
    assert res['pings'] >= 3, res['events']
    assert res['openAtEnd'], res['close']
    assert [m.get('data') for m in res['messages']] == ['still here']
    record = records['ping']
    _assert_connected(record, res, key)
    early = [e for e in _events(record, res['sid'], 'disconnect')
             if e['time'] < res['t0'] / 1000 + SURVIVE_MS / 1000]
    assert not early, \
        'server closed the session during the heartbeat test: %r' % early
    assert _server_messages(record, res['sid']) == ['still here']


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_ping_timeout_client_stops_answering(ping_srv, results, key):
    """The client stops answering pings (its own heartbeat timer off): the
    server times it out with 'ping timeout' and closes the transport."""
    by_name, records = results
    res = by_name['mute:%s' % key]
    _assert_ok(res, records['ping'])
    _assert_transport(res, key)
    muted = _event(res, 'muted')['t'] / 1000
    record = records['ping']
    assert _disconnect_reason(record, res['sid']) == 'ping timeout'
    disconnect = _events(record, res['sid'], 'disconnect')[0]
    elapsed = disconnect['time'] - (res['t0'] / 1000 + muted)
    assert 0.1 <= elapsed <= PING_INTERVAL + PING_TIMEOUT + SLACK, elapsed
    # the server closed the transport under the client
    assert res['close']['reason'] == 'transport close', res['close']
    assert res['close']['t'] / 1000 - muted <= \
        PING_INTERVAL + PING_TIMEOUT + SLACK
    assert res['sid'] not in record['connected']


@pytest.mark.parametrize('key', list(TRANSPORTS))
def test_client_own_ping_timeout(ping_srv, results, key):
    """The client answers pings but lets its own timer run: it closes with
    'ping timeout' after pingInterval + pingTimeout, and the server, which got
    its pongs, did not time it out."""
    by_name, records = results
    res = by_name['deaf:%s' % key]
    _assert_ok(res, records['ping'])
    _assert_transport(res, key)
    pings = [e['t'] / 1000 for e in res['events'] if e['ev'] == 'ping']
    assert res['close']['reason'] == 'ping timeout', res['close']
    elapsed = res['close']['t'] / 1000 - pings[-1]
    assert PING_INTERVAL + PING_TIMEOUT - 0.05 <= elapsed <= \
        PING_INTERVAL + PING_TIMEOUT + SLACK, elapsed
    reason = _disconnect_reason(records['ping'], res['sid'])
    assert reason != 'ping timeout'
