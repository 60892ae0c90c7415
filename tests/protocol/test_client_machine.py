"""The sans-I/O client machine (engineio_fast.protocol.client_machine): events
in, actions out, with a fake clock; every state and transition, the open
packet checks, the probe sequence and its failures, the heartbeat deadline,
the close reasons, and a hypothesis state machine that drives random event
sequences and checks that no invalid state or action is ever reached.
Parametrised over the pure and compiled kernels (``kernels``)."""

import json
import logging

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from engineio_fast import _accel, exceptions
from engineio_fast.protocol import client_machine as cm

loads = json.loads
dumps = json.JSONEncoder(separators=(',', ':')).encode
URL = 'http://h:1/x?q=1'
OPEN = {'sid': 'a/b', 'upgrades': ['websocket'], 'pingInterval': 300,
        'pingTimeout': 200, 'maxPayload': 1000}
CLOSE_ONLY = [(cm.CLOSE_SESSION, cm.TRANSPORT_ERROR)]


def open_packet(**changes):
    data = dict(OPEN, **changes)
    return '0' + json.dumps({k: v for k, v in data.items()
                             if v is not None})


@pytest.fixture
def make(kernels):
    def factory(transports=None, logger=None):
        return cm.ClientMachine(URL, 'engine.io', transports, loads, dumps,
                                logger, kernels=kernels)
    return factory


def polling(make, now=100.0, extra='', **changes):
    m = make()
    actions = m.handshake_response(
        200, (open_packet(**changes) + extra).encode(), now)
    return m, actions


def upgraded(make):
    m, _ = polling(make)
    m.begin_upgrade()
    m.probe_opened()
    m.probe_message(cm.PROBE_REPLY)
    m.polling_paused()
    m.switched()
    return m


# -- connecting ----------------------------------------------------------------

def test_new_machine_urls_and_transports(make):
    m = make()
    assert m.state == cm.CONNECTING and m.transport == 'polling'
    assert m.transports == ['polling', 'websocket']
    assert m.poll_url == 'http://h:1/engine.io/?q=1&transport=polling&EIO=4'
    assert m.ws_url == 'ws://h:1/engine.io/?q=1&transport=websocket&EIO=4'
    assert m.url == m.poll_url and m.sid is None
    ws = make('websocket')
    assert ws.transports == ['websocket'] and ws.transport == 'websocket'
    assert ws.url == ws.ws_url
    assert make(['carrier-pigeon', 'websocket']).transports == ['websocket']
    for bad in (['carrier-pigeon'], 'x', []):
        with pytest.raises(ValueError, match='No valid transports'):
            make(bad)
    assert m.receive_payload(200, b'4x', 0) == []       # not open yet
    assert m.expire(1e9) == [] and m.begin_upgrade() == []
    assert m.state == cm.CONNECTING


def test_polling_handshake_opens_the_session(make):
    m, actions = polling(make, now=100.0)
    assert actions == []
    assert m.state == cm.POLLING and m.transport == 'polling'
    assert m.sid == 'a/b' and m.handshake.data == OPEN
    assert m.poll_url.endswith('&EIO=4&sid=a%2Fb') and m.url == m.poll_url
    assert m.ws_url.endswith('&EIO=4&sid=a%2Fb')
    assert m.window == pytest.approx(0.5)
    assert m.deadline == pytest.approx(100.5)
    assert m.max_payload == 1000
    # a second handshake answer changes nothing
    assert m.handshake_response(200, open_packet().encode(), 0) == []
    assert m.sid == 'a/b' and m.deadline == pytest.approx(100.5)


def test_packets_after_the_open_packet(make):
    m, actions = polling(make, extra='\x1e4hi\x1e2\x1e3\x1e6\x1e4{"a":1}')
    assert actions == [(cm.DELIVER, 'hi'), (cm.SEND, '3'),
                       (cm.DELIVER, {'a': 1})]
    m, actions = polling(make, extra='\x1e4x\x1e1\x1e4never')
    assert actions == [(cm.DELIVER, 'x'),
                       (cm.CLOSE_SESSION, cm.SERVER_DISCONNECT)]
    assert m.state == cm.CLOSED and m.cause == cm.TRANSPORT_CLOSE


def test_handshake_refused(make):
    m = make()
    with pytest.raises(cm.HandshakeRefused) as info:
        m.handshake_response(401, b'{"why":"nope"}', 0)
    assert isinstance(info.value, exceptions.ConnectionError)
    assert info.value.args == (
        'Unexpected status code 401 in server response', {'why': 'nope'})
    assert info.value.status == 401 and m.state == cm.CLOSED
    m = make()
    with pytest.raises(cm.HandshakeRefused) as info:
        m.handshake_refused(500, b'not json')
    assert info.value.args[1] is None
    ws = make('websocket')
    with pytest.raises(cm.HandshakeRefused) as info:
        ws.handshake_refused(403, b'not you')
    assert info.value.args == (
        'Unexpected status code 403 in server response', 'not you')
    with pytest.raises(cm.HandshakeRefused) as info:
        make('websocket').handshake_refused(400, b'{"code":3}')
    assert info.value.args[1] == {'code': 3}


@pytest.mark.parametrize('body, message', [
    (b'', 'Unexpected response from server'),
    (b'\xff\xfe', 'Unexpected response from server'),
    ('4hello', 'OPEN packet not returned by server'),
    ('6', 'OPEN packet not returned by server'),
    ('0{not json', 'Unexpected response from server'),
    ('0"sid"', 'Unexpected response from server'),
    ('0[]', 'Unexpected response from server'),
    (open_packet() + '\x1e7', 'Unexpected response from server'),
    (open_packet() + '\x1e', 'Unexpected response from server'),
    (open_packet(sid=''), 'Unexpected response from server'),
    (open_packet(sid=5), 'Unexpected response from server'),
    (open_packet(sid='s' * 600), 'Unexpected response from server'),
    (open_packet(pingInterval='300'), 'Unexpected response from server'),
    (open_packet(pingInterval=True), 'Unexpected response from server'),
    (open_packet(pingInterval=-1), 'Unexpected response from server'),
    (open_packet(pingTimeout=None), 'Unexpected response from server'),
    ('0{"sid":"s","pingInterval":NaN,"pingTimeout":1}',
     'Unexpected response from server'),
])
def test_bad_open_packets(make, body, message):
    m = make()
    body = body.encode() if isinstance(body, str) else body
    with pytest.raises(cm.HandshakeInvalid) as info:
        m.handshake_response(200, body, 0)
    assert info.value.args == (message,)
    assert isinstance(info.value, exceptions.ConnectionError)
    assert m.state == cm.CLOSED and m.reason is None
    assert m.receive_payload(200, b'4x', 0) == []


def test_open_packet_values_are_sanitised(make):
    m, _ = polling(make, upgrades='websocket', maxPayload='x')
    assert m.handshake.upgrades == [] and m.max_payload == 1000000
    assert not m.can_upgrade()
    m, _ = polling(make, upgrades=['websocket', 3, None], maxPayload=True)
    assert m.handshake.upgrades == ['websocket']
    assert m.max_payload == cm.DEFAULT_MAX_PAYLOAD
    m, _ = polling(make, now=0.0, pingInterval=1e12)
    assert m.handshake.ping_interval == cm.MAX_HEARTBEAT
    m, _ = polling(make, now=0.0, pingInterval=0, pingTimeout=0)
    assert m.window == cm.MIN_HEARTBEAT_WINDOW
    assert m.deadline == cm.MIN_HEARTBEAT_WINDOW


@pytest.mark.parametrize('message, text', [
    (b'0{}', 'no OPEN packet'),
    ('4x', 'no OPEN packet'),
    ('', 'Unexpected response from server'),
    ('9', 'Unexpected response from server'),
    ('0{not json', 'Unexpected response from server'),
    ('0{"sid":"s"}', 'Unexpected response from server'),
])
def test_bad_websocket_open_packets(make, message, text):
    m = make('websocket')
    with pytest.raises(cm.HandshakeInvalid, match=text):
        m.handshake_message(message, 0)
    assert m.state == cm.CLOSED


def test_websocket_handshake(make):
    m = make('websocket')
    assert m.handshake_message(open_packet(), 10.0) == []
    assert m.state == cm.WEBSOCKET and m.transport == 'websocket'
    assert m.url == m.ws_url and 'sid' not in m.ws_url
    assert m.deadline == pytest.approx(10.5)
    assert not m.can_upgrade() and m.begin_upgrade() == []
    assert m.receive_message('4hi', 11.0) == [(cm.DELIVER, 'hi')]
    assert m.deadline == pytest.approx(11.5)
    assert m.receive_payload(200, b'4x', 12.0) == []    # not polling


def test_handshake_that_was_not_answered(make):
    with pytest.raises(cm.HandshakeUnreachable) as info:
        make().handshake_unreachable('[Errno 111] Connection refused')
    assert info.value.args == ('[Errno 111] Connection refused',)
    with pytest.raises(cm.HandshakeUnreachable,
                       match='Connection refused by the server'):
        make().handshake_unreachable('')
    m = make('websocket')
    with pytest.raises(cm.HandshakeUnreachable) as info:
        m.handshake_unreachable('timed out')
    assert info.value.args == ('Connection error',)
    assert m.state == cm.CLOSED
    with pytest.raises(cm.HandshakeInvalid,
                       match='Unexpected response from server'):
        make().handshake_unreadable()


# -- the upgrade ----------------------------------------------------------------

def test_probe_sequence(make):
    """engine.io-client 6's order: 2probe, 3probe, pause polling, 5, then
    the websocket carries the session and what was queued is flushed."""
    m, _ = polling(make)
    assert m.can_upgrade()
    assert m.begin_upgrade() == [(cm.OPEN_PROBE, m.ws_url)]
    assert 'sid=a%2Fb' in m.ws_url
    assert m.state == cm.UPGRADING and m.transport == 'polling'
    assert m.probe_opened() == [(cm.PROBE_SEND, '2probe'),
                                (cm.PROBE_RECV, None)]
    # polling goes on while the probe is under way
    assert m.receive_payload(200, b'4during', 101.0) == [
        (cm.DELIVER, 'during')]
    assert m.post_answer(200) == []
    assert m.probe_message('3probe') == [(cm.PAUSE_POLLING, None)]
    assert m.state == cm.UPGRADING
    assert m.polling_paused() == [(cm.PROBE_SEND, '5'), (cm.SWITCH, None)]
    assert m.state == cm.UPGRADING       # until the I/O switched over
    assert m.switched() == []
    assert m.state == cm.WEBSOCKET and m.transport == 'websocket'
    assert m.url == m.poll_url           # python-engineio's base_url
    # steps out of order or repeated change nothing
    for event in (m.begin_upgrade, m.probe_opened, m.polling_paused,
                  m.switched):
        assert event() == []
    assert m.probe_message('3probe') == [] and m.probe_failed('x') == []
    assert m.state == cm.WEBSOCKET
    assert m.receive_message('2', 102.0) == [(cm.SEND, '3')]


def test_steps_out_of_order_are_ignored(make):
    m, _ = polling(make)
    assert m.probe_opened() == [] and m.probe_message('3probe') == []
    assert m.polling_paused() == [] and m.switched() == []
    m.begin_upgrade()
    assert m.probe_message('3probe') == []      # 2probe not sent yet
    assert m.polling_paused() == [] and m.switched() == []
    m.probe_opened()
    assert m.polling_paused() == [] and m.switched() == []
    assert m.state == cm.UPGRADING


@pytest.mark.parametrize('failure', [
    'open', 'send', 'reply', 'binary reply', 'timeout', 'pause', 'upgrade'])
def test_probe_failures_stay_on_polling(make, failure):
    m, _ = polling(make)
    m.begin_upgrade()
    if failure == 'open':
        actions = m.probe_failed(OSError('refused'))
    else:
        m.probe_opened()
        if failure == 'reply':
            actions = m.probe_message('3nope')
        elif failure == 'binary reply':
            actions = m.probe_message(b'3probe')
        elif failure in ('send', 'timeout'):
            actions = m.probe_failed(TimeoutError())
        else:
            m.probe_message('3probe')
            if failure == 'upgrade':
                m.polling_paused()
            actions = m.probe_failed('sending 5 failed')
    assert actions == [(cm.ABORT_PROBE, None)]
    assert m.state == cm.POLLING and m.transport == 'polling'
    # no second probe; later steps of the failed one change nothing
    assert not m.can_upgrade() and m.begin_upgrade() == []
    assert m.switched() == [] and m.state == cm.POLLING
    assert m.receive_payload(200, b'4still', 101.0) == [
        (cm.DELIVER, 'still')]


def test_no_upgrade_unless_offered_and_allowed(make):
    m, _ = polling(make, upgrades=[])
    assert not m.can_upgrade() and m.begin_upgrade() == []
    only = make('polling')
    only.handshake_response(200, open_packet().encode(), 0)
    assert only.begin_upgrade() == [] and only.state == cm.POLLING


def test_the_session_closing_during_the_probe_drops_it(make):
    m, _ = polling(make)
    m.begin_upgrade()
    m.probe_opened()
    assert m.receive_payload(200, b'1', 101.0) == [
        (cm.ABORT_PROBE, None), (cm.CLOSE_SESSION, cm.SERVER_DISCONNECT)]
    assert m.probe_message('3probe') == [] and m.state == cm.CLOSED
    m, _ = polling(make)
    m.begin_upgrade()
    assert m.disconnect() == [(cm.ABORT_PROBE, None), (cm.SEND, '1'),
                              (cm.CLOSE_SESSION, cm.CLIENT_DISCONNECT)]


# -- the heartbeat ----------------------------------------------------------------

def test_heartbeat_deadline(make):
    m, _ = polling(make, now=100.0)
    assert m.time_left(100.2) == pytest.approx(0.3)
    assert m.expire(100.49) == []
    m.receive_payload(200, b'6', 100.4)          # any packet moves it
    assert m.deadline == pytest.approx(100.9)
    m.touch(101.0)
    assert m.deadline == pytest.approx(101.5)
    assert m.expire(101.5) == CLOSE_ONLY
    assert m.cause == cm.PING_TIMEOUT and not m.clean
    assert m.expire(200.0) == [] and m.state == cm.CLOSED
    m.touch(300.0)
    assert m.deadline == pytest.approx(101.5)    # closed: stays


def test_a_failure_past_the_deadline_is_a_ping_timeout(make):
    m, _ = polling(make, now=0.0)
    assert m.transport_lost('read timed out', 0.6) == CLOSE_ONLY
    assert m.cause == cm.PING_TIMEOUT
    w = upgraded(make)
    w.receive_message('2', 10.0)
    assert w.transport_lost('timed out', 10.4) == CLOSE_ONLY
    assert w.cause == cm.TRANSPORT_CLOSE         # JS: the websocket closed


# -- close reasons ---------------------------------------------------------------

def _polling_open(make):
    return polling(make)[0]


def _ws_open(make):
    m = make('websocket')
    m.handshake_message(open_packet(), 100.0)
    return m


@pytest.mark.parametrize('opened', [_polling_open, _ws_open, upgraded])
@pytest.mark.parametrize('event, reason, cause, clean', [
    # what engine.io-client 6 reports, run against engine.io 6
    (lambda m: m.disconnect(), cm.CLIENT_DISCONNECT, cm.FORCED_CLOSE, True),
    (lambda m: m.expire(1e9), cm.TRANSPORT_ERROR, cm.PING_TIMEOUT, False),
    (lambda m: m.transport_lost('closed', 100.1, clean=True),
     cm.SERVER_DISCONNECT, cm.TRANSPORT_CLOSE, True),
    (lambda m: m.transport_lost('reset', 100.1), cm.TRANSPORT_ERROR,
     None, False),
    (lambda m: (m.receive_payload(200, b'4a\x1e1', 100.1)
                + m.receive_message('1', 100.1)),
     cm.SERVER_DISCONNECT, cm.TRANSPORT_CLOSE, True),
    (lambda m: (m.receive_payload(500, b'', 100.1)
                + m.receive_message('9', 100.1)),
     cm.TRANSPORT_ERROR, cm.TRANSPORT_ERROR, False),
])
def test_close_reasons(make, opened, event, reason, cause, clean):
    m = opened(make)
    actions = event(m)
    assert actions[-1] == (cm.CLOSE_SESSION, reason)
    assert [a for a in actions if a[0] == cm.CLOSE_SESSION] == [actions[-1]]
    if cause is None:       # JS: 'transport close' on a websocket
        cause = (cm.TRANSPORT_CLOSE if m.transport == 'websocket'
                 else cm.TRANSPORT_ERROR)
    assert (m.state, m.reason, m.cause, m.clean) == (
        cm.CLOSED, reason, cause, clean)
    # the session is over: every later event changes nothing
    assert m.disconnect() == [] and m.expire(1e12) == []
    assert m.receive_message('4late', 1e9) == []
    assert m.receive_payload(200, b'4late', 1e9) == []
    assert m.post_answer(500) == [] and m.transport_lost('x', 1e9) == []
    assert m.begin_upgrade() == [] and m.state == cm.CLOSED


def test_client_disconnect_sends_the_close_packet(make):
    m, _ = polling(make)
    assert m.disconnect('bye') == [(cm.SEND, '1'),
                                   (cm.CLOSE_SESSION, 'bye')]
    assert m.reason == 'bye' and m.cause == cm.FORCED_CLOSE
    m, _ = polling(make)
    assert m.abandon() == [(cm.SEND, '1'), (cm.CLOSE_SESSION, None)]
    assert m.reason is None and m.state == cm.CLOSED
    assert m.abandon() == []
    m = make()
    assert m.disconnect() == [(cm.CLOSE_SESSION, cm.CLIENT_DISCONNECT)]


def test_post_and_poll_errors(make):
    m, _ = polling(make)
    assert m.post_answer(204) == []
    assert m.post_answer(400) == CLOSE_ONLY
    assert m.cause == cm.TRANSPORT_ERROR
    for body in (b'\xff', b'', b'4a\x1e', b'x', b'4a\x1e7'):
        m, _ = polling(make)
        assert m.receive_payload(200, body, 100.1) == CLOSE_ONLY
    m, _ = polling(make)
    assert m.receive_payload(404, b'4a', 100.1) == CLOSE_ONLY
    assert m.transport_lost('Polling GET failed', 100.2) == []


# -- packets in and out ----------------------------------------------------------

def test_incoming_packets(make, caplog):
    m = upgraded(make)
    assert m.receive_message('4{"a":[1]}', 101.0) == [
        (cm.DELIVER, {'a': [1]})]
    assert m.receive_message('4123', 101.0) == [(cm.DELIVER, '123')]
    assert m.receive_message('4', 101.0) == [(cm.DELIVER, '')]
    assert m.receive_message(b'\x00\x01', 101.0) == [
        (cm.DELIVER, b'\x00\x01')]
    assert m.receive_message('2x', 101.0) == [(cm.SEND, '3x')]
    for quiet in ('3', '6', '3probe'):
        assert m.receive_message(quiet, 101.0) == []
    m.logger = logging.getLogger('test.client_machine')
    with caplog.at_level(logging.INFO, logger='test.client_machine'):
        assert m.receive_message('0{}', 101.0) == []
        assert m.receive_message('5', 101.0) == []
    assert 'unexpected packet of type 0' in caplog.text
    assert 'Received packet UPGRADE' in caplog.text
    assert m.state == cm.WEBSOCKET
    m, _ = polling(make)
    body = '\x1e'.join(['4m%d' % i for i in range(300)] + ['bAAE=', '2p'])
    actions = m.receive_payload(200, body.encode(), 101.0)
    assert actions[:2] == [(cm.DELIVER, 'm0'), (cm.DELIVER, 'm1')]
    assert actions[-2:] == [(cm.DELIVER, b'\x00\x01'), (cm.SEND, '3p')]
    assert len(actions) == 302


def test_outgoing_items_and_payloads(make):
    m, _ = polling(make, maxPayload=20)
    assert m.encode_message('a') == '4a'
    assert m.encode_message(b'\x01') == b'\x01'
    assert m.encode_message({'a': [1, 2]}) == '4{"a":[1,2]}'
    assert m.encode_message(7) == '47'
    with pytest.raises(UnicodeEncodeError):
        m.encode_message('a\ud800')
    assert m.payloads(['4a', '4' + 'y' * 30, '4b', '4c']) == [
        '4a', '4' + 'y' * 30, '4b\x1e4c']
    assert m.payloads([b'\x00\x01', '4a']) == ['bAAE=\x1e4a']


def test_each_kernel_set_gives_the_same_actions(kernels):
    # the machine decodes with the kernel set it is given (``kernels``:
    # each available one, tests/conftest.py): every set gives these actions
    m = cm.ClientMachine(URL, transports=None, kernels=kernels)
    assert m.handshake_response(200, open_packet().encode(), 0.0) == []
    assert m.receive_payload(200, b'4\xc3\xa9\x1e2', 1.0) == [
        (cm.DELIVER, '\xe9'), (cm.SEND, '3')]
    assert m.receive_payload(200, b'4a\x1e2\x1e4{"x":1}\x1ebAAE=\x1e1',
                             1.0) == [
        (cm.DELIVER, 'a'), (cm.SEND, '3'), (cm.DELIVER, {'x': 1}),
        (cm.DELIVER, b'\x00\x01'), (cm.CLOSE_SESSION, 'server disconnect')]
    assert (m.state, m.reason) == (cm.CLOSED, 'server disconnect')
    m = cm.ClientMachine(URL, transports=None, kernels=kernels)
    m.handshake_response(200, open_packet().encode(), 0.0)
    assert m.receive_payload(200, b'7', 1.0) == [
        (cm.CLOSE_SESSION, 'transport error')]


# -- random event sequences ------------------------------------------------------

BENIGN_POLLS = [b'4a', b'2', b'6', b'4a\x1e2\x1e4b', b'bAAE=', b'3']
BAD_POLLS = [b'1', b'4x\x1e1\x1e4y', b'7', b'', b'\xff', b'0{}', b'5']
BENIGN_MESSAGES = ['4a', '2', '3', '6', b'\x01', '2probe', '3probe']
BAD_MESSAGES = ['1', '', '9', '5', '0{}']
HANDSHAKES = ([open_packet().encode()] * 4
              + [(open_packet() + '\x1e4hi\x1e2').encode(),
                 open_packet(upgrades=[]).encode(),
                 (open_packet() + '\x1e1').encode(), b'4x', b'', b'0{bad',
                 open_packet(pingInterval=0, pingTimeout=0).encode()])
WS_OPENS = [open_packet()] * 3 + [b'0{}', '4x', '0{bad']
PROBE_REPLIES = ['3probe'] * 4 + ['3nope', b'3probe', '']
OPEN_STATES = (cm.POLLING, cm.UPGRADING, cm.WEBSOCKET)
UPGRADE_ONLY = (cm.OPEN_PROBE, cm.PROBE_SEND, cm.PROBE_RECV,
                cm.PAUSE_POLLING, cm.SWITCH)


class MachineRun(RuleBasedStateMachine):
    """Random events in random order, each checked against the contract.

    The run plays a faithful I/O layer (``perform``: the oldest pending
    action is carried out, successfully or not, and its outcome passed back
    as the event the machine asks for) interleaved with whatever else may
    happen meanwhile: packets, POST answers, clock steps, transport losses,
    a disconnect, and any event at all in any state (``stray``). Per event:
    the actions are well formed for the state it found and the one it left
    (probe actions only while upgrading, a close exactly once and last);
    across the run: the probe's writes are ``2probe`` then ``5``, the
    websocket carries the session only after ``5`` and the switch, and
    CLOSED is never left."""

    @initialize(transports=st.sampled_from([None, None, 'polling',
                                            'websocket']),
                kernels=st.sampled_from([k for k in (_accel.pure,
                                                     _accel.compiled) if k]))
    def start(self, transports, kernels):
        self.m = cm.ClientMachine(URL, 'engine.io', transports, loads, dumps,
                                  kernels=kernels)
        self.now = 0.0
        self.closes = 0
        self.pending = []
        self.probe_writes = []
        self.states = [cm.CONNECTING]

    def apply(self, event, *args):
        m = self.m
        before = m.state
        try:
            actions = event(*args)
        except cm.HandshakeError as exc:
            assert event.__name__.startswith('handshake')
            assert isinstance(exc, exceptions.ConnectionError)
            if before == cm.CONNECTING:
                assert m.state == cm.CLOSED and m.reason is None
            else:       # raised, but the session is not touched
                assert m.state == before
            self.states.append(m.state)
            return
        self.check(event.__name__, before, actions)
        self.pending += actions

    def check(self, name, before, actions):
        m = self.m
        after = m.state
        self.states.append(after)
        assert isinstance(actions, list)
        if before == cm.CLOSED:
            assert actions == [] and after == cm.CLOSED
            return
        kinds = [kind for kind, _ in actions]
        if cm.CLOSE_SESSION in kinds:
            self.closes += 1
            assert kinds.count(cm.CLOSE_SESSION) == 1
            assert kinds[-1] == cm.CLOSE_SESSION and after == cm.CLOSED
            assert actions[-1][1] == m.reason
            assert m.reason in (cm.CLIENT_DISCONNECT, cm.SERVER_DISCONNECT,
                                cm.TRANSPORT_ERROR, None, 'bye')
            assert m.cause in cm.REASON_OF_CAUSE
        else:
            assert after != cm.CLOSED
        if cm.ABORT_PROBE in kinds:
            # once, and only a close (with its close packet) after it
            assert before == cm.UPGRADING and kinds.count(cm.ABORT_PROBE) == 1
            rest = kinds[kinds.index(cm.ABORT_PROBE) + 1:]
            assert rest in ([], [cm.CLOSE_SESSION],
                            [cm.SEND, cm.CLOSE_SESSION])
            assert after == (cm.CLOSED if rest else cm.POLLING)
        if any(k in UPGRADE_ONLY for k in kinds):
            assert before in (cm.POLLING, cm.UPGRADING)
            assert after == cm.UPGRADING
        if cm.DELIVER in kinds:
            assert before in OPEN_STATES or name == 'handshake_response'
        for kind, arg in actions:
            if kind == cm.PROBE_SEND:
                assert arg == ('5' if self.probe_writes[-1:] == ['2probe']
                               else '2probe')
                self.probe_writes.append(arg)
            elif kind == cm.SEND:
                assert arg == '1' or arg.startswith('3')
        if after == cm.WEBSOCKET and before != cm.WEBSOCKET:
            assert name in ('switched', 'handshake_message')
            if name == 'switched':
                assert self.probe_writes[-2:] == ['2probe', '5']

    # -- the I/O layer, carrying out what the machine asked for

    @precondition(lambda self: self.pending)
    @rule(ok=st.sampled_from([True] * 5 + [False]),
          reply=st.sampled_from(PROBE_REPLIES))
    def perform(self, ok, reply):
        kind, arg = self.pending.pop(0)
        m = self.m
        if kind == cm.OPEN_PROBE:
            self.apply(m.probe_opened if ok else
                       (lambda: m.probe_failed('refused')))
        elif kind == cm.PROBE_SEND and not ok:
            self.apply(m.probe_failed, 'write failed')
        elif kind == cm.PROBE_RECV:
            self.apply(m.probe_message, reply)
        elif kind == cm.PAUSE_POLLING:
            self.apply(m.polling_paused)
        elif kind == cm.SWITCH:
            self.apply(m.switched)

    @precondition(lambda self: self.m.state == cm.CONNECTING)
    @rule(body=st.sampled_from(HANDSHAKES), message=st.sampled_from(WS_OPENS),
          status=st.sampled_from([200] * 6 + [401]))
    def handshake(self, body, message, status):
        if self.m.transport == 'polling':
            self.apply(self.m.handshake_response, status, body, self.now)
        else:
            self.apply(self.m.handshake_message, message, self.now)

    @precondition(lambda self: self.m.state == cm.POLLING)
    @rule()
    def begin_upgrade(self):
        self.apply(self.m.begin_upgrade)

    @rule(step=st.floats(0, 0.1))
    def tick(self, step):
        self.now += step
        self.apply(self.m.expire, self.now)

    @precondition(lambda self: self.m.state in (cm.POLLING, cm.UPGRADING))
    @rule(status=st.sampled_from([200] * 8 + [500]),
          body=st.sampled_from(BENIGN_POLLS * 3 + BAD_POLLS))
    def poll(self, status, body):
        self.apply(self.m.receive_payload, status, body, self.now)

    @precondition(lambda self: self.m.state in (cm.POLLING, cm.UPGRADING))
    @rule(status=st.sampled_from([200] * 8 + [400]))
    def post(self, status):
        self.apply(self.m.post_answer, status)

    @precondition(lambda self: self.m.state == cm.WEBSOCKET)
    @rule(message=st.sampled_from(BENIGN_MESSAGES * 3 + BAD_MESSAGES))
    def message(self, message):
        self.apply(self.m.receive_message, message, self.now)

    @precondition(lambda self: self.m.state in OPEN_STATES)
    @rule(how=st.sampled_from(['disconnect', 'bye', 'abandon', 'clean',
                               'lost', 'silence'] + ['none'] * 12))
    def close(self, how):
        m = self.m
        if how == 'none':
            return
        if how in ('disconnect', 'bye'):
            self.apply(m.disconnect, 'bye' if how == 'bye' else None)
        elif how == 'abandon':
            self.apply(m.abandon)
        elif how == 'silence':
            self.apply(m.expire, self.now + 10)
        else:
            self.apply(m.transport_lost, how, self.now, how == 'clean')

    @rule(data=st.data())
    def stray(self, data):
        """Any event, in whatever state the machine is."""
        m = self.m
        failures = [] if m.state == cm.CONNECTING else [
            (m.handshake_refused, (403, b'no')),
            (m.handshake_unreachable, ('x',)),
            (m.handshake_unreadable, ())]
        event, args = data.draw(st.sampled_from(failures + [
            (m.handshake_response, (200, HANDSHAKES[0], self.now)),
            (m.handshake_message, (WS_OPENS[0], self.now)),
            (m.begin_upgrade, ()), (m.probe_opened, ()),
            (m.probe_message, ('3probe',)), (m.probe_failed, ('x',)),
            (m.polling_paused, ()), (m.switched, ()),
            (m.receive_payload, (200, b'4a', self.now)),
            (m.receive_message, ('4a', self.now)),
            (m.post_answer, (200,)), (m.touch, (self.now,))]))
        if event == m.touch:
            event(*args)
            assert m.state == self.states[-1]
        else:
            self.apply(event, *args)

    @invariant()
    def valid(self):
        m = self.m
        assert m.state in cm.STATES
        assert self.closes <= 1
        assert m.transport in ('polling', 'websocket')
        if m.state in (cm.POLLING, cm.UPGRADING):
            assert m.transport == 'polling' and m.sid
        if m.state == cm.WEBSOCKET:
            assert m.transport == 'websocket' and m.sid
        if m.state != cm.CONNECTING and m.state != cm.CLOSED:
            assert m.deadline <= self.now + m.window + 1e-9
        if cm.CLOSED in self.states:
            first = self.states.index(cm.CLOSED)
            assert set(self.states[first:]) == {cm.CLOSED}


MachineRun.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_random_event_sequences = MachineRun.TestCase
