"""Messages of each kind both ways, invalid packets and duplicate polls (the
official suite's "message" section)."""

import time

import pytest

from .wire import (
    QUICK,
    RESET_ERRORS,
    SEP,
    eio_path,
    handshake,
    outcome,
    ws_closed_within,
    ws_recv,
    ws_session,
)

pytestmark = pytest.mark.interop


@pytest.mark.parametrize('payload', [
    '4hello',
    SEP.join(['4test1', '4test2', '4test3']),
    SEP.join(['4hello', 'bAQIDBA==']),
], ids=['one-text', 'several-texts', 'text-and-binary'])
def test_polling_echo(target, agent, payload):
    sid, _ = handshake(agent)
    reply = agent.post(eio_path(sid), payload)
    assert (reply.status, reply.text) == (200, 'ok')
    reply = agent.get(eio_path(sid))
    assert (reply.status, reply.text) == (200, payload)


def test_polling_invalid_packet_closes_the_session(target, agent):
    """The POST itself may be answered 400, or dropped, or (the JavaScript
    server, which answers once it has read the body) 200; the session is
    closed either way."""
    sid, _ = handshake(agent)
    try:
        reply = agent.post(eio_path(sid), 'abc')
        assert reply.status in (200, 400), reply
    except RESET_ERRORS:
        pass
    reply = agent.get(eio_path(sid))
    assert reply.status == 400, reply


def test_polling_duplicate_poll_closes_the_session(target, agent):
    sid, _ = handshake(agent)
    first = agent.start('GET', eio_path(sid))
    time.sleep(0.05)  # the first poll is parked on the server
    second = agent.start('GET', eio_path(sid, t='burst'))
    first, second = outcome(first, QUICK), outcome(second, QUICK)
    assert (first.status, first.text) == (200, '1'), first
    # the JavaScript server once answered 500 here
    assert second.status in (400, 500), second
    reply = agent.get(eio_path(sid))
    assert reply.status == 400


def test_websocket_echo_text(target):
    ws, _ = ws_session(target)
    with ws:
        ws.send('4hello')
        assert ws_recv(ws) == '4hello'


def test_websocket_echo_binary(target):
    ws, _ = ws_session(target)
    with ws:
        ws.send(bytes([1, 2, 3, 4]))
        assert ws_recv(ws) == bytes([1, 2, 3, 4])


def test_websocket_invalid_packet_closes_the_session(target):
    ws, _ = ws_session(target)
    with ws:
        ws.send('abc')
        closed, seen = ws_closed_within(ws, QUICK)
        assert closed, seen
