"""Bad input on python-socketio apps served by engineio_fast, beside healthy
sessions that keep working (issue 12, "Bad input").

- Socket.IO-level garbage (tests/socketio/bad_clients.py: bad types, bad
  JSON, deep nesting, unknown namespaces, attachments that never come...)
  from raw clients over polling and websocket: what socket.io-parser
  refuses closes the connection (a server disconnect), as on the
  JavaScript server (engineio_fast/sio_wire.py); what it takes is answered
  and the session goes on. python-socketio on python-engineio logs every
  one and carries on (test_same_as_python_engineio shows both).
- Engine.IO-level errors (a dropped or closed websocket, close packets,
  silent clients, a kick, invalid packets, oversized messages, a client
  gone from its parked GET): each reaches python-socketio as a disconnect
  with python-engineio's reasons; where engineio_fast decides differently
  from python-engineio (PROTOCOL.md, README "Wire behaviour") the
  difference is pinned below, and test_same_as_python_engineio runs both.
- Meanwhile two official socket.io-client sessions (polling and websocket,
  tests/socketio/js/healthy.mjs) call the server every 20 ms: every call is
  answered, none is lost, neither is disconnected.
"""

import json
import subprocess
import time

import pytest

from ..interop.conftest import require_node
from . import bad_clients
from .node import JS_DIR
from .servers import SioServer

pytestmark = pytest.mark.timeout(300)

KINDS = ['builtin', 'uvicorn', 'gunicorn-gthread', 'eventlet', 'gevent']
ENV = {'SIO_PING_INTERVAL': '1', 'SIO_PING_TIMEOUT': '1'}
WAIT = 8.0   # for a disconnect (a ping timeout comes after 2 s)

# python-socketio's disconnect reason for each Engine.IO-level error on
# engineio_fast ('after close': the session ended only when the client
# closed its websocket after the wait)
REASONS = {
    'ws-dropped': 'transport close',
    'ws-closed': 'transport close',
    'ws-close-packet': 'client disconnect',
    'poll-close-packet': 'client disconnect',
    'poll-silent': 'ping timeout',
    'ws-silent': 'ping timeout',
    'kicked': 'server disconnect',
    'poll-bad-packet': 'transport error',
    'ws-bad-packet': 'transport error',
    'poll-too-large': 'transport error',
    'ws-too-large': 'transport error',
    'poll-left-while-parked': 'transport error',
}
# where python-socketio on python-engineio 4.15 reports otherwise: a
# websocket whose client stops answering pings ends as a transport close
# or a ping timeout, whichever comes first of its two clocks set to the
# same pingInterval + pingTimeout (the websocket's read giving up, the
# service task's ping check: a race, both seen), an invalid
# packet is ignored (the session then ends as the raw client answers no
# ping: a ping timeout over polling, a transport close over websocket),
# an oversized POST ends as a server disconnect once its read gives up,
# an oversized websocket message as a transport close, and a client gone
# from its parked GET is found at its ping timeout
PYTHON_ENGINEIO = {
    'ws-silent': ('transport close', 'ping timeout'),
    'poll-bad-packet': 'ping timeout',
    'ws-bad-packet': 'transport close',
    'poll-too-large': 'server disconnect',
    'ws-too-large': 'transport close',
    'poll-left-while-parked': 'ping timeout',
}


def reason_of(srv, eio_sid, timeout=WAIT):
    """python-socketio's disconnect reason for the session ``eio_sid``
    (waits, bounded), or None."""
    deadline = time.monotonic() + timeout
    while True:
        for kind, _sid, detail, eio in srv.record()['events']:
            if kind == 'disconnect' and eio == eio_sid:
                return detail
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def engine_errors(srv):
    out = {}
    for name, scenario in bad_clients.ENGINE_ERRORS.items():
        sid, cleanup = scenario(srv.url, srv)
        try:
            reason = reason_of(srv, sid)
        finally:
            cleanup()
        if reason is None:
            reason = 'after close: %s' % reason_of(srv, sid)
        out[name] = reason
    return out


def sio_garbage(srv):
    """What each Socket.IO-level garbage packet led to, over each
    transport: ``[(transport, garbage, answer, reason)]``: the answer to
    the valid call sent after it (polling: the status of the garbage's
    POST and the text of the poll that had the answer, or None) and
    python-socketio's disconnect reason for the session."""
    out = []
    for garbage in bad_clients.SIO_GARBAGE:
        sid, status, text = bad_clients.garbage_over_polling(srv.url, garbage)
        out.append(['polling', garbage, (status, text), sid])
    for garbage in bad_clients.WS_GARBAGE:
        sid, seen = bad_clients.garbage_over_websocket(srv.url, garbage)
        out.append(['websocket', garbage, seen and seen[-1], sid])
    for row in out:
        row[3] = reason_of(srv, row[3])
    return out


def check_garbage(out, javascript_rules=True):
    """``javascript_rules``: what socket.io-parser refuses closes the
    session (engineio_fast); else python-socketio carries on after each
    (python-engineio)."""
    for transport, garbage, got, reason in out:
        taken = not javascript_rules or garbage in bad_clients.TAKEN
        key = (transport, garbage[:24])
        if transport == 'polling':
            status, got = got
            assert status == 200, (key, status)
            if taken:
                # the answer and every packet before it in one poll
                assert got is not None and got.endswith('431["ok"]'), \
                    (key, got)
                answers = bad_clients.TAKEN if javascript_rules else \
                    bad_clients.PYTHON_SOCKETIO_ANSWERS
                assert got.startswith(answers.get(garbage, '')), (key, got)
        if transport == 'websocket' and taken:
            assert got == '431["ok"]', (key, got)
        if taken:
            # ended when the client closed it (polling: its close packet)
            assert reason in ('client disconnect', 'transport close'), \
                (key, reason)
        else:
            assert got is None or '431' not in got, (key, got)
            assert reason == 'server disconnect', (key, reason)


@pytest.mark.interop
@pytest.mark.parametrize('kind', KINDS)
def test_bad_clients_beside_healthy_ones(kind):
    clients = [{'name': 'polling', 'transports': ['polling']},
               {'name': 'websocket', 'transports': ['websocket']}]
    with SioServer(kind, env=ENV) as srv:
        require_node()
        node = subprocess.Popen(
            ['node', JS_DIR + '/healthy.mjs'], cwd=JS_DIR,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            node.stdin.write(json.dumps({
                'url': srv.url, 'clients': clients, 'intervalMs': 20,
                'timeoutMs': 240000}).encode() + b'\n')
            node.stdin.flush()
            deadline = time.monotonic() + 20
            while len([e for e in srv.record()['events']
                       if e[0] == 'connect']) < 2:
                assert time.monotonic() < deadline, srv.output()[-3000:]
                assert node.poll() is None, node.communicate()
                time.sleep(0.05)
            garbage = sio_garbage(srv)
            errors = engine_errors(srv)
            node.stdin.write(b'stop\n')
            node.stdin.flush()
            stdout, stderr = node.communicate(timeout=30)
        finally:
            if node.poll() is None:
                node.kill()
                node.communicate()
    healthy = json.loads(stdout.decode())
    assert healthy['error'] is None, (healthy, stderr.decode()[-3000:])
    check_garbage(garbage)
    assert errors == REASONS
    for c in healthy['clients']:
        # every call answered, right, and the session never dropped
        assert c['failures'] == [] and c['wrong'] == 0, c
        assert c['disconnects'] == [], c
        assert c['acks'] >= 20, c
        assert c['transport'] == c['name'], c


def test_same_as_python_engineio():
    """The same raw clients against python-socketio on python-engineio and
    on engineio_fast (uvicorn): python-socketio carries on after every
    Socket.IO-level garbage packet on python-engineio, engineio_fast closes
    the session for what socket.io-parser refuses; the same disconnect
    reasons for Engine.IO-level errors but where engineio_fast decides
    otherwise (PYTHON_ENGINEIO)."""
    results = {}
    for impl in ('engineio', 'engineio_fast'):
        with SioServer('uvicorn', env=dict(ENV, EIO_IMPL=impl)) as srv:
            results[impl] = sio_garbage(srv), engine_errors(srv)
    (g1, e1), (g2, e2) = results['engineio'], results['engineio_fast']
    check_garbage(g1, javascript_rules=False)
    check_garbage(g2)
    assert e2 == REASONS
    expected = dict(REASONS, **PYTHON_ENGINEIO)
    assert e1.keys() == expected.keys()
    assert {case: reason for case, reason in e1.items()
            if reason not in as_tuple(expected[case])} == {}, expected


def as_tuple(reasons):
    """One expected reason, or a tuple of the reasons a race allows."""
    return reasons if isinstance(reasons, tuple) else (reasons,)
