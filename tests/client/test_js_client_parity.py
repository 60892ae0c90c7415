"""Our clients next to the official engine.io-client 6 (node, js_client.mjs), against the
official engine.io 6 server (js_server.mjs): for each way a session ends, our client
machine's close cause is the JavaScript client's close reason (python-engineio's reason, the
one the disconnect handler gets, is checked too); through an upgrade, the server sees the same
sequence of packets from both clients (``2probe`` answered, ``5``, then the messages on the
websocket).

The one difference kept on purpose: ``disconnect()`` over a websocket sends the close packet
before the closing handshake (as python-engineio does; engine.io-client only closes the
websocket), so the server sees a ``close`` packet from ours."""

import json
import os
import subprocess
import time

import pytest

try:  # tests.client is a package once tests/client/__init__.py exists; plain modules before
    from .conftest import HERE, SLACK, TRANSPORTS, JSServer, Session, load_impl
except ImportError:
    from conftest import HERE, SLACK, TRANSPORTS, JSServer, Session, load_impl

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]
JS_CLIENT = os.path.join(HERE, 'js_client.mjs')
HEARTBEAT = 0.5 + 0.5  # js_server's pingInterval + pingTimeout


def run_js_client(server, transport, command=None, close_after=None, timeout=10.0):
    """What engine.io-client saw: {sid, upgraded, reason, description}."""
    opts = {'url': server.url, 'transports': TRANSPORTS[transport], 'command': command,
            'closeAfterMs': close_after, 'timeoutMs': int(timeout * 1000)}
    out = subprocess.run(['node', JS_CLIENT, json.dumps(opts)], cwd=HERE, capture_output=True,
                         text=True, timeout=timeout + 5)
    assert out.returncode == 0, (out.stdout, out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def ours(kind):
    """engineio_fast's client of this ``kind`` behind the blocking Session API."""
    made = []
    unhandled = []

    def make():
        session = Session(load_impl('engineio_fast'), kind, unhandled)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()
    assert not [u for u in unhandled if u[2] is not None], unhandled


def run_ours(make, server, transport, command=None, disconnect=False):
    """What our client's machine saw: (cause, reason, sid, upgraded)."""
    s = make()
    s.connect(server.url, transports=TRANSPORTS[transport])
    sid = s.sid
    upgraded = s.transport() == 'websocket' and transport != 'websocket'
    if disconnect:
        s.send('x')
        assert s.wait_messages(1) == ['x']
        s.disconnect()
    elif command is not None:
        s.send(command)
    assert s.wait_disconnect(HEARTBEAT + SLACK + 2) is not None
    machine = s.client._conn.machine
    return machine.cause, s.events.disconnects[0], sid, upgraded


def server_trace(server, sid):
    rec = server.wait_record(sid, lambda r: r['closed'])
    return [step for step in rec['trace'] if step != ['websocket', 'close']
            and step != ['polling', 'close']], rec['trace']


@pytest.fixture(scope='module')
def server(start_js_server):
    return start_js_server(pingInterval=500, pingTimeout=500)


@pytest.mark.parametrize('transport', ['polling', 'websocket', 'upgrade'])
def test_client_disconnect(server, ours, transport):
    """disconnect(): engine.io-client's 'forced close'; the server saw the same packets."""
    js = run_js_client(server, transport, command='x', close_after=300)
    cause, reason, sid, upgraded = run_ours(ours, server, transport, disconnect=True)
    assert js['reason'] == cause == 'forced close'
    assert reason == 'client disconnect'
    assert upgraded == js['upgraded'] == (transport == 'upgrade')
    js_trace, _ = server_trace(server, js['sid'])
    our_trace, raw = server_trace(server, sid)
    assert our_trace == js_trace
    if transport == 'upgrade':
        assert js_trace[:3] == ['upgrading', 'upgrade', ['websocket', 'message']]
    if transport != 'polling':      # (a POST of '1' is no packet event)
        assert raw[-1] == ['websocket', 'close']


@pytest.mark.parametrize('transport', ['polling', 'websocket', 'upgrade'])
def test_server_close(server, ours, transport):
    """The server closes the socket: 'transport close' (a server disconnect)."""
    js = run_js_client(server, transport, command='close')
    cause, reason, _, _ = run_ours(ours, server, transport, command='close')
    assert js['reason'] == cause == 'transport close'
    assert reason == 'server disconnect'


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_silent_server(server, ours, transport):
    """The server stops its heartbeat: 'ping timeout' after pingInterval + pingTimeout (a
    transport error)."""
    t0 = time.monotonic()
    js = run_js_client(server, transport, command='mute')
    assert time.monotonic() - t0 >= HEARTBEAT
    cause, reason, _, _ = run_ours(ours, server, transport, command='mute')
    assert js['reason'] == cause == 'ping timeout'
    assert reason == 'transport error'


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_server_killed(ours, transport):
    """The server process dies: over a websocket 'transport close', over polling 'transport
    error' (engine.io-client's names); a transport error to the disconnect handler."""
    expected = 'transport close' if transport == 'websocket' else 'transport error'
    causes = []
    for who in ('js', 'ours'):
        server = JSServer(pingInterval=5000, pingTimeout=5000)
        try:
            if who == 'js':
                causes.append(run_js_client(server, transport, command='die')['reason'])
            else:
                cause, reason, _, _ = run_ours(ours, server, transport, command='die')
                assert reason == 'transport error'
                causes.append(cause)
        finally:
            server.stop()
    assert causes == [expected, expected]
