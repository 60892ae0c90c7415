"""The engine's counting for metrics (protocol/stats.py) and its log line
per refused request, sans-I/O with a fake clock, on each kernel set."""

import json
import logging

import pytest

from engineio_fast.protocol import engine as E
from engineio_fast.protocol import instrument as I
from engineio_fast.protocol import stats as S
from engineio_fast.protocol.http import HttpPolicy

from .test_engine import open_polling, open_ws, req


def metered(make, **config):
    engine = make(**config)
    st = S.meter(engine)
    return engine, st


def test_an_engine_is_not_metered_until_asked(make):
    engine = make()
    assert engine.stats is None
    s, link = open_ws(engine)
    engine.ws_receive(link, '4x', 0)            # nothing to count in
    st = S.meter(engine)
    assert S.meter(engine) is st            # once
    assert st.messages_in == 0
    with pytest.raises(ValueError):
        S.snapshot(make())


def test_handshakes_sessions_and_upgrades(make):
    engine, st = metered(make)
    s1, _ = open_polling(engine)
    s2, _ = open_polling(engine)
    open_ws(engine)
    assert st.handshakes == {'polling': 2, 'websocket': 1}
    snap = S.snapshot(engine)
    assert snap.sessions == {'polling': 2, 'websocket': 1}
    # an upgrade: probe, then '5'
    out = engine.handle_http(req(ws=True, sid=s1.sid), 1)
    link = out.link
    engine.ws_receive(link, '2probe', 1)
    assert S.snapshot(engine).upgrading == 1
    engine.ws_receive(link, '5', 1)
    assert st.upgrades == 1
    snap = S.snapshot(engine)
    assert snap.sessions == {'polling': 1, 'websocket': 2}
    assert snap.upgrading == 0
    # an aborted probe is no upgrade
    out = engine.handle_http(req(ws=True, sid=s2.sid), 1)
    engine.ws_receive(out.link, 'nonsense', 1)
    assert st.upgrades == 1


def test_messages_and_sizes_in_and_out(make):
    engine, st = metered(make)
    s, link = open_ws(engine)
    engine.ws_take(link)                    # the open packet: no message
    assert st.messages_out == 0 and st.bytes_out == 0
    assert engine.ws_receive(link, '4hello', 0) == [
        ('message', s.sid, 'hello')]
    assert engine.ws_receive(link, b'\x01\x02\x03', 0)[0][0] == 'message'
    engine.ws_receive(link, '3', 0)          # a pong: not a message
    assert st.messages_in == 2
    assert st.bytes_in == 6 + 3
    assert st.max_packet == 6
    engine.ws_receive(link, '3' + ' ' * 9, 0)    # a pong with a payload
    assert st.max_packet == 10      # the largest of any packet type
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.send(s, '4abc') is True
    assert engine.send_many(s, ['4xy', b'\x00' * 10]) is True
    assert st.messages_out == 3
    assert st.bytes_out == 4 + 3 + 10
    assert S.snapshot(engine).queued == 17
    assert st.max_queue == 17               # nothing taken in between
    assert engine.ws_take(link) == ['4abc', '4xy', b'\x00' * 10]
    assert S.snapshot(engine).queued == 0
    engine.send(s, '4z')
    assert st.max_queue == 17
    engine.send_ping(s)                     # a ping: not a message
    assert st.messages_out == 4 and st.bytes_out == 19
    # polling: a POST of three packets, two of them messages
    p, _ = open_polling(engine)
    body = b'4one\x1e3\x1e4two'
    out = engine.handle_http(req('POST', body, sid=p.sid), 0)
    assert [ev[0] for ev in out.events] == ['message', 'message']
    assert st.messages_in == 4
    assert st.bytes_in == 9 + len(body)
    assert st.max_packet == len(body)
    # a send to a closed session counts nothing
    engine.close(p, now=0)
    assert engine.send(p, '4late') is False
    assert st.messages_out == 4


def test_disconnect_reasons_and_ping_timeouts(make):
    engine, st = metered(make, ping_interval=1, ping_timeout=1)
    s, link = open_ws(engine)
    engine.ws_receive(link, '1', 0)                      # client
    s, link = open_ws(engine)
    engine.ws_closed(link, 0)                            # transport close
    s, link = open_ws(engine)
    engine.ws_receive(link, '9', 0)                      # transport error
    s, link = open_ws(engine)
    engine.close(s, E.DISCONNECT_SERVER, 0)              # server
    s, _ = open_polling(engine)
    engine.tick(1.0)                                     # ping sent
    events = engine.tick(2.5)                            # no pong
    assert ('disconnect', s.sid, 'ping timeout') in events
    assert st.disconnects == {
        'server disconnect': 1, 'client disconnect': 1, 'ping timeout': 1,
        'transport close': 1, 'transport error': 1}


def test_a_session_closed_while_connecting_counts_one_disconnect(make):
    engine, st = metered(make)
    out = engine.handle_http(req(), 0)
    engine.close(out.session, now=0)     # from its connect handler
    done = engine.connect_done(out, req(), (True, None), 0)
    assert done.events == [('disconnect', out.session.sid,
                            'server disconnect')]
    assert st.disconnects['server disconnect'] == 1
    assert st.handshakes['polling'] == 1


def test_refusals_by_cause(make):
    policy = HttpPolicy(cors_allowed_origins=['http://ok.example'])
    engine, st = metered(make, policy=policy, max_connections=1)
    assert engine.handle_http(req(sid='nope'), 0).response.status == 400
    assert engine.handle_http(req(transport='carrier'), 0).response.status \
        == 400
    assert engine.handle_http(req(EIO='3'), 0).response.status == 400
    assert engine.handle_http(req('PUT'), 0).response.status == 400
    assert engine.handle_http(req('POST'), 0).response.status == 400
    assert engine.handle_http(req(ws=False, transport='websocket'),
                              0).response.status == 400
    assert engine.handle_http(
        req(headers={'origin': 'http://evil.example'}),
        0).response.status == 400
    # a connect handler's refusal
    out = engine.handle_http(req(), 0)
    assert engine.connect_done(out, req(), (False, None), 0).response.status \
        == 401
    # full
    open_polling(engine)
    assert engine.handle_http(req(), 0).response.status == 503
    rejected = {cause: n for cause, n in st.rejected.items() if n}
    assert rejected == {
        'Session ID unknown': 1, 'Transport unknown': 1,
        'Unsupported protocol version': 1, 'Bad handshake method': 2,
        'Bad request': 1, 'Not an accepted origin': 1, 'Unauthorized': 1,
        'Too many connections': 1}
    assert set(st.rejected) == set(S.CAUSES)


def test_payload_too_large_is_a_cause_and_a_transport_error(make):
    engine, st = metered(make, max_http_buffer_size=10)
    s, _ = open_polling(engine)
    out = engine.handle_http(req('POST', b'4' * 20, sid=s.sid), 0)
    assert out.response.status == 400
    assert json.loads(out.response.body)['message'] == 'Payload too large'
    assert st.rejected['Payload too large'] == 1
    assert st.disconnects['transport error'] == 1


def test_high_water_marks_leave_the_bounds_as_they_are(make):
    engine, st = metered(make, max_http_buffer_size=10, max_queue_bytes=20)
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.ws_receive(link, '4' + 'a' * 9, 0)[0][0] == 'message'
    assert st.max_packet == 10
    assert engine.send(s, '4' + 'b' * 19) is True
    assert st.max_queue == 20
    assert engine.send(s, '4')[2] == 'transport error'   # over the bound
    assert st.max_queue == 20
    s, link = open_ws(engine)
    engine.ws_take(link)
    assert engine.ws_receive(link, '4' + 'a' * 10, 0) == [
        ('disconnect', s.sid, 'transport error')]
    assert link.close_code == 1009 and st.max_packet == 10


def test_the_same_decisions_metered_or_not(make):
    """A metered engine answers exactly as an unmetered one."""
    def script(engine):
        seen = []
        s, resp = open_polling(engine)
        seen.append(resp.status)
        out = engine.handle_http(req('POST', b'4a\x1e4b', sid=s.sid), 0)
        seen.append((out.response.status, out.events))
        engine.send(s, '4c')
        seen.append(engine.handle_http(req(sid=s.sid), 0).response.body)
        seen.append(engine.handle_http(req(sid='x'), 0).response.body)
        w, link = open_ws(engine)
        seen.append(engine.ws_receive(link, '4m', 0))
        seen.append(engine.ws_receive(link, '1', 0))
        return [repr(x).replace(s.sid, 'S').replace(w.sid, 'W')
                for x in seen]

    plain = make()
    counted = make()
    S.meter(counted)
    assert script(plain) == script(counted)


def test_metering_composes_with_instrumentation(make):
    engine, st = metered(make)
    seen = []
    hooks = I.EngineHooks()
    hooks.received = lambda link, data: seen.append(data) or data
    I.instrument(engine, hooks)
    s, link = open_ws(engine)
    engine.ws_receive(link, '4x', 0)
    assert seen == ['4x'] and st.messages_in == 1
    I.instrument(engine, None)
    engine.ws_receive(link, '4y', 0)
    assert st.messages_in == 2


# -- the log line of a refused request --------------------------------------

def logged_engine(make, caplog):
    engine = make()
    engine.logger = logging.getLogger('engineio.server')
    caplog.set_level(logging.INFO, logger='engineio.server')
    return engine


def test_one_info_line_per_refused_request_with_its_cause(make, caplog):
    engine = logged_engine(make, caplog)
    engine.handle_http(req(sid='nope'), 0)
    engine.handle_http(req(transport='carrier'), 0)
    engine.handle_http(req(ws=False, transport='websocket'), 0)
    lines = [(r.levelno, r.name, r.getMessage()) for r in caplog.records]
    assert lines == [
        (logging.INFO, 'engineio.server',
         'GET polling refused (400 Session ID unknown)'),
        (logging.INFO, 'engineio.server',
         'GET ? refused (400 Transport unknown)'),
        (logging.INFO, 'engineio.server',
         'GET websocket refused (400 Bad request): websocket transport '
         'without a websocket upgrade')]


def test_nothing_per_message_at_info(make, caplog):
    engine = logged_engine(make, caplog)
    s, link = open_ws(engine)
    for i in range(5):
        engine.ws_receive(link, '4m%d' % i, 0)
        engine.send(s, '4r%d' % i)
        engine.ws_take(link)
    p, _ = open_polling(engine)
    engine.handle_http(req('POST', b'4a\x1e4b', sid=p.sid), 0)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_a_refused_connection_is_logged(make, caplog):
    engine = logged_engine(make, caplog)
    out = engine.handle_http(req(), 0)
    engine.connect_done(out, req(), (False, 'no'), 0)
    assert [r.getMessage() for r in caplog.records] == [
        'GET polling refused (401 Unauthorized): by the connect handler']
