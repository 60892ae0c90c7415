"""The polling -> websocket upgrade and what follows it (the official
suite's "upgrade" section, and issue 11): HTTP requests for an upgraded sid
get 400, a GET sent right after the client's ``5`` included; a second
websocket for an upgrading or upgraded sid is accepted (101) and closed at
once, and the first one keeps working."""

import pytest
from websockets.exceptions import ConnectionClosed

from .wire import (
    QUICK,
    eio_path,
    handshake,
    ws_closed_within,
    ws_open,
    ws_recv,
    ws_upgrade,
)

pytestmark = pytest.mark.interop

# back-to-back upgrades in the race test: a GET that overtakes the websocket
# '5' on its way through the server shows up in a few of them
RACE_ROUNDS = 20


def _echo_after(ws, text='4hello'):
    """Send ``text`` and read until it comes back (a ``3probe`` that was not
    read yet may come first, and a ping when the machine is slow enough for
    the ping interval to pass: it is answered; nothing else)."""
    ws.send(text)
    seen = []
    for _ in range(5):
        message = ws_recv(ws)
        if message == text:
            return
        seen.append(message)
        assert message in ('3probe', '2'), seen
        if message == '2':
            ws.send('3')
    raise AssertionError('no echo of %r: %r' % (text, seen))


def test_upgrade(target, agent):
    """The official test: probe, the pending poll ends with a noop, then
    everything goes over the websocket."""
    sid, _ = handshake(agent)
    with ws_upgrade(target, agent, sid) as ws:
        _echo_after(ws)


def test_http_after_upgrade(target, agent):
    """The official test (``2probe`` and ``5`` sent without waiting), plus a
    POST: both refused, the websocket unharmed."""
    sid, _ = handshake(agent)
    with ws_open(target, sid=sid) as ws:
        ws.send('2probe')
        ws.send('5')
        assert ws_recv(ws) == '3probe'
        reply = agent.get(eio_path(sid))
        assert reply.status == 400, reply
        reply = agent.post(eio_path(sid), '4hello')
        assert reply.status == 400, reply
        _echo_after(ws)


@pytest.mark.parametrize('probe', ['answered', 'not-awaited'])
def test_get_right_after_upgrade_packet(target, agent, probe):
    """A GET sent right after the websocket ``5`` (which went first, on the
    websocket's own connection) gets 400, every time: with the probe
    answered before the ``5``, or with ``2probe`` and ``5`` sent at once
    (as the official suite does)."""
    answers = []
    for _ in range(RACE_ROUNDS):
        sid, _ = handshake(agent)
        with ws_open(target, sid=sid) as ws:
            ws.send('2probe')
            if probe == 'answered':
                assert ws_recv(ws) == '3probe'
            ws.send('5')
            reply = agent.get(eio_path(sid), timeout=QUICK)
            answers.append((reply.status, reply.text[:20]))
            _echo_after(ws)
    wrong = [a for a in answers if a[0] != 400]
    assert not wrong, '%d of %d: %r' % (len(wrong), RACE_ROUNDS, wrong[:5])


def test_probe_and_upgrade_back_to_back(target, agent):
    """``2probe``, ``5`` and a message sent at once on the new websocket (as
    the official suite does): the probe is answered first, then the echo
    comes over the websocket, every time."""
    answers = []
    for _ in range(RACE_ROUNDS // 2):
        sid, _ = handshake(agent)
        with ws_open(target, sid=sid) as ws:
            ws.send('2probe')
            ws.send('5')
            ws.send('4hello')
            got = []
            for _ in range(2):
                try:
                    got.append(ws.recv(timeout=QUICK))
                except (TimeoutError, ConnectionClosed) as exc:
                    got.append(type(exc).__name__)
                    break
            answers.append(got)
    wrong = [a for a in answers if a != ['3probe', '4hello']]
    assert not wrong, '%d of %d: %r' % (len(wrong), len(answers), wrong[:5])


def _second_websocket_is_closed(target, sid):
    with ws_open(target, sid=sid) as second:  # 101
        closed, seen = ws_closed_within(second, QUICK)
    assert closed and seen == [], seen


def test_websocket_after_upgrade(target, agent):
    sid, _ = handshake(agent)
    with ws_upgrade(target, agent, sid) as ws:
        _second_websocket_is_closed(target, sid)
        _echo_after(ws)


def test_websocket_while_upgrading(target, agent):
    """Probed, not yet upgraded: a second websocket is closed, the first one
    completes the upgrade."""
    sid, _ = handshake(agent)
    with ws_open(target, sid=sid) as ws:
        ws.send('2probe')
        assert ws_recv(ws) == '3probe'
        _second_websocket_is_closed(target, sid)
        reply = agent.get(eio_path(sid))
        assert (reply.status, reply.text) == (200, '6')
        ws.send('5')
        _echo_after(ws)
