"""engineio Client and AsyncClient against the official JavaScript server (engine.io 6, in
node: js_server.mjs) and against a deliberately misbehaving server (bad_server.py).

Every test runs for both implementations (``impl``: engineio_fast and python-engineio 4.15.1)
and both client kinds (``kind``: Client, AsyncClient), most of them over each transport
(``transport``: polling only, websocket only, polling then upgrade).

Where python-engineio is known to miss a requirement the test still asserts the requirement
and python-engineio's param is a strict xfail naming the limitation (``known_failure``), so
the difference stays documented and an upstream fix shows up as XPASS(strict).

Every client runs under the ``sessions`` fixture: teardown disconnects it (bounded) and fails
the test if an exception escaped into a background thread or an event loop.
"""

import hashlib
import json
import os
import time

import pytest

try:  # tests.client is a package once tests/client/__init__.py exists; plain modules before
    from ..support import make_cert
    from . import bad_server
    from .conftest import SLACK, TRANSPORTS, big_bytes, big_text
except ImportError:
    import bad_server
    from conftest import SLACK, TRANSPORTS, big_bytes, big_text
    from support import make_cert

pytestmark = pytest.mark.timeout(60)

PING_INTERVAL = 0.5  # the shared JS server's pingInterval / pingTimeout (conftest.js_server)
PING_TIMEOUT = 0.5
UTF8 = 'héllo wörld 👋🏽 世界 こんにちは ✓ 🎉'
BIG = 200_000
BURST = 100
BULK_POLL = 40  # a poll must be accepted with at least this many packets in it

PY_ENGINEIO_16_PACKETS = ("python-engineio aborts the connection when a poll carries more than "
                          "16 packets (Payload.max_decode_packets)")
PY_ENGINEIO_NO_HEARTBEAT = ("python-engineio has no heartbeat timeout of its own over polling: "
                            "it gives up only when its poll request times out, "
                            "max(pingInterval, pingTimeout) + 5 s later")
PY_ENGINEIO_MAX_PAYLOAD = ("python-engineio ignores the server's maxPayload: it posts everything "
                           "queued in one request, which the server refuses")
PY_ENGINEIO_WS_BODY = ("python-engineio drops the server's response to a refused websocket "
                       "handshake: ConnectionError('Connection error')")
PY_ENGINEIO_ORDER = ("sometimes: python-engineio's Client runs each message handler in a new "
                     "thread, so under load messages reach the handler out of order (seen about "
                     "once in 150 bursts of 100)")
PY_ENGINEIO_WS_CLOSE = ("python-engineio reports a clean websocket close by the server (close "
                        "frame, no close packet: what the JS server does) as 'transport error'")
PY_ENGINEIO_WSS_THREADS = ("sometimes: python-engineio's Client reads and writes its wss "
                           "connection from two threads at once (websocket-client over one ssl "
                           "socket), which now and then breaks the connection")
PY_ENGINEIO_BAD_OPEN = ("python-engineio raises TypeError (not ConnectionError) on an open "
                        "packet that is not JSON")


def sha1(data):
    return hashlib.sha1(data.encode() if isinstance(data, str) else data).hexdigest()


def summary(data):
    """What js_server.mjs records for a message."""
    if isinstance(data, str):
        return {'t': 'text', 'len': len(data), 'sha1': sha1(data)}
    return {'t': 'bin', 'len': len(data), 'sha1': sha1(data)}


def wire(data):
    """A message as the server sees it: dicts/lists are sent as JSON text."""
    if isinstance(data, (dict, list)):
        return json.dumps(data, separators=(',', ':'))
    return data


def connect(session, server, transport, headers=None, **kwargs):
    session.connect(server.url, headers=headers, transports=TRANSPORTS[transport], **kwargs)
    expected = 'polling' if transport == 'polling' else 'websocket'
    if transport == 'upgrade':  # the upgrade may finish after connect() returns
        deadline = time.monotonic() + 5
        while session.transport() != 'websocket' and time.monotonic() < deadline:
            time.sleep(0.02)
    assert session.transport() == expected
    assert session.events.connects == 1
    assert session.sid
    return session.sid


def reason(session, name):
    return getattr(session.mod.Client.reason, name)


# ---------------------------------------------------------------------------------------------
# the official server: messages
def test_echo_types(sessions, js_server, transport, kind, known_failure):
    """Text, UTF-8, binary, empty text and binary, JSON: echoed with their type, in order;
    the server saw the same. The upgrade really happened."""
    known_failure(PY_ENGINEIO_ORDER, when=kind == 'sync', strict=False)
    s = sessions()
    sid = connect(s, js_server, transport)
    items = ['hello world', UTF8, bytes(range(256)), '', b'', {'a': [1, 'x'], 'b': None},
             [1, 2, 'three']]
    s.send_many(items)
    assert s.wait_messages(len(items)) == items
    rec = js_server.record(sid)
    assert rec['messages'] == [summary(wire(i)) for i in items]
    assert rec['transport'] == ('websocket' if transport == 'websocket' else 'polling')
    if transport == 'upgrade':
        assert rec['upgradedTo'] == 'websocket'
    assert s.events.disconnects == []


def test_big_messages(sessions, js_server, transport):
    """200 KB text (with multi-byte characters) and 200 KB binary, both ways."""
    s = sessions()
    sid = connect(s, js_server, transport)
    up_text, up_bin = big_text(BIG), big_bytes(BIG)
    s.send('quiet')
    s.send(up_text)
    s.send(up_bin)
    s.send(f'big:{BIG}')
    s.send(f'binbig:{BIG}')
    got = s.wait_messages(2, timeout=15)
    assert isinstance(got[0], str) and len(got[0]) == BIG and got[0] == up_text
    assert isinstance(got[1], bytes) and got[1] == up_bin
    rec = js_server.record(sid)
    assert rec['messages'][1:3] == [summary(up_text), summary(up_bin)]
    assert s.events.disconnects == []


def test_burst_up(sessions, js_server, transport):
    """100 messages sent back to back all reach the server, in order."""
    s = sessions()
    sid = connect(s, js_server, transport)
    s.send('quiet')
    items = [f'up{i}' if i % 3 else f'up{i}'.encode() for i in range(BURST)]
    s.send_many(items)
    s.send('count')
    assert s.wait_messages(1, timeout=15) == [f'count:{BURST + 2}']
    rec = js_server.record(sid)
    assert rec['messages'][1:BURST + 1] == [summary(i) for i in items]


def test_burst_down_in_one_poll(sessions, js_server, transport, kind, known_failure):
    """100 messages sent by the server in one tick all arrive, in order. Over polling they come
    in one or two polls: a poll of 40+ packets is accepted."""
    known_failure(PY_ENGINEIO_16_PACKETS, when=transport == 'polling')
    known_failure(PY_ENGINEIO_ORDER, when=transport != 'polling' and kind == 'sync',
                  strict=False)
    s = sessions()
    sid = connect(s, js_server, transport)
    s.send(f'bulk:{BURST}')
    assert s.wait_messages(BURST, timeout=15) == [f'b{i}' for i in range(BURST)]
    if transport == 'polling':
        assert js_server.record(sid)['maxFlush'] >= BULK_POLL
    assert s.events.disconnects == []


def test_custom_headers(sessions, js_server, transport):
    """Headers given to connect() reach the server, on the upgrade request too."""
    s = sessions()
    headers = {'X-Engineio-Test': 'value 1', 'Authorization': 'Bearer abc'}
    sid = connect(s, js_server, transport, headers=dict(headers))
    s.send('headers')
    seen = s.wait_messages(1)[0]
    if isinstance(seen, str):
        seen = json.loads(seen)
    assert seen['x-engineio-test'] == 'value 1'
    assert seen['authorization'] == 'Bearer abc'
    if transport == 'upgrade':
        rec = js_server.wait_record(sid, lambda r: r['upgradeHeaders'])
        assert rec['upgradeHeaders']['x-engineio-test'] == 'value 1'


# ---------------------------------------------------------------------------------------------
# the official server: how sessions end
@pytest.fixture(scope='module')
def slow_ping_server(start_js_server):
    return start_js_server(pingInterval=5000, pingTimeout=5000)


def test_client_disconnect(sessions, slow_ping_server, transport):
    """disconnect(): the client reports 'client disconnect', and the server closes the session
    at once ('transport close'), long before a ping timeout could (pingInterval 5 s).

    The server's pings are 5 s apart and the test waits for the POST carrying 'hi' to be
    answered: python-engineio loses the close packet when disconnect() is called while a POST
    is in flight (its write loop exits on the state change), and that race is not this test's
    subject."""
    server = slow_ping_server
    s = sessions()
    sid = connect(s, server, transport)
    s.send('hi')
    assert s.wait_messages(1) == ['hi']
    time.sleep(0.2)
    t0 = time.monotonic()
    s.disconnect()
    assert s.events.disconnects == [reason(s, 'CLIENT_DISCONNECT')]
    assert s.state == 'disconnected'
    rec = server.wait_record(sid, lambda r: r['closed'], timeout=3)
    assert rec['closed'] and rec['reason'] == 'transport close', rec
    assert time.monotonic() - t0 < 3


def test_server_close(sessions, js_server, transport, known_failure):
    """The server closes the socket: 'server disconnect'. Over polling the JS server sends a
    close packet; over websocket it sends no close packet, it closes the websocket cleanly
    (a close frame): that is a server disconnect too, not a transport error."""
    known_failure(PY_ENGINEIO_WS_CLOSE, when=transport != 'polling')
    s = sessions()
    connect(s, js_server, transport)
    s.send('close')
    assert s.wait_disconnect(PING_INTERVAL + PING_TIMEOUT + SLACK) == \
        reason(s, 'SERVER_DISCONNECT')
    assert s.events.disconnects == [reason(s, 'SERVER_DISCONNECT')]
    assert s.state == 'disconnected'


def test_server_killed(sessions, fresh_js_server, transport):
    """The server process dies mid-session: 'transport error' within pingInterval +
    pingTimeout (+ slack)."""
    s = sessions()
    connect(s, fresh_js_server, transport)
    t0 = time.monotonic()
    s.send('die')
    got = s.wait_disconnect(PING_INTERVAL + PING_TIMEOUT + SLACK)
    assert got == reason(s, 'TRANSPORT_ERROR'), (got, time.monotonic() - t0)
    assert s.state == 'disconnected'
    fresh_js_server.proc.wait(5)


def test_muted_server(sessions, js_server, transport, known_failure):
    """The server stops pinging (the connection stays open): the client's own heartbeat
    timeout ends the session, 'transport error' within pingInterval + pingTimeout (+ slack)."""
    known_failure(PY_ENGINEIO_NO_HEARTBEAT, when=transport == 'polling')
    s = sessions()
    connect(s, js_server, transport)
    s.send('mute')
    assert s.wait_messages(1) == ['muted']
    t0 = time.monotonic()
    got = s.wait_disconnect(PING_INTERVAL + PING_TIMEOUT + SLACK)
    assert got == reason(s, 'TRANSPORT_ERROR'), (got, time.monotonic() - t0)
    assert s.state == 'disconnected'


def test_connect_rejected(sessions, js_server, transport, known_failure):
    """allowRequest refuses: connect() raises ConnectionError carrying the server's answer
    (polling: args[1] is the JSON body, as python-engineio does)."""
    known_failure(PY_ENGINEIO_WS_BODY, when=transport == 'websocket')
    s = sessions()
    with pytest.raises(s.mod.exceptions.ConnectionError) as info:
        s.connect(js_server.url, headers={'X-Reject': 'not you'},
                  transports=TRANSPORTS[transport])
    assert s.state == 'disconnected'
    assert s.events.connects == 0
    if transport == 'websocket':
        assert any('not you' in str(arg) for arg in info.value.args), info.value.args
    else:
        assert '403' in str(info.value.args[0])
        assert info.value.args[1] == {'code': 4, 'message': 'not you'}


# ---------------------------------------------------------------------------------------------
# the official server, other options
@pytest.fixture(scope='module')
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (right name, untrusted issuer): (key, cert)."""
    certfile, keyfile = make_cert(tmp_path_factory.mktemp('tls'))
    return keyfile, certfile


@pytest.fixture(scope='module')
def tls_server(start_js_server, tls_files):
    key, cert = tls_files
    return start_js_server(pingInterval=500, pingTimeout=500, tls={'key': key, 'cert': cert})


@pytest.fixture
def no_ca_bundle_env(monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's verify=False
    (psf/requests#3829), which would defeat python-engineio's ssl_verify=False on machines that
    set them; a user's plain environment does not."""
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)


def test_tls_self_signed_unverified(sessions, tls_server, transport, kind, known_failure,
                                    no_ca_bundle_env):
    """https/wss with a self-signed certificate and ssl_verify=False: works.

    One message at a time: python-engineio's Client reads and writes its wss connection from
    two threads at once (websocket-client over one ssl socket), which now and then breaks the
    connection when both are busy (a ping can be enough: seen once in CI); that race is not
    this test's subject."""
    known_failure(PY_ENGINEIO_WSS_THREADS, when=kind == 'sync' and transport != 'polling',
                  strict=False)
    s = sessions(ssl_verify=False)
    sid = connect(s, tls_server, transport)
    s.send(UTF8)
    assert s.wait_messages(1) == [UTF8]
    s.send(b'\x00\xff')
    assert s.wait_messages(2) == [UTF8, b'\x00\xff']
    assert len(tls_server.record(sid)['messages']) == 2


N_TLS_SESSIONS = int(os.environ.get('N_TLS_SESSIONS', '60'))


def test_tls_many_sessions(sessions, tls_server, kind, known_failure, no_ca_bundle_env):
    """Many wss sessions in a row (websocket only, and polling then upgrade) each connect,
    echo and close. A client whose reader thread and writer share one OpenSSL connection
    object loses a handshake now and then: ours used to hang in about one connect of thirty
    (the websockets package's sync client reads its ssl socket from its own thread)."""
    known_failure(PY_ENGINEIO_WSS_THREADS, when=kind == 'sync', strict=False)
    for i in range(N_TLS_SESSIONS):
        s = sessions(ssl_verify=False)
        connect(s, tls_server, 'websocket' if i % 2 else 'upgrade')
        s.send('m%d' % i)
        assert s.wait_messages(1) == ['m%d' % i]
        s.disconnect()
        assert s.state == 'disconnected'


def test_tls_self_signed_verified_fails(sessions, tls_server, transport):
    """The same server with ssl_verify=True (the default): connect() raises ConnectionError."""
    s = sessions()
    with pytest.raises(s.mod.exceptions.ConnectionError):
        s.connect(tls_server.url, transports=TRANSPORTS[transport])
    assert s.state == 'disconnected'
    assert s.events.connects == 0


MAX_PAYLOAD = 1000


@pytest.fixture(scope='module')
def small_payload_server(start_js_server):
    return start_js_server(pingInterval=500, pingTimeout=500, maxHttpBufferSize=MAX_PAYLOAD)


def test_max_payload_splitting(sessions, small_payload_server, known_failure):
    """The server's maxPayload is 1000 bytes; 60 messages of ~100 bytes sent at once over
    polling: the client splits them over several POSTs, each within maxPayload; none is
    refused, all arrive in order."""
    known_failure(PY_ENGINEIO_MAX_PAYLOAD)
    s = sessions()
    sid = connect(s, small_payload_server, 'polling')
    s.send('quiet')
    items = [f'{i:03d}:' + 'x' * 96 for i in range(60)]
    s.send_many(items)
    s.send('count')
    assert s.wait_messages(1, timeout=15) == [f'count:{len(items) + 2}']
    rec = small_payload_server.record(sid)
    assert rec['messages'][1:len(items) + 1] == [summary(i) for i in items]
    posts = [p for p in rec['posts'] if p is not None]
    assert posts and max(posts) <= MAX_PAYLOAD, rec['posts']
    assert not rec['closed'] and s.events.disconnects == []


# ---------------------------------------------------------------------------------------------
# the misbehaving server
BAD_PING_INTERVAL = 0.3
BAD_PING_TIMEOUT = 0.2
BAD_DEADLINE = BAD_PING_INTERVAL + BAD_PING_TIMEOUT + SLACK
REQUEST_TIMEOUT = 1


@pytest.fixture(scope='module')
def bad():
    server = bad_server.BadServer(ping_interval=int(BAD_PING_INTERVAL * 1000),
                                  ping_timeout=int(BAD_PING_TIMEOUT * 1000)).start()
    try:
        yield server
    finally:
        server.stop()


def bad_connect(s, bad, case, transport):
    s.connect(f'{bad.url}/?case={case}', transports=[transport])
    assert s.events.connects == 1


def assert_transport_error(s, deadline=BAD_DEADLINE):
    t0 = time.monotonic()
    got = s.wait_disconnect(deadline)
    assert got == reason(s, 'TRANSPORT_ERROR'), (got, time.monotonic() - t0)
    assert s.state == 'disconnected'


@pytest.mark.parametrize('case', ['garbage_bytes', 'garbage_text', 'get500'])
def test_bad_poll_response(sessions, bad, case):
    """A poll answers bytes that are not UTF-8, text that is not a payload, or a 500:
    'transport error', no hang."""
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, case, 'polling')
    assert_transport_error(s)


def test_bad_post_500(sessions, bad):
    """A POST answers 500: 'transport error', no hang."""
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, 'post500', 'polling')
    s.send('hello')
    assert_transport_error(s)


def test_bad_truncated_frame(sessions, bad):
    """A websocket frame cut short, then the TCP connection closes: 'transport error'."""
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, 'truncated', 'websocket')
    assert_transport_error(s)


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_bad_unknown_packet_type(sessions, bad, transport):
    """A packet of unknown type (9): the client either skips it (the next message still
    arrives, the session goes on) or ends the session with 'transport error'."""
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, 'unknown', transport)
    s.events.wait(lambda e: e.messages or e.disconnects, BAD_DEADLINE)
    if s.events.disconnects:
        assert s.events.disconnects == [reason(s, 'TRANSPORT_ERROR')]
        assert s.events.messages == []
        assert s.state == 'disconnected'
    else:
        assert s.events.messages == ['after']
        time.sleep(BAD_PING_INTERVAL * 2)  # a ping round: still fine
        assert s.state == 'connected' and s.events.disconnects == []
        s.disconnect()
        assert s.events.disconnects == [reason(s, 'CLIENT_DISCONNECT')]


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_bad_oversized_message(sessions, bad, transport):
    """A 5 MiB message: delivered intact, or the session ends with 'transport error'."""
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, 'oversized', transport)
    s.events.wait(lambda e: e.messages or e.disconnects, BAD_DEADLINE + 5)
    if s.events.disconnects:
        assert s.events.disconnects == [reason(s, 'TRANSPORT_ERROR')]
        assert s.state == 'disconnected'
    else:
        got = s.events.messages
        assert len(got) == 1 and got[0] == 'x' * bad_server.OVERSIZED
        s.disconnect()
        assert s.events.disconnects == [reason(s, 'CLIENT_DISCONNECT')]


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
@pytest.mark.parametrize('case', ['badopen', 'notopen'])
def test_bad_open_packet(sessions, bad, transport, case, known_failure):
    """The open packet is not JSON, or is not an open packet: connect() raises
    ConnectionError, no connect event, no background task left behind."""
    known_failure(PY_ENGINEIO_BAD_OPEN, when=case == 'badopen')
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    with pytest.raises(s.mod.exceptions.ConnectionError):
        s.connect(f'{bad.url}/?case={case}', transports=[transport],
                  timeout=REQUEST_TIMEOUT + SLACK + 3)
    assert s.events.connects == 0
    assert s.state == 'disconnected'


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_bad_silent_after_open(sessions, bad, transport, known_failure):
    """The server accepts the session, then never sends anything again: the client's heartbeat
    timeout ends it with 'transport error' within pingInterval + pingTimeout (+ slack)."""
    known_failure(PY_ENGINEIO_NO_HEARTBEAT, when=transport == 'polling')
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    bad_connect(s, bad, 'silent', transport)
    assert_transport_error(s)


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_bad_connect_silent(sessions, bad, transport, kind, known_failure):
    """The TCP connection is accepted, the handshake is never answered: connect() raises
    ConnectionError within request_timeout (+ slack)."""
    known_failure("python-engineio's AsyncClient gives aiohttp's ws_connect no handshake "
                  "timeout (request_timeout is not applied): connect() hangs",
                  when=kind == 'async' and transport == 'websocket')
    s = sessions(request_timeout=REQUEST_TIMEOUT)
    t0 = time.monotonic()
    with pytest.raises(s.mod.exceptions.ConnectionError):
        s.connect(f'{bad.url}/?case=connect_silent', transports=[transport],
                  timeout=REQUEST_TIMEOUT + SLACK)
    assert time.monotonic() - t0 < REQUEST_TIMEOUT + SLACK
    assert s.events.connects == 0
    assert s.state == 'disconnected'


# ---------------------------------------------------------------------------------------------
# cookies: what sticky load balancers rely on
@pytest.fixture(scope='module')
def cookie_server(start_js_server):
    return start_js_server(cookie=True)


def engineio_http_session(kind):
    """A factory of python-engineio's http_session kind: requests.Session for Client, an
    aiohttp.ClientSession for AsyncClient (whose cookie jar must be told to keep cookies from
    an IP address such as 127.0.0.1)."""
    if kind == 'sync':
        import requests
        return requests.Session

    async def make():
        import aiohttp
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    return make


@pytest.mark.parametrize('transport', ['polling', 'upgrade'])
@pytest.mark.parametrize('http', ['default', 'http_session'])
def test_handshake_cookie_goes_with_every_request(sessions, cookie_server, transport, kind,
                                                 http, known_failure):
    """The cookie the server sets on the handshake (engine.io's ``cookie`` option) is sent
    with every later request: polls, posts and the websocket upgrade; with the client's own
    HTTP session and with one given as ``http_session``."""
    known_failure("python-engineio's AsyncClient keeps cookies in a default aiohttp cookie "
                  "jar, which drops cookies set by an IP address (127.0.0.1)",
                  when=kind == 'async' and http == 'default')
    s = sessions(**({} if http == 'default' else {'http_session': engineio_http_session(kind)}))
    sid = connect(s, cookie_server, transport)
    s.send_many(['a', 'b', 'c'])
    assert s.wait_messages(3) == ['a', 'b', 'c']
    rec = cookie_server.wait_record(sid, lambda r: len(r['messages']) == 3 and (
        transport == 'polling' or r['upgradeHeaders']))
    # polling: the polls and posts after the handshake; upgrade: at least the upgrade request
    assert len(rec['cookies']) >= (2 if transport == 'polling' else 1)
    assert all(c is not None and 'io=' + sid in c.split('; ') for c in rec['cookies']), \
        rec['cookies']
    if transport == 'upgrade':
        assert 'io=' + sid in rec['upgradeHeaders']['cookie'].split('; ')
