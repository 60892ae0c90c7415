"""The sans-I/O core: requests in, responses/events/deadlines out, with a
fake clock. Parametrised over the pure and compiled kernels."""

import base64
import gzip
import json

import pytest

from engineio_fast.protocol import engine as E
from engineio_fast.protocol.http import HttpPolicy, Request


def dumps(obj):
    return json.dumps(obj, separators=(',', ':'))


def req(method='GET', body=None, ws=False, headers=None, **query):
    q = {'EIO': '4', 'transport': 'websocket' if ws else 'polling'}
    q.update({k: v for k, v in query.items() if v is not None})
    for k in [k for k, v in query.items() if v is None]:
        q.pop(k, None)
    return Request(method, q, dict(headers or {}), 'http', body, ws,
                   {'REMOTE_ADDR': '127.0.0.1'})


def open_polling(engine, now=0.0):
    out = engine.handle_http(req(), now)
    assert out.kind == E.CONNECT
    resp = engine.connect_done(out, req(), (True, None), now).response
    assert resp.status == 200
    return out.session, resp


def handshake(resp):
    text = resp.body.decode()
    first = text.split('\x1e')[0]
    assert first[0] == '0'
    return json.loads(first[1:])


def error(resp):
    assert resp.headers[0] == ('Content-Type', 'application/json')
    return json.loads(resp.body)


# -- handshake -----------------------------------------------------------

def test_polling_handshake_fields(make):
    engine = make(ping_interval=0.3, ping_timeout=0.2,
                  max_http_buffer_size=12345)
    s, resp = open_polling(engine)
    hs = handshake(resp)
    assert hs == {'sid': s.sid, 'upgrades': ['websocket'],
                  'pingInterval': 300, 'pingTimeout': 200,
                  'maxPayload': 12345}
    assert ('Content-Type', 'text/plain; charset=UTF-8') in resp.headers
    assert len(s.sid) == 20
    assert engine.get(s.sid) is s


def test_ping_interval_tuple_advertises_grace(make):
    engine = make(ping_interval=(1, 0.5), ping_timeout=2)
    _, resp = open_polling(engine)
    assert handshake(resp)['pingInterval'] == 1500
    # but pings are sent every `interval`
    assert engine.next_deadline() == pytest.approx(1.0)


def test_no_upgrades_when_disabled(make):
    _, resp = open_polling(make(allow_upgrades=False))
    assert handshake(resp)['upgrades'] == []
    _, resp = open_polling(make(transports=['polling']))
    assert handshake(resp)['upgrades'] == []


def test_messages_queued_by_connect_handler_follow_open(make):
    engine = make()
    out = engine.handle_http(req(), 0)
    engine.send(out.session, '4welcome')
    resp = engine.connect_done(out, req(), (True, None), 0).response
    parts = resp.body.decode().split('\x1e')
    assert parts[1] == '4welcome'


@pytest.mark.parametrize('query,code', [
    ({'EIO': None}, 5), ({'EIO': '3'}, 5), ({'EIO': 'x'}, 5),
    ({'transport': None}, 0), ({'transport': 'flash'}, 0),
    ({'sid': 'nope'}, 1),
])
def test_handshake_errors(make, query, code):
    out = make().handle_http(req(**query), 0)
    assert out.kind == E.RESPOND and out.response.status == 400
    assert error(out.response)['code'] == code


def test_disabled_transport_is_unknown(make):
    out = make(transports=['polling']).handle_http(req(ws=True), 0)
    assert out.response.status == 400 and error(out.response)['code'] == 0


def test_websocket_transport_without_upgrade_is_bad_request(make):
    r = req()
    r.query['transport'] = 'websocket'
    out = make().handle_http(r, 0)
    assert out.response.status == 400 and error(out.response)['code'] == 3


@pytest.mark.parametrize('method', ['PUT', 'DELETE', 'PATCH'])
def test_bad_methods(make, method):
    out = make().handle_http(req(method), 0)
    assert out.response.status == 400 and error(out.response)['code'] == 2


def test_post_without_sid_is_bad_handshake_method(make):
    out = make().handle_http(req('POST', b'4x'), 0)
    assert error(out.response)['code'] == 2


def test_reject_connect(make):
    engine = make()
    out = engine.handle_http(req(), 0)
    resp = engine.connect_done(out, req(), (False, None), 0).response
    assert resp.status == 401
    assert json.loads(resp.body) == 'Unauthorized'
    assert engine.get(out.session.sid) is None
    out = engine.handle_http(req(), 0)
    resp = engine.connect_done(out, req(), (False, {'why': 'no'}), 0).response
    assert json.loads(resp.body) == {'why': 'no'}
    assert len(engine.sessions) == 0


# -- polling -------------------------------------------------------------

def test_post_messages_and_poll(make):
    engine = make()
    s, _ = open_polling(engine)
    out = engine.handle_http(req('POST', '4hello\x1e4{"a":1}\x1e4123\x1e4true'
                                 .encode(), sid=s.sid), 1)
    assert out.response.status == 200 and out.response.body == b'ok'
    assert out.events == [('message', s.sid, 'hello'),
                          ('message', s.sid, {'a': 1}),
                          ('message', s.sid, '123'),
                          ('message', s.sid, True)]
    out = engine.handle_http(req(sid=s.sid), 1)
    assert out.kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    engine.send(s, '4one')
    engine.send(s, b'\x00\x01')
    assert woken == [1]
    resp = engine.take_poll(s, req(sid=s.sid))
    assert resp.body == b'4one\x1ebAAE='
    assert not s.poll_pending


def test_binary_post(make):
    engine = make()
    s, _ = open_polling(engine)
    body = 'b' + base64.b64encode(b'\xff\x00abc').decode()
    out = engine.handle_http(req('POST', body.encode(), sid=s.sid), 1)
    assert out.events == [('message', s.sid, b'\xff\x00abc')]


def test_many_packets_in_one_post_are_all_delivered(make):
    engine = make()
    s, _ = open_polling(engine)
    body = '\x1e'.join('4m%d' % i for i in range(500)).encode()
    out = engine.handle_http(req('POST', body, sid=s.sid), 1)
    assert [e[2] for e in out.events] == ['m%d' % i for i in range(500)]


def test_duplicate_get_closes_session(make):
    engine = make()
    s, _ = open_polling(engine)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    out = engine.handle_http(req(sid=s.sid), 1)
    assert out.response.status == 400
    assert out.events == [('disconnect', s.sid, 'transport error')]
    # the parked GET ends with the close packet
    assert engine.take_poll(s, req(sid=s.sid)).body == b'1'
    assert engine.handle_http(req(sid=s.sid), 2).response.status == 400


def test_client_close_ends_pending_get_with_noop(make):
    engine = make()
    s, _ = open_polling(engine)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    out = engine.handle_http(req('POST', b'1', sid=s.sid), 1)
    assert out.events == [('disconnect', s.sid, 'client disconnect')]
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    out = engine.handle_http(req(sid=s.sid), 2)
    assert out.response.status == 400 and error(out.response)['code'] == 1


@pytest.mark.parametrize('body', [b'', b'9x', b'x', b'4ok\x1e', b'0{}',
                                  b'bnot*base64', b'\xff\xfe', b'2'])
def test_invalid_post_closes_only_that_session(make, body):
    engine = make()
    s, _ = open_polling(engine)
    other, _ = open_polling(engine)
    engine.send(other, '4keep')
    out = engine.handle_http(req('POST', body, sid=s.sid), 1)
    assert out.response.status == 400
    assert ('disconnect', s.sid, 'transport error') in out.events
    assert engine.get(s.sid) is None
    assert engine.get(other.sid) is other
    assert engine.take_poll(other, req(sid=other.sid)).body == b'4keep'


def test_post_over_max_size(make):
    engine = make(max_http_buffer_size=10)
    s, _ = open_polling(engine)
    out = engine.handle_http(req('POST', b'4' + b'x' * 10, sid=s.sid), 1)
    assert out.response.status == 400
    assert out.events == [('disconnect', s.sid, 'transport error')]


def test_server_close_delivers_queue_and_close_to_the_next_get(make):
    # as the JavaScript server (and python-engineio): a polling client is
    # between two GETs for a moment; its next one gets what was queued and
    # the close packet, then the sid is gone
    engine = make(ping_interval=5, ping_timeout=5)
    s, _ = open_polling(engine)
    engine.send(s, '4bye')
    ev = engine.close(s, 'server disconnect', 1)
    assert ev == ('disconnect', s.sid, 'server disconnect')
    assert engine.close(s, 'server disconnect', 1) is None
    assert engine.get(s.sid) is None and s.sid in engine.closing
    # a POST sent before the client learnt of it is taken and dropped; a
    # websocket finds no session
    out = engine.handle_http(req('POST', b'4x', sid=s.sid), 1.5)
    assert (out.response.status, out.response.body, out.events) == \
        (200, b'ok', None)
    assert engine.handle_http(req(ws=True, sid=s.sid),
                              1.5).response.status == 400
    out = engine.handle_http(req(sid=s.sid), 2)
    assert out.kind == E.RESPOND and out.response.body == b'4bye\x1e1'
    assert not engine.closing
    out = engine.handle_http(req(sid=s.sid), 2)
    assert out.response.status == 400
    assert json.loads(out.response.body)['code'] == 1


def test_closed_polling_session_expires(make):
    engine = make(ping_interval=1, ping_timeout=1)
    s, _ = open_polling(engine)
    engine.close(s, 'server disconnect', 0)
    assert s.sid in engine.closing
    engine.tick(100)
    assert s.sid not in engine.closing
    assert engine.handle_http(req(sid=s.sid), 100).response.status == 400


def test_server_close_answers_a_parked_get_with_queue_and_close(make):
    engine = make(ping_interval=5, ping_timeout=5)
    s, _ = open_polling(engine)
    get = req(sid=s.sid)
    assert engine.handle_http(get, 1).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    engine.send(s, '4bye')
    engine.send(s, b'\x01')
    engine.close(s, 'server disconnect', 1)
    assert woken
    assert engine.take_poll(s, get).body == b'4bye\x1ebAQ==\x1e1'
    assert engine.handle_http(req(sid=s.sid), 2).response.status == 400


def test_send_to_closed_session_returns_false(make):
    engine = make()
    s, _ = open_polling(engine)
    engine.close(s, 'server disconnect', 0)
    assert engine.send(s, '4late') is False


def test_queue_bound_closes_session(make):
    engine = make(max_queue_bytes=100)
    s, _ = open_polling(engine)
    assert engine.send(s, '4' + 'x' * 60) is True
    ev = engine.send(s, '4' + 'x' * 60)
    assert ev == ('disconnect', s.sid, 'transport error')


def test_send_many_queues_items_as_one(make):
    engine = make(max_queue_bytes=100)
    s, _ = open_polling(engine)
    get = req(sid=s.sid)
    assert engine.handle_http(get, 1).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    assert engine.send_many(s, ['451-["b",{"_placeholder":true,"num":0}]',
                                b'\x01']) is True
    assert woken == [1]         # one wake-up for both
    assert engine.send_many(s, []) is True
    assert engine.take_poll(s, get).body == \
        b'451-["b",{"_placeholder":true,"num":0}]\x1ebAQ=='
    # the bound counts them all: nothing of an overflowing group is queued
    ev = engine.send_many(s, ['4' + 'x' * 60, b'y' * 60])
    assert ev == ('disconnect', s.sid, 'transport error')
    assert engine.send_many(s, ['4late']) is False


# -- heartbeat -------------------------------------------------------------

def test_ping_pong_and_timeout(make):
    engine = make(ping_interval=0.3, ping_timeout=0.2)
    s, _ = open_polling(engine, now=0)
    assert engine.next_deadline() == pytest.approx(0.3)
    assert engine.tick(0.29) == []
    assert engine.tick(0.3) == []
    assert list(s.queue) == ['2']
    engine.take_poll(s, req(sid=s.sid))
    engine.handle_http(req('POST', b'3', sid=s.sid), 0.4)
    assert engine.next_deadline() is not None
    assert engine.tick(0.69) == []
    engine.tick(0.7)
    assert list(s.queue) == ['2']
    # no pong this time: closed at 0.7 + 0.2
    assert engine.tick(0.89) == []
    assert engine.tick(0.9) == [('disconnect', s.sid, 'ping timeout')]
    assert engine.get(s.sid) is None


def test_timer_hook_sees_earlier_deadlines(make):
    engine = make(ping_interval=10, ping_timeout=1)
    seen = []
    engine.timer_hook = seen.append
    open_polling(engine, now=0)
    open_polling(engine, now=1)   # later deadline: no new arm
    assert seen == [10.0]


def test_thousands_of_sessions_one_heap(make):
    engine = make(ping_interval=1, ping_timeout=1)
    sessions = [open_polling(engine, now=i / 1000)[0] for i in range(2000)]
    engine.tick(5)   # every session pinged
    events = engine.tick(10)
    assert len(events) == 2000
    assert all(ev[2] == 'ping timeout' for ev in events)
    assert len(engine.sessions) == 0
    assert sessions[0].state == E.CLOSED or sessions[0].state == 2


# -- websocket -------------------------------------------------------------

def open_ws(engine, now=0.0):
    out = engine.handle_http(req(ws=True), now)
    assert out.kind == E.CONNECT and out.link is not None
    assert engine.connect_done(out, req(ws=True), (True, None), now).response is None
    return out.session, out.link


def test_websocket_open_packet_counts_in_the_queue_bound(make):
    # the open packet waits in the queue until the adapter takes it: it
    # counts against max_queue_bytes like any other item
    engine = make(max_queue_bytes=200)
    s, link = open_ws(engine)
    assert s.queue_bytes == sum(len(item) for item in s.queue) > 50
    room = 200 - s.queue_bytes
    assert engine.send(s, '4' + 'x' * (room - 1)) is True
    assert engine.send(s, '4') == ('disconnect', s.sid, 'transport error')


def test_join_timeout_ends_a_session_that_never_joined(make):
    engine = make(ping_interval=10, ping_timeout=10)
    engine.join_timeout = 1.0
    lazy, link = open_ws(engine, now=0.0)
    engine.ws_take(link)
    busy, _ = open_polling(engine, now=0.2)
    assert engine.next_deadline() == pytest.approx(1.0)
    engine.joined(busy)
    assert engine.tick(0.99) == []
    # the server's close: close packet, then the websocket ends
    assert engine.tick(1.0) == [('disconnect', lazy.sid, 'server disconnect')]
    assert list(engine.ws_take(link)) == ['1'] and link.closing
    assert engine.tick(1.2) == []
    assert engine.get(busy.sid) is busy
    engine.join_timeout = 0.0       # off: nothing is scheduled
    later, _ = open_polling(engine, now=2.0)
    assert later.join_by == 0.0


def test_websocket_session(make):
    engine = make(ping_interval=1, ping_timeout=1)
    s, link = open_ws(engine)
    items = engine.ws_take(link)
    assert len(items) == 1
    hs = json.loads(items[0][1:])
    assert hs['upgrades'] == [] and hs['sid'] == s.sid
    assert engine.ws_receive(link, '4hi', 0.1) == [('message', s.sid, 'hi')]
    assert engine.ws_receive(link, b'\x01', 0.1) == [
        ('message', s.sid, b'\x01')]
    engine.send(s, '4a')
    engine.send(s, b'b')
    assert engine.ws_take(link) == ['4a', b'b']
    engine.tick(1.0)
    assert engine.ws_take(link) == ['2']
    assert engine.ws_receive(link, '3', 1.1) == ()
    assert engine.tick(2.05) == []


def test_websocket_close_reasons(make):
    engine = make()
    s, link = open_ws(engine)
    assert engine.ws_receive(link, '1', 0) == [
        ('disconnect', s.sid, 'client disconnect')]
    assert link.closing
    s, link = open_ws(engine)
    assert engine.ws_closed(link, 0) == [
        ('disconnect', s.sid, 'transport close')]
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.close(s, 'server disconnect', 0)[2] == 'server disconnect'
    assert engine.ws_take(link) == ['1'] and link.closing
    assert engine.ws_closed(link, 0) == ()


def test_a_closed_link_lets_go_of_its_adapter(make):
    # the session stays in the timer heap until its next deadline; its
    # closed link must not keep the adapter's connection (and its buffers)
    # alive that long
    engine = make()
    for how in ('client', 'server', 'probe'):
        if how == 'probe':
            s, _ = open_polling(engine)
            out = engine.handle_http(req(ws=True, sid=s.sid), 0)
            link = out.link
        else:
            s, link = open_ws(engine)
        link.waker = lambda: None
        if how == 'server':
            engine.close(s, 'server disconnect', 0)
        engine.ws_closed(link, 0)
        assert link.waker is None, how
        link.wake()                     # harmless


@pytest.mark.parametrize('data', ['9', '', 'x', '0', '2', 'b!!'])
def test_websocket_bad_packets(make, data):
    engine = make()
    s, link = open_ws(engine)
    assert engine.ws_receive(link, data, 0) == [
        ('disconnect', s.sid, 'transport error')]
    assert link.closing and link.close_code == 1002


def test_websocket_message_too_big(make):
    engine = make(max_http_buffer_size=100)
    s, link = open_ws(engine)
    assert engine.ws_receive(link, '4' + 'x' * 100, 0)[0][2] == \
        'transport error'
    assert link.close_code == 1009


# -- upgrade -------------------------------------------------------------

def test_upgrade_keeps_order_and_loses_nothing(make):
    engine = make()
    s, _ = open_polling(engine)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    polls = []
    s.poll_waker = lambda: polls.append(1)
    out = engine.handle_http(req(ws=True, sid=s.sid), 1)
    assert out.kind == E.WEBSOCKET
    link = out.link
    wakes = []
    link.waker = lambda: wakes.append(1)
    assert engine.ws_receive(link, '2probe', 1) == ()
    assert engine.ws_take(link) == ['3probe']
    assert polls == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    # messages sent while upgrading wait for the new transport
    engine.send(s, '4a')
    engine.send(s, '4b')
    assert engine.ws_receive(link, '5', 1) == ()
    assert s.transport == 'websocket'
    assert engine.ws_take(link) == ['4a', '4b']
    engine.send(s, '4c')
    assert engine.ws_take(link) == ['4c']
    assert engine.ws_receive(link, '4up', 1) == [('message', s.sid, 'up')]
    # polling is over for this sid; a second websocket is accepted and
    # closed at once without a status (the JavaScript server's 101 + close)
    assert error(engine.handle_http(req(sid=s.sid), 2).response) == {
        'code': 3, 'message': 'Bad request'}
    assert engine.handle_http(req('POST', b'4x', sid=s.sid),
                              2).response.status == 400
    out = engine.handle_http(req(ws=True, sid=s.sid), 2)
    assert out.kind == E.WEBSOCKET and out.link is not link
    assert out.link.closing and out.link.close_code is None
    assert engine.ws_take(out.link) == ()
    assert engine.ws_receive(out.link, '4sneak', 2) == ()
    assert engine.ws_closed(out.link, 2) == ()
    # the first websocket goes on
    engine.send(s, '4d')
    assert engine.ws_take(link) == ['4d'] and not link.closing


def parked_mid_upgrade(engine, probed):
    """A polling session with a probe websocket open (and answered with
    '3probe' when ``probed``) and a GET parked at time 1; returns the
    session, the probe link and the list its poll waker appends to."""
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    if probed:
        engine.ws_receive(link, '2probe', 1)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    return s, link, woken


def test_get_parked_before_probe_gets_noop_at_once(make):
    engine = make()
    s, _ = open_polling(engine)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1)
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    engine.ws_receive(link, '5', 1)
    engine.send(s, '4after')
    assert engine.ws_take(link) == ['3probe', '4after']


def test_late_get_takes_what_is_queued(make):
    # as the JavaScript server flushes its buffer to any writable poll
    engine = make()
    s, link, woken = parked_mid_upgrade(engine, probed=True)
    engine.send(s, '4now')
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'4now'
    engine.send(s, '4queued')
    resp = engine.handle_http(req(sid=s.sid), 1.01).response
    assert resp.body == b'4queued'


def test_late_get_during_probe_gets_noop_after_the_check_interval(make):
    # a GET sent after '3probe' waits E.LATE_POLL_DELAY (the JavaScript
    # server's 100 ms upgrade check), then gets a noop
    engine = make(ping_interval=100, ping_timeout=100)
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1)
    out = engine.handle_http(req(sid=s.sid), 1)
    assert out.kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    assert engine.next_deadline() == pytest.approx(1 + E.LATE_POLL_DELAY)
    engine.tick(1.05)
    assert woken == [] and engine.take_poll(s, req(sid=s.sid)) is None
    engine.tick(1 + E.LATE_POLL_DELAY)
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    assert not s.poll_pending and s.late_until == 0


def test_late_get_answered_by_the_upgrade_gets_400(make):
    # under uvicorn a GET the client sent after '5' can overtake it: it
    # gets what any GET after the upgrade gets
    engine = make()
    s, link, woken = parked_mid_upgrade(engine, probed=True)
    engine.ws_receive(link, '5', 1.02)
    assert woken == []
    engine.send(s, '4after')
    assert engine.ws_take(link) == ['3probe', '4after']
    engine.tick(1 + E.LATE_POLL_DELAY)
    assert woken == [1]
    resp = engine.take_poll(s, req(sid=s.sid))
    assert resp.status == 400 and error(resp)['code'] == 3
    assert not s.poll_pending


def test_get_sent_after_the_probe_opened_waits_for_the_upgrade(make):
    # the official suite sends '2probe' and '5' back to back, then a GET:
    # inside an ASGI server the GET can reach the engine before either
    # message; it waits, and once the upgrade completes it gets the 400 of
    # a GET after the upgrade
    engine = make()
    s, link, woken = parked_mid_upgrade(engine, probed=False)
    engine.ws_receive(link, '2probe', 1.01)
    assert engine.ws_take(link) == ['3probe'] and woken == []
    engine.ws_receive(link, '5', 1.02)
    # answered when its wait ends, not before ('3probe' reaches the client
    # first), even if the adapter looks again meanwhile
    assert woken == []
    assert engine.take_poll(s, req(sid=s.sid)) is None
    engine.tick(1.01 + E.LATE_POLL_DELAY)
    assert woken == [1]
    resp = engine.take_poll(s, req(sid=s.sid))
    assert resp.status == 400 and error(resp)['code'] == 3


def test_get_right_after_the_upgrade_gets_its_400_after_the_hold(make):
    # a GET read just after the switch is answered when a mid-upgrade GET
    # would be: its 400 cannot overtake the websocket's '3probe' on the way
    # to the client
    engine = make(ping_interval=100, ping_timeout=100)
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1.0)
    engine.ws_receive(link, '5', 1.01)
    assert s.transport == 'websocket'
    out = engine.handle_http(req(sid=s.sid), 1.02)
    assert out.kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    assert engine.take_poll(s, req(sid=s.sid)) is None
    # a POST, or a second GET, is refused at once
    assert engine.handle_http(req('POST', b'4x', sid=s.sid),
                              1.03).response.status == 400
    assert engine.handle_http(req(sid=s.sid), 1.03).response.status == 400
    engine.tick(1.0 + E.LATE_POLL_DELAY)
    assert woken == [1]
    resp = engine.take_poll(s, req(sid=s.sid))
    assert resp.status == 400 and error(resp)['code'] == 3
    # after the hold, at once
    out = engine.handle_http(req(sid=s.sid), 1.2)
    assert out.kind == E.RESPOND and out.response.status == 400


def test_get_held_after_the_upgrade_is_answered_when_the_session_ends(make):
    engine = make(ping_interval=100, ping_timeout=100)
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1.0)
    engine.ws_receive(link, '5', 1.01)
    assert engine.handle_http(req(sid=s.sid), 1.02).kind == E.WAIT
    woken = []
    s.poll_waker = lambda: woken.append(1)
    engine.ws_closed(link, 1.03)
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).status == 400


def test_get_sent_after_the_probe_opened_gets_noop_after_3probe(make):
    engine = make(ping_interval=100, ping_timeout=100)
    s, link, woken = parked_mid_upgrade(engine, probed=False)
    # no deadline of its own before '2probe' (the probe may never come)
    engine.tick(5)
    assert woken == [] and engine.take_poll(s, req(sid=s.sid)) is None
    engine.ws_receive(link, '2probe', 6)
    assert engine.next_deadline() == pytest.approx(6 + E.LATE_POLL_DELAY)
    engine.tick(6 + E.LATE_POLL_DELAY)
    assert woken == [1]
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'


def test_get_sent_after_the_probe_opened_polls_on_if_it_fails(make):
    engine = make()
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    engine.ws_receive(link, 'garbage', 1.01)    # aborts the upgrade
    assert s.probe is None and s.late_until == 0
    engine.send(s, '4still')
    assert engine.take_poll(s, req(sid=s.sid)).body == b'4still'


def test_late_get_of_an_abandoned_upgrade_goes_on_polling(make):
    engine = make()
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1)
    assert engine.handle_http(req(sid=s.sid), 1).kind == E.WAIT
    engine.ws_closed(link, 1.01)
    engine.tick(1.5)
    assert engine.take_poll(s, req(sid=s.sid)) is None
    engine.send(s, '4still')
    assert engine.take_poll(s, req(sid=s.sid)).body == b'4still'


def test_upgrade_timeout_keeps_polling(make):
    engine = make(ping_interval=100, ping_timeout=100, upgrade_timeout=2)
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    assert engine.tick(2.9) == []
    assert not link.closing
    engine.tick(3.0)
    assert link.closing and s.probe is None
    assert s.transport == 'polling'
    engine.send(s, '4still')
    assert engine.handle_http(req(sid=s.sid), 4).response.body == b'4still'


def test_bad_probe_aborts_upgrade(make):
    engine = make()
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '4nope', 1)
    assert link.closing and s.probe is None and s.transport == 'polling'
    # a fresh upgrade may be tried again
    assert engine.handle_http(req(ws=True, sid=s.sid), 2).kind == E.WEBSOCKET


def test_probe_socket_closing_keeps_session(make):
    engine = make()
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    assert engine.ws_closed(link, 1) == ()
    assert engine.get(s.sid) is s and s.probe is None


def _probed(engine):
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.ws_receive(link, '2probe', 1)
    assert engine.ws_take(link) == ['3probe']
    # a GET sent now gets a noop: the client then pauses polling
    out = engine.handle_http(req(sid=s.sid), 1)
    assert out.kind == E.WAIT
    engine.tick(1 + E.LATE_POLL_DELAY)
    assert engine.take_poll(s, req(sid=s.sid)).body == b'6'
    return s, link


def test_server_close_after_probe_reaches_client_over_the_upgrade(make):
    # the JavaScript client, once it saw '3probe', pauses polling and only
    # listens on the websocket: the close must wait for its '5' there
    engine = make()
    s, link = _probed(engine)
    engine.send(s, '4last')
    assert engine.close(s, 'server disconnect', 1) == (
        'disconnect', s.sid, 'server disconnect')
    assert not link.closing and s.probe is link
    assert engine.ws_receive(link, '5', 1.1) == ()
    assert engine.ws_take(link) == ['4last', '1'] and link.closing
    assert engine.ws_closed(link, 1.2) == ()
    assert engine.get(s.sid) is None and not engine.closing


def test_server_close_after_probe_still_reaches_a_polling_client(make):
    engine = make()
    s, link = _probed(engine)
    engine.close(s, 'server disconnect', 1)
    assert engine.handle_http(req(sid=s.sid), 1.1).response.body == b'1'
    # the probe goes with the session; a late '5' changes nothing
    assert link.closing and s.probe is None
    assert engine.ws_receive(link, '5', 1.2) == ()
    assert engine.ws_take(link) == []


def test_server_close_after_probe_reaches_the_client_on_its_5(make):
    engine = make()
    s, link = _probed(engine)
    engine.close(s, 'server disconnect', 1)
    assert not link.closing
    assert engine.ws_receive(link, '5', 1.2) == ()
    assert engine.ws_take(link) == ['1'] and link.closing
    assert not engine.closing
    assert engine.handle_http(req(sid=s.sid), 1.3).response.status == 400


def test_server_close_after_probe_times_out(make):
    engine = make(close_grace=2)
    s, link = _probed(engine)
    engine.close(s, 'server disconnect', 1)
    assert not link.closing
    engine.tick(3.1)
    assert link.closing and s.probe is None and not engine.closing


def test_server_close_before_probe_answer_aborts_probe(make):
    engine = make()
    s, _ = open_polling(engine)
    link = engine.handle_http(req(ws=True, sid=s.sid), 1).link
    engine.close(s, 'server disconnect', 1)
    assert link.closing and s.probe is None
    assert engine.ws_receive(link, '2probe', 1.1) == ()
    assert engine.ws_take(link) == []
    assert engine.handle_http(req(sid=s.sid), 1.1).response.body == b'1'


# -- CORS, cookies, compression, JSONP ---------------------------------------

def test_same_origin_default(make):
    engine = make()
    ok = req(headers={'host': 'a.com:80', 'origin': 'http://a.com:80'})
    out = engine.handle_http(ok, 0)
    assert out.kind == E.CONNECT
    resp = engine.connect_done(out, ok, (True, None), 0).response
    assert ('Access-Control-Allow-Origin', 'http://a.com:80') in resp.headers
    assert ('Access-Control-Allow-Credentials', 'true') in resp.headers
    bad = req(headers={'host': 'a.com:80', 'origin': 'http://evil.com'})
    out = engine.handle_http(bad, 0)
    assert out.response.status == 400
    assert not any(h[0] == 'Access-Control-Allow-Origin'
                   for h in out.response.headers)
    # no Origin header: no restriction
    assert engine.handle_http(req(), 0).kind == E.CONNECT


@pytest.mark.parametrize('allowed,origin,ok', [
    ('*', 'http://x.org', True), ('http://x.org', 'http://x.org', True),
    ('http://x.org', 'http://y.org', False),
    (['http://x.org', 'http://y.org'], 'http://y.org', True),
    (lambda o: o.endswith('.org'), 'http://y.org', True),
    (lambda o, env: env['REMOTE_ADDR'] == '10.0.0.1', 'http://y.org', False),
    ([], 'http://anything', True),
    (['*'], 'http://anything', True), (('http://x.org', '*'), 'http://z.org', True),
])
def test_cors_policies(make, allowed, origin, ok):
    engine = make(HttpPolicy(cors_allowed_origins=allowed))
    r = req(headers={'host': 'a.com', 'origin': origin})
    out = engine.handle_http(r, 0)
    assert (out.kind == E.CONNECT) is ok
    if allowed == []:
        resp = engine.connect_done(out, r, (True, None), 0).response
        assert not any(h[0].startswith('Access-Control')
                       for h in resp.headers)


def test_options_preflight(make):
    engine = make(HttpPolicy(cors_allowed_origins='*',
                             cors_credentials=False))
    r = req('OPTIONS', headers={'origin': 'http://x.org',
                                'access-control-request-headers': 'X-A'})
    out = engine.handle_http(r, 0)
    assert out.response.status == 200
    h = dict(out.response.headers)
    assert h['Access-Control-Allow-Origin'] == 'http://x.org'
    assert h['Access-Control-Allow-Methods'] == 'OPTIONS, GET, POST'
    assert h['Access-Control-Allow-Headers'] == 'X-A'
    assert 'Access-Control-Allow-Credentials' not in h


def test_cookie(make):
    engine = make(HttpPolicy(cookie='io'))
    s, resp = open_polling(engine)
    assert ('Set-Cookie', 'io=%s; path=/; SameSite=Lax' % s.sid) in \
        resp.headers
    engine = make(HttpPolicy(cookie={'name': 'c', 'path': '/x',
                                     'httponly': True, 'secure': False}))
    s, resp = open_polling(engine)
    assert ('Set-Cookie', 'c=%s; path=/x; httponly' % s.sid) in resp.headers
    # no cookie: None, False, '' and {} (python-engineio tests the option
    # for truth; '' would otherwise make a cookie without a name)
    for off in (None, False, '', {}):
        s, resp = open_polling(make(HttpPolicy(cookie=off)))
        assert not any(h[0] == 'Set-Cookie' for h in resp.headers), off


@pytest.mark.parametrize('encoding', ['gzip', 'deflate'])
def test_compression(make, encoding):
    import zlib
    engine = make()
    s, _ = open_polling(engine)
    engine.send(s, '4' + 'x' * 2000)
    r = req(sid=s.sid, headers={'accept-encoding': encoding + ', br'})
    resp = engine.handle_http(r, 1).response
    assert ('Content-Encoding', encoding) in resp.headers
    raw = gzip.decompress(resp.body) if encoding == 'gzip' else \
        zlib.decompress(resp.body)
    assert raw == b'4' + b'x' * 2000
    engine.send(s, '4small')
    resp = engine.handle_http(r, 1).response
    assert resp.body == b'4small'


def test_no_compression_when_disabled(make):
    engine = make(HttpPolicy(http_compression=False))
    s, _ = open_polling(engine)
    engine.send(s, '4' + 'x' * 2000)
    resp = engine.handle_http(
        req(sid=s.sid, headers={'accept-encoding': 'gzip'}), 1).response
    assert not any(h[0] == 'Content-Encoding' for h in resp.headers)


def test_jsonp(make):
    engine = make()
    out = engine.handle_http(req(j='3'), 0)
    resp = engine.connect_done(out, req(j='3'), (True, None), 0).response
    body = resp.body.decode()
    assert body.startswith('___eio[3]("0{\\"sid\\"') and body.endswith('");')
    s = out.session
    out = engine.handle_http(req('POST', b'd=4hello%20there', sid=s.sid,
                                 j='3'), 0)
    assert out.events == [('message', s.sid, 'hello there')]
    assert engine.handle_http(req(j='x'), 0).response.status == 400


def test_overdue_pong_closes_before_a_late_timer(make):
    # a request that arrives after the pong deadline finds the session
    # closed, even if the adapter's timer has not run yet
    engine = make(ping_interval=0.3, ping_timeout=0.2)
    s, _ = open_polling(engine, now=0)
    engine.tick(0.3)
    assert list(s.queue) == ['2']
    out = engine.handle_http(req(sid=s.sid), 0.51)
    assert out.response.status == 400 and error(out.response)['code'] == 1
    assert out.events == [('disconnect', s.sid, 'ping timeout')]
    assert engine.get(s.sid) is None
    assert engine.tick(1) == []


def test_overdue_pong_on_a_websocket(make):
    engine = make(ping_interval=0.3, ping_timeout=0.2)
    s, link = open_ws(engine)
    engine.tick(0.3)
    assert engine.ws_receive(link, '3', 0.51) == [
        ('disconnect', s.sid, 'ping timeout')]
    assert link.closing and engine.get(s.sid) is None


# -- max_connections ------------------------------------------------------

def test_max_connections_refuses_handshakes_past_it(make):
    engine = make(max_connections=2)
    a, _ = open_polling(engine)
    b, _ = open_ws(engine)
    for r in (req(), req(ws=True)):
        out = engine.handle_http(r, 1)
        assert out.kind == E.RESPOND and out.response.status == 503
        assert error(out.response) == {'code': 4,
                                        'message': 'Too many connections'}
    assert len(engine.sessions) == 2
    # the sessions open are untouched; one that ends makes room
    assert engine.handle_http(req('POST', b'4x', sid=a.sid), 1).events == [
        ('message', a.sid, 'x')]
    engine.handle_http(req('POST', b'1', sid=a.sid), 1)
    assert engine.handle_http(req(), 2).kind == E.CONNECT


def test_max_connections_counts_a_handshake_whose_handler_runs(make):
    engine = make(max_connections=1)
    pending = engine.handle_http(req(), 0)
    assert pending.kind == E.CONNECT
    assert engine.handle_http(req(), 0).response.status == 503
    # refused by its handler: the place is free again
    engine.connect_done(pending, req(), (False, None), 0)
    assert engine.handle_http(req(), 0).kind == E.CONNECT


@pytest.mark.parametrize('bad', [0, -1, 1.5, '3', True])
def test_max_connections_must_be_a_positive_integer(make, bad):
    with pytest.raises(ValueError):
        make(max_connections=bad)


# -- handshake_rate_limit -------------------------------------------------

def _from(address, **kw):
    r = req(**kw)
    r._environ = {'REMOTE_ADDR': address}
    return r


def test_handshake_rate_limit_per_address(make):
    engine = make(handshake_rate_limit=(2, 10))
    for _ in range(2):
        assert engine.handle_http(_from('10.0.0.1'), 0).kind == E.CONNECT
    for ws in (False, True):
        out = engine.handle_http(_from('10.0.0.1', ws=ws), 1)
        assert out.response.status == 429
        assert error(out.response) == {'code': 4,
                                        'message': 'Too many handshakes'}
    assert engine.handle_http(_from('10.0.0.2'), 1).kind == E.CONNECT
    assert engine.handle_http(_from('10.0.0.1'), 6).kind == E.CONNECT
    # requests of open sessions are not handshakes
    s, _ = open_polling(engine)
    r = _from('10.0.0.1', method='POST', body=b'4x', sid=s.sid)
    assert engine.handle_http(r, 6).response.status == 200


@pytest.mark.parametrize('bad', [(0, 1), (1, 0), 5, (1, 2, 3), 'ab'])
def test_handshake_rate_limit_settings(make, bad):
    with pytest.raises(ValueError):
        make(handshake_rate_limit=bad)


# -- back-pressure: queue_high_water, queue_overflow ----------------------

def test_wait_drain_wakes_when_the_transport_takes_the_queue(make):
    engine = make(queue_high_water=10, max_queue_bytes=100)
    s, link = open_ws(engine)
    engine.ws_take(link)
    woken = []
    assert not engine.wait_drain(s, lambda: woken.append('early'))
    engine.send(s, '4' + 'x' * 9)
    assert engine.wait_drain(s, lambda: woken.append(1))
    assert engine.wait_drain(s, lambda: woken.append(2))
    assert woken == []
    assert engine.ws_take(link) == ['4' + 'x' * 9]
    assert woken == [1, 2] and s.drain_waiters is None


def test_a_waker_taken_back_is_not_called(make):
    # a sender that stopped waiting (timeout) leaves nothing behind
    engine = make(queue_high_water=5)
    s, link = open_ws(engine)
    woken = []
    first = lambda: woken.append(1)        # noqa: E731
    assert engine.wait_drain(s, first)
    assert engine.wait_drain(s, lambda: woken.append(2))
    engine.forget_drain(s, first)
    engine.forget_drain(s, first)          # twice: nothing happens
    assert len(s.drain_waiters) == 1
    engine.ws_take(link)
    assert woken == [2]
    engine.forget_drain(s, first)          # none left: nothing happens


def test_wait_drain_on_polling_and_when_the_session_ends(make):
    engine = make(queue_high_water=5)
    s, _ = open_polling(engine)
    engine.send(s, '4hello')
    woken = []
    assert engine.wait_drain(s, lambda: woken.append('taken'))
    assert engine.handle_http(req(sid=s.sid), 1).response.body == b'4hello'
    assert woken == ['taken']
    engine.send(s, '4hello')
    assert engine.wait_drain(s, lambda: woken.append('closed'))
    engine.handle_http(req('POST', b'1', sid=s.sid), 1)
    assert woken == ['taken', 'closed']
    # an ended session never makes a sender wait
    assert not engine.wait_drain(s, lambda: woken.append('never'))


def test_queue_overflow_drop_keeps_the_session(make):
    engine = make(max_queue_bytes=20, queue_overflow='drop')
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.send(s, '4' + 'a' * 15) is True
    assert engine.send(s, '4' + 'b' * 15) == E.DROPPED
    assert engine.send_many(s, ['4c', '4' + 'd' * 15]) == E.DROPPED
    assert s.dropped == 2 and engine.get(s.sid) is s
    assert engine.ws_take(link) == ['4' + 'a' * 15]
    assert engine.send(s, '4' + 'e' * 15) is True


@pytest.mark.parametrize('options', [
    {'queue_high_water': 0}, {'queue_high_water': 200,
                              'max_queue_bytes': 100},
    {'queue_high_water': 1.5}, {'queue_wait_timeout': -1},
    {'queue_overflow': 'block'}])
def test_back_pressure_settings(make, options):
    with pytest.raises(ValueError):
        make(**options)
