"""Heartbeat and ping timeout on both transports (the official suite's
"heartbeat" section), and what a ping timeout leaves behind."""

import time

import pytest

from .wire import (
    PING_INTERVAL,
    PING_TIMEOUT,
    QUICK,
    SLACK,
    eio_path,
    handshake,
    ws_closed_within,
    ws_recv,
    ws_session,
)

pytestmark = pytest.mark.interop

# a little past the server's deadline: a timer that fires on time (give or
# take a loaded machine's delays) has fired
PAST_TIMEOUT = PING_INTERVAL + PING_TIMEOUT + 0.2


def test_polling_ping_pong(target, agent):
    sid, _ = handshake(agent)
    for _ in range(3):
        reply = agent.get(eio_path(sid), timeout=PING_INTERVAL + SLACK)
        assert (reply.status, reply.text) == (200, '2')
        reply = agent.post(eio_path(sid), '3')
        assert (reply.status, reply.text) == (200, 'ok')


def test_polling_ping_timeout(target, agent):
    """The server's own timer closes the session: the first request after
    the deadline gets 400 with the unknown-sid body, a GET (``a``) or a
    POST (``b``) alike; nothing is kept for a later poll."""
    sid_a, _ = handshake(agent)
    sid_b, _ = handshake(agent)
    time.sleep(PAST_TIMEOUT)
    for first, second in ((('GET', sid_a, None), ('POST', sid_a, '4hello')),
                          (('POST', sid_b, '4hello'), ('GET', sid_b, None))):
        for method, sid, body in (first, second):
            reply = agent.request(method, eio_path(sid), body=body)
            assert reply.status == 400, (method, reply)
            assert reply.json()['code'] == 1


def test_websocket_ping_pong(target):
    ws, _ = ws_session(target)
    with ws:
        for _ in range(3):
            assert ws_recv(ws, PING_INTERVAL + SLACK) == '2'
            ws.send('3')


def test_websocket_ping_timeout(target, agent):
    """The server closes a websocket that does not answer its pings; the
    sid is gone for HTTP too."""
    ws, sid = ws_session(target)
    with ws:
        closed, seen = ws_closed_within(ws, PAST_TIMEOUT + SLACK)
    assert closed, seen
    # pings, and a close packet at the end at most
    assert set(seen[:-1]) <= {'2'} and set(seen[-1:]) <= {'2', '1'}, seen
    reply = agent.get(eio_path(sid), timeout=QUICK)
    assert reply.status == 400, reply
