"""The session rules of issue 11, sans-I/O: when a closed sid stops
existing, what a parked GET gets, a second websocket, a POST cut short and a
vanished poll, and a session closed while its connect handler runs.
Parametrised over the pure and compiled kernels (the ``make`` fixture)."""

import json

import pytest

from engineio_fast.protocol import engine as E

from .test_engine import error, handshake, open_polling, req

UNKNOWN_SID = {'code': 1, 'message': 'Session ID unknown'}


def gone(engine, sid, now=5.0):
    """Every kind of request for ``sid`` gets the unknown-sid 400."""
    for r in (req(sid=sid), req('POST', b'4x', sid=sid),
              req(ws=True, sid=sid)):
        out = engine.handle_http(r, now)
        assert out.kind == E.RESPOND and out.response.status == 400
        assert error(out.response) == UNKNOWN_SID
    assert sid not in engine.closing and engine.get(sid) is None
    return True


def parked(engine, s, now=1.0):
    out = engine.handle_http(req(sid=s.sid), now)
    assert out.kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    return woken


def open_ws(engine, now=0.0):
    out = engine.handle_http(req(ws=True), now)
    done = engine.connect_done(out, req(ws=True), (True, None), now)
    assert done.kind == E.WEBSOCKET and done.link is out.link
    return out.session, out.link


# -- error closes and the client's close: the sid is gone at once ------------

@pytest.mark.parametrize('body', [b'9', b'x', b'bnot*base64', b'0{}'])
def test_invalid_post_leaves_nothing_for_the_next_get(make, body):
    engine = make()
    s, _ = open_polling(engine)
    engine.send(s, '4queued')
    out = engine.handle_http(req('POST', body, sid=s.sid), 1)
    assert out.response.status == 400
    assert out.events == [('disconnect', s.sid, 'transport error')]
    assert gone(engine, s.sid)


def test_invalid_post_answers_a_parked_get_with_close(make):
    engine = make()
    s, _ = open_polling(engine)
    woken = parked(engine, s)
    engine.handle_http(req('POST', b'9', sid=s.sid), 1)
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'1'
    assert gone(engine, s.sid)


def test_ping_timeout_leaves_nothing_for_the_next_get(make):
    engine = make(ping_interval=1, ping_timeout=1)
    s, _ = open_polling(engine)
    engine.tick(1)
    assert list(s.queue) == ['2']
    assert engine.tick(2) == [('disconnect', s.sid, 'ping timeout')]
    # not '21' on the next GET: the sid is unknown
    assert gone(engine, s.sid)


def test_ping_timeout_answers_a_parked_get_with_close(make):
    engine = make(ping_interval=1, ping_timeout=1)
    s, _ = open_polling(engine)
    engine.tick(1)
    assert engine.handle_http(req(sid=s.sid), 1.1).response.body == b'2'
    woken = parked(engine, s, 1.2)
    assert engine.tick(2) == [('disconnect', s.sid, 'ping timeout')]
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'1'
    assert gone(engine, s.sid)


def test_duplicate_get_then_sid_is_gone(make):
    engine = make()
    s, _ = open_polling(engine)
    parked(engine, s)
    out = engine.handle_http(req(sid=s.sid), 1)
    assert out.response.status == 400 and error(out.response)['code'] == 3
    assert engine.take_poll(s, req(sid=s.sid)).body == b'1'
    assert gone(engine, s.sid)


def test_queue_overflow_then_sid_is_gone(make):
    engine = make(max_queue_bytes=100)
    s, _ = open_polling(engine)
    woken = []
    engine.send(s, '4' + 'x' * 60)
    assert engine.send(s, '4' + 'x' * 60)[2] == 'transport error'
    assert woken == [] and gone(engine, s.sid)


def test_client_close_answers_parked_get_with_noop_then_gone(make):
    engine = make()
    s, _ = open_polling(engine)
    parked(engine, s)
    out = engine.handle_http(req('POST', b'1', sid=s.sid), 1)
    assert out.events == [('disconnect', s.sid, 'client disconnect')]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    assert gone(engine, s.sid)


def test_client_close_without_parked_get_keeps_nothing(make):
    engine = make()
    s, _ = open_polling(engine)
    engine.send(s, '4dropped')
    engine.handle_http(req('POST', b'1', sid=s.sid), 1)
    assert gone(engine, s.sid)


# -- server close keeps the JavaScript server's grace -------------------------

def test_server_close_goes_out_on_the_next_get_then_gone(make):
    # JS: socket.close() flushes the buffer and the close packet on the
    # parked or the next GET ('6\x1e1' there), then the sid is unknown
    engine = make()
    s, _ = open_polling(engine)
    engine.send(s, '4last')
    assert engine.close(s, 'server disconnect', 1)[2] == 'server disconnect'
    assert s.sid in engine.closing
    assert engine.handle_http(req(sid=s.sid), 1.1).response.body == \
        b'4last\x1e1'
    assert gone(engine, s.sid)


def test_server_close_answers_the_parked_get(make):
    engine = make()
    s, _ = open_polling(engine)
    get = req(sid=s.sid)
    assert engine.handle_http(get, 1).kind == E.WAIT
    engine.send(s, '4last')
    assert engine.close(s, 'server disconnect', 1)[2] == 'server disconnect'
    assert engine.take_poll(s, get).body == b'4last\x1e1'
    assert gone(engine, s.sid)


# -- a second websocket ------------------------------------------------------

def test_second_websocket_while_upgrading_is_closed_soon(make):
    # accepted, and closed LATE_POLL_DELAY later: the first websocket's
    # '3probe' gets to the client first even when this request overtook
    # its '2probe' inside the server
    engine = make(ping_interval=100, ping_timeout=100)
    s, _ = open_polling(engine)
    first = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    out = engine.handle_http(req(ws=True, sid=s.sid), 1)
    assert out.kind == E.WEBSOCKET and not out.link.closing
    assert out.link.close_code is None and out.link is not first
    woken = []
    out.link.waker = lambda: woken.append(1)
    assert engine.ws_take(out.link) == ()
    assert engine.ws_receive(out.link, '4sneak', 1) == ()
    # the first one still upgrades
    assert s.probe is first and not first.closing
    engine.ws_receive(first, '2probe', 1)
    engine.ws_receive(first, '5', 1)
    assert s.ws is first and s.transport == 'websocket'
    assert engine.ws_take(first) == ['3probe']
    engine.tick(1 + E.LATE_POLL_DELAY)
    assert out.link.closing and woken == [1]
    assert engine.ws_take(out.link) == ()
    assert engine.ws_closed(out.link, 1.2) == ()
    assert s.ws is first and not first.closing


def test_second_websocket_of_a_websocket_session_is_closed_at_once(make):
    engine = make()
    s, link = open_ws(engine)
    out = engine.handle_http(req(ws=True, sid=s.sid), 1)
    assert out.kind == E.WEBSOCKET and out.link.closing
    assert engine.ws_closed(out.link, 1) == ()
    engine.ws_take(link)
    engine.send(s, '4still')
    assert engine.ws_take(link) == ['4still'] and not link.closing


def test_unknown_sid_websocket_is_a_400(make):
    out = make().handle_http(req(ws=True, sid='nope'), 0)
    assert out.kind == E.RESPOND and error(out.response) == UNKNOWN_SID


# -- transport lost ------------------------------------------------------------

def test_post_cut_short_closes_with_transport_error(make):
    engine = make()
    s, _ = open_polling(engine)
    woken = parked(engine, s)
    out = engine.post_lost(req('POST', None, sid=s.sid), 1)
    assert out.kind == E.RESPOND and out.response.status == 400
    assert out.events == [('disconnect', s.sid, 'transport error')]
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'1'
    assert gone(engine, s.sid)


@pytest.mark.parametrize('sid', [None, 'nope'])
def test_post_cut_short_for_no_session_changes_nothing(make, sid):
    engine = make()
    s, _ = open_polling(engine)
    out = engine.post_lost(req('POST', None, sid=sid), 1)
    assert out.response.status == 400 and not out.events
    assert engine.get(s.sid) is s


def test_vanished_parked_get_closes_with_transport_error(make):
    engine = make()
    s, _ = open_polling(engine)
    parked(engine, s)
    assert engine.poll_lost(s, 1) == [
        ('disconnect', s.sid, 'transport error')]
    assert gone(engine, s.sid)


# -- closed while the connect handler runs -----------------------------------

def _connecting(engine, ws=False):
    out = engine.handle_http(req(ws=ws), 0)
    assert out.kind == E.CONNECT
    return out


CLOSERS = {
    'disconnect': lambda e, s: e.close(s, 'server disconnect', 0),
    'close_all': lambda e, s: e.close_all('server disconnect', 0),
    'overflow': lambda e, s: e.send(s, '4' + 'x' * 200),
}
REASONS = {'disconnect': 'server disconnect', 'close_all': 'server disconnect',
           'overflow': 'transport error'}


@pytest.mark.parametrize('closer', sorted(CLOSERS))
@pytest.mark.parametrize('ws', [False, True], ids=['polling', 'websocket'])
def test_closed_while_connecting_then_refused(make, closer, ws):
    engine = make(max_queue_bytes=100)
    out = _connecting(engine, ws)
    s = out.session
    ret = CLOSERS[closer](engine, s)
    assert ret in (None, [])     # no disconnect event now
    assert engine.get(s.sid) is None and not engine.closing
    done = engine.connect_done(out, req(ws=ws), (False, None), 0.1)
    assert done.kind == E.RESPOND and done.response.status == 401
    assert not done.events
    assert gone(engine, s.sid)
    assert not engine.timers.pop_due(1e9)


@pytest.mark.parametrize('closer', sorted(CLOSERS))
def test_closed_while_connecting_then_accepted_polling(make, closer):
    engine = make(max_queue_bytes=100)
    out = _connecting(engine)
    s = out.session
    CLOSERS[closer](engine, s)
    done = engine.connect_done(out, req(), (True, None), 0.1)
    assert done.kind == E.RESPOND and done.response.status == 200
    parts = done.response.body.decode().split('\x1e')
    assert handshake(done.response)['sid'] == s.sid
    assert parts[1:] == ['1']
    assert done.events == [('disconnect', s.sid, REASONS[closer])]
    assert gone(engine, s.sid)
    assert not engine.timers.pop_due(1e9)


@pytest.mark.parametrize('closer', sorted(CLOSERS))
def test_closed_while_connecting_then_accepted_websocket(make, closer):
    engine = make(max_queue_bytes=100)
    out = _connecting(engine, ws=True)
    s = out.session
    CLOSERS[closer](engine, s)
    done = engine.connect_done(out, req(ws=True), (True, None), 0.1)
    assert done.kind == E.WEBSOCKET and done.link is out.link
    assert done.events == [('disconnect', s.sid, REASONS[closer])]
    items = engine.ws_take(out.link)
    assert [i[0] for i in items] == ['0', '1'] and out.link.closing
    assert json.loads(items[0][1:])['sid'] == s.sid
    assert engine.ws_take(out.link) == ()
    # the socket closing afterwards adds no second disconnect
    assert engine.ws_closed(out.link, 0.2) == ()
    assert gone(engine, s.sid)


def test_refused_handshake_on_websocket_is_a_401(make):
    engine = make()
    out = _connecting(engine, ws=True)
    done = engine.connect_done(out, req(ws=True), (False, {'no': 1}), 0)
    assert done.kind == E.RESPOND and done.response.status == 401
    assert json.loads(done.response.body) == {'no': 1}
    assert gone(engine, out.session.sid)


@pytest.mark.parametrize('ret,verdict', [
    (None, (True, None)), (True, (True, None)), (False, (False, None)),
    ({'a': 1}, (False, {'a': 1})), ('no', (False, 'no')), (0, (False, 0))])
def test_connect_verdict(ret, verdict):
    assert E.connect_verdict(ret) == verdict
