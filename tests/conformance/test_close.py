"""How a session ends, and what is left of it (the official suite's "close"
section, and the rules of issue 11): once closed, every later request for
the sid gets 400 with the unknown-sid body at once; a GET parked at the
close still gets its answer; a server disconnect with no GET parked hands
its close packet to the next GET (as the JavaScript server does); a POST
cut short and a client that
vanishes while its GET is parked end the session with 'transport error'
(the cut POST at once, the vanished client once the server notices)."""

import time

import pytest

from .wire import (
    PING_INTERVAL,
    PING_TIMEOUT,
    QUICK,
    RESET_ERRORS,
    SLACK,
    RawRequest,
    assert_no_session,
    eio_path,
    handshake,
    outcome,
    packets,
    ws_closed_within,
    ws_session,
)

pytestmark = pytest.mark.interop

# time for the server to see a connection end before the next request
NOTICE = 0.1
# the disconnect reason of each way to end a session: the JavaScript server's
# name for it, and ours (python-engineio's)
REASONS = {
    'invalid-packet': ('parse error', 'transport error'),
    'client-close': ('transport close', 'client disconnect'),
    'ping-timeout': ('ping timeout', 'ping timeout'),
    'server-disconnect': ('forced close', 'server disconnect'),
    'cut-post': ('transport error', 'transport error'),
    'vanished-poll': ('transport error', 'transport error'),
}


def reason_of(target, cause):
    return REASONS[cause][1 if target.ours else 0]


def assert_gone(target, agent, sid):
    """Every kind of request for ``sid`` is refused as for an unknown sid."""
    for method, body in (('GET', None), ('POST', '4hello'), ('GET', None)):
        reply = agent.request(method, eio_path(sid), body=body)
        assert reply.status == 400, (method, reply)
        assert reply.json() == {'code': 1, 'message': 'Session ID unknown'}
    assert_no_session(target, sid=sid)


def test_polling_forced_close(target, agent):
    """The official test: a POSTed close packet ends the session, the parked
    GET gets a noop, the next GET 400."""
    sid, _ = handshake(agent)
    poll = agent.start('GET', eio_path(sid))
    time.sleep(0.05)  # parked
    reply = agent.post(eio_path(sid), '1')
    assert (reply.status, reply.text) == (200, 'ok')
    poll = outcome(poll, QUICK)
    assert (poll.status, poll.text) == (200, '6'), poll
    assert agent.get(eio_path(sid)).status == 400


def test_websocket_forced_close(target):
    """A close packet on a websocket ends it (the JavaScript server ignores
    the packet and ends it at the ping timeout: both pass)."""
    ws, _ = ws_session(target)
    with ws:
        ws.send('1')
        closed, seen = ws_closed_within(
            ws, PING_INTERVAL + PING_TIMEOUT + SLACK)
    assert closed, seen


def _end(cause, target, agent, sid):
    if cause == 'invalid-packet':
        try:
            agent.post(eio_path(sid), 'abc')
        except RESET_ERRORS:
            pass  # how the JavaScript server may answer
    elif cause == 'client-close':
        reply = agent.post(eio_path(sid), '1')
        assert (reply.status, reply.text) == (200, 'ok')
    elif cause == 'server-disconnect':
        target.disconnect(sid)
    # 'ping-timeout': the parked GET waits for it


@pytest.mark.parametrize('cause, answer', [
    ('invalid-packet', '1'), ('client-close', '6'), ('ping-timeout', '1'),
    ('server-disconnect', '1')])
def test_parked_poll_is_answered_then_sid_is_gone(target, agent, cause,
                                                  answer):
    sid, _ = handshake(agent)
    if cause == 'ping-timeout':
        reply = agent.get(eio_path(sid), timeout=PING_INTERVAL + SLACK)
        assert (reply.status, reply.text) == (200, '2')  # left unanswered
    poll = agent.start('GET', eio_path(sid), timeout=PING_TIMEOUT + SLACK)
    time.sleep(0.05)  # parked
    _end(cause, target, agent, sid)
    poll = outcome(poll, PING_TIMEOUT + SLACK + QUICK)
    assert not isinstance(poll, Exception), poll
    assert (poll.status, poll.text) == (200, answer)
    assert_gone(target, agent, sid)
    assert target.reasons(sid) == [reason_of(target, cause)]


@pytest.mark.parametrize('cause', ['invalid-packet', 'client-close'])
def test_sid_is_gone_at_once(target, agent, cause):
    """No GET parked: the very next request gets 400, nothing is queued for
    a later poll."""
    sid, _ = handshake(agent)
    _end(cause, target, agent, sid)
    assert_gone(target, agent, sid)
    assert target.reasons(sid) == [reason_of(target, cause)]


def test_server_disconnect_close_packet_on_next_poll(target, agent):
    """No GET parked: as the JavaScript server does, the next GET gets the
    close packet (after noops at most), and the session is gone after it;
    a POST meanwhile (sent before the client learnt of the close) is taken
    and dropped."""
    sid, _ = handshake(agent)
    target.disconnect(sid)
    reply = agent.post(eio_path(sid), '4hello')
    assert (reply.status, reply.text) == (200, 'ok'), reply
    reply = agent.get(eio_path(sid))
    assert reply.status == 200, reply
    got = packets(reply.text)
    assert got[-1:] == ['1'] and set(got[:-1]) <= {'6'}, got
    assert_gone(target, agent, sid)
    assert target.reasons(sid) == [reason_of(target, 'server-disconnect')]


def test_post_cut_short_ends_the_session(target, agent):
    sid, _ = handshake(agent)
    req = RawRequest(target.port, 'POST', eio_path(sid), [
        'Content-Type: text/plain;charset=UTF-8', 'Content-Length: 100'])
    req.send(b'4hel')
    time.sleep(0.05)  # the server is reading the body
    req.vanish()
    time.sleep(NOTICE)
    reply = agent.get(eio_path(sid), timeout=PING_INTERVAL + SLACK)
    assert reply.status == 400, reply
    assert target.reasons(sid) == [reason_of(target, 'cut-post')]


def test_vanished_poll_ends_the_session(target, agent):
    """The client of a parked GET goes away: the server notices by itself
    (at once, or at its next write to that client or look at its socket)
    and ends the session as a transport error, before the heartbeat would
    end it; then the sid is gone (a POST, which cannot overlap a GET,
    tells)."""
    sid, _ = handshake(agent)
    req = RawRequest(target.port, 'GET', eio_path(sid))
    time.sleep(0.05)  # parked
    req.vanish()
    reasons = target.reasons(sid, timeout=PING_INTERVAL + PING_TIMEOUT
                             + SLACK)
    if target.kind == 'uwsgi':
        # uWSGI's HTTP router keeps its own connection to the worker open
        # when the client leaves: no WSGI application can see it, so the
        # heartbeat ends the session (still bounded, nothing left behind)
        assert reasons == ['ping timeout']
    else:
        assert reasons == [reason_of(target, 'vanished-poll')]
    reply = agent.post(eio_path(sid), '4hello')
    assert reply.status == 400, reply


KICKS = 200


@pytest.mark.ours
@pytest.mark.parametrize('kick', ['accept', 'refuse'])
def test_kicked_in_connect_handler_is_not_left_behind(target, agent, kick):
    """The connect handler disconnects the new session, then accepts or
    refuses it (an auth check that kicks the client): its sid answers 400,
    the close packet is sent once at most (how the handshake of an accepted
    one is answered is not fixed here), the disconnect handler runs once
    at most (never for a refused client), and the engine's tables do not
    grow over many such handshakes."""
    before = target.state()
    # at once, as many clients would (and quicker on a server that answers
    # each keep-alive request after a delayed ACK)
    for reply in agent.many('GET', [eio_path(kick=kick)] * KICKS):
        if kick == 'refuse':
            assert reply.status == 401, reply
        elif reply.status == 200:
            # the open packet (if any), noops, the close packet once at most
            got = packets(reply.text)
            rest = got[1:] if got[0].startswith('0') else got
            assert set(rest) <= {'6', '1'} and rest.count('1') <= 1, got
        else:
            assert reply.status in (400, 401), reply
    after = target.state()
    sids = after['kicked'][len(before['kicked']):]
    assert len(sids) == KICKS
    wrong = [(sid, reply) for sid, reply in zip(
        sids, agent.many('GET', [eio_path(sid) for sid in sids]))
        if reply.status != 400]
    assert not wrong, '%d of %d: %r' % (len(wrong), KICKS, wrong[:3])
    # entries on their way out may stay a moment (not past a heartbeat)
    deadline = time.monotonic() + PING_INTERVAL + PING_TIMEOUT + SLACK
    while True:
        now = target.state()
        grown = (now['sessions'] + now['closing']
                 - before['sessions'] - before['closing'])
        if grown <= 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert grown <= 0, ('grown by %d' % grown, before['sessions'],
                        before['closing'], now['sessions'], now['closing'])
    reasons = now['reasons']
    if kick == 'refuse':
        called = [sid for sid in sids if sid in reasons]
        assert not called, [(sid, reasons[sid]) for sid in called[:5]]
    else:
        twice = [sid for sid in sids if len(reasons.get(sid, ())) > 1]
        assert not twice, [(sid, reasons[sid]) for sid in twice[:5]]
