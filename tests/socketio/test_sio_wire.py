"""engineio_fast.sio_wire and protocol/sio_packets.py: which Socket.IO
packets a client may send (socket.io-parser's rules, checked against
socket.io-parser itself in node), what engineio_fast changes in
python-socketio to speak as the JavaScript server does, and that it changes
nothing for a server with another serializer. The same behaviours over real
sockets, beside Node's socket.io, are tests/socketio/test_sio_protocol.py.
"""

import json
import os
import subprocess
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engineio_fast.protocol import sio_packets
from engineio_fast.protocol.sio_packets import (
    InvalidPacket,
    check_text,
    strict_loads,
)

from ..interop.conftest import require_node
from .inproc import run_script

HERE = os.path.dirname(os.path.abspath(__file__))

VALID = [
    ('0', 0), ('0{"token":"123"}', 0), ('0/custom,', 0),
    ('0/custom,{"token":"abc"}', 0), ('0/random', 0), ('1', 0),
    ('1/custom', 0), ('1/custom,', 0), ('2["message",1]', 0),
    ('2456["message-with-ack",1]', 0), ('2[1]', 0), ('2[1.5,"x"]', 0),
    ('2', 0), ('3456[1]', 0), ('3456', 0), ('3[]', 0),
    ('4/x,"err"', 0), ('4{"message":"no"}', 0),
    ('52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
     2),
    ('52-789["m",{"_placeholder":true,"num":0}]', 2),
    ('61-/ns,7[{"a":[{"_placeholder":true,"num":0}]}]', 1),
    ('510-["m"]', 10),
]

INVALID = [
    ('', 'unknown packet type'), ('abc', 'unknown packet type'),
    ('7[]', 'unknown packet type'), ('2{}', 'invalid payload'),
    ('2abc["x"]', 'invalid payload'), ('2[]', 'invalid payload'),
    ('2[true]', 'invalid payload'), ('2[null]', 'invalid payload'),
    ('2["disconnect"]', 'invalid payload'),
    ('2["newListener",1]', 'invalid payload'),
    ('2["a"]x', 'invalid payload'), ('1{}', 'invalid payload'),
    ('0[1]', 'invalid payload'), ('0"x"', 'invalid payload'),
    ('3{}', 'invalid payload'), ('4[1]', 'invalid payload'),
    ('2["a",NaN]', 'invalid payload'), ('2["a",Infinity]', 'invalid payload'),
    ('2' + '[' * 5000 + ']' * 5000, 'invalid payload'),
    ('5-["x"]', 'illegal attachments'), ('50-["x"]', 'illegal attachments'),
    ('5["x"]', 'illegal attachments'),
    ('511-["x"]', 'too many attachments'),
    ('59999999999-["x"]', 'illegal attachments'),
    ('52-["m",{"_placeholder":true,"num":2}]', 'illegal attachments'),
    ('51-["m",{"_placeholder":true,"num":-1}]', 'illegal attachments'),
    ('51-["m",{"_placeholder":true}]', 'illegal attachments'),
    ('51-["m",{"_placeholder":true,"num":"0"}]', 'illegal attachments'),
    ('2' + '1' * 101 + '["a"]', 'ack id too long'),
]


@pytest.mark.parametrize('packet,attachments', VALID)
def test_valid_packets(packet, attachments):
    assert check_text(packet, strict_loads) == attachments


@pytest.mark.parametrize('packet,why', INVALID)
def test_invalid_packets(packet, why):
    with pytest.raises(InvalidPacket, match=why):
        check_text(packet, strict_loads)


# -- against socket.io-parser ------------------------------------------------

class Referee:
    """js/parser_check.mjs: socket.io-parser's verdict on each packet."""

    def __init__(self):
        require_node()
        self.proc = subprocess.Popen(
            ['node', os.path.join(HERE, 'js', 'parser_check.mjs')],
            cwd=os.path.join(HERE, 'js'), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)

    def verdicts(self, packets):
        for packet in packets:
            self.proc.stdin.write(json.dumps(packet) + '\n')
        self.proc.stdin.flush()
        return [self.proc.stdout.readline().strip() for _ in packets]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture(scope='module')
def referee():
    ref = Referee()
    yield ref
    ref.close()


def ours(packet):
    try:
        check_text(packet, strict_loads)
        return 'ok'
    except InvalidPacket as exc:
        return 'error: %s' % exc


# refused here, taken by socket.io-parser: an empty message (JavaScript's
# Number('') is 0: a CONNECT) and an ack id python-socketio cannot parse
STRICTER = {'', '2' + '1' * 101 + '["a"]'}


def test_referee_agrees_on_the_examples(referee):
    packets = [p for p, _ in VALID] + [p for p, _ in INVALID]
    verdicts = referee.verdicts(packets)
    for packet, verdict in zip(packets, verdicts):
        if packet in STRICTER:
            assert verdict == 'ok' and ours(packet) != 'ok'
        else:
            assert (ours(packet) == 'ok') == (verdict == 'ok'), \
                (packet, verdict)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=6))
json_value = st.recursive(
    json_leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)
placeholder = st.builds(lambda n: {'_placeholder': True, 'num': n},
                        st.integers(-1, 11))
event_name = st.one_of(st.text(max_size=8), st.integers(0, 99),
                       st.sampled_from(sorted(sio_packets.RESERVED_EVENTS)))


@st.composite
def encoded_packets(draw):
    """Packets as socket.io-client's encoder writes them (type, attachment
    count, namespace, ack id, JSON), with payloads of every shape, right
    and wrong for their type, and placeholders in and out of range."""
    ptype = draw(st.integers(0, 6))
    out = str(ptype)
    binary = ptype in (5, 6)
    if binary:
        out += '%d-' % draw(st.integers(0, 12))
    if draw(st.booleans()):
        out += '/' + draw(st.text('abc/?', max_size=5)) + ','
    if draw(st.booleans()):
        out += str(draw(st.integers(0, 10**12)))
    kind = draw(st.sampled_from(['none', 'event', 'list', 'object',
                                 'string', 'any']))
    if kind == 'event':
        args = draw(st.lists(st.one_of(json_value, placeholder)
                             if binary else json_value, max_size=3))
        out += json.dumps([draw(event_name)] + args)
    elif kind == 'list':
        out += json.dumps(draw(st.lists(st.one_of(json_value, placeholder),
                                        max_size=3)))
    elif kind == 'object':
        out += json.dumps(draw(st.dictionaries(st.text(max_size=4),
                                               json_value, max_size=3)))
    elif kind == 'string':
        out += json.dumps(draw(st.text(max_size=6)))
    elif kind == 'any':
        out += json.dumps(draw(json_value))
    return out


# what socket.io-parser reads leniently (JavaScript's Number() and loose
# equality) and python-socketio cannot: refusing them is safe
garbled = st.text(st.sampled_from(list('0123456789-/,[]{}":_ abnNtrue.x')),
                  max_size=24)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(encoded_packets(), min_size=30, max_size=30))
def test_encoded_packets_judged_as_socket_io_parser_does(referee, packets):
    assert [ours(p) == 'ok' for p in packets] == \
        [v == 'ok' for v in referee.verdicts(packets)], packets


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(garbled, min_size=30, max_size=30))
def test_nothing_socket_io_parser_refuses_gets_through(referee, packets):
    verdicts = referee.verdicts(packets)
    for packet, verdict in zip(packets, verdicts):
        if ours(packet) == 'ok':
            assert verdict == 'ok', packet


# -- on python-socketio ------------------------------------------------------

SCRIPT = textwrap.dedent('''
    import json, sys
    import engineio_fast
    engineio_fast.install()
    import socketio, socketio.server, socketio.async_server, socketio.manager

    out = {}
    sio = socketio.AsyncServer(async_mode='asgi')
    out['default_timeout'] = sio.eio._engine.join_timeout
    sio2 = socketio.Server(async_mode='threading', connect_timeout=2.5)
    out['timeout'] = sio2.eio._engine.join_timeout
    out['patched'] = [
        hasattr(cls.__dict__[name], '__wrapped__')
        for cls, name in [
            (socketio.server.Server, '_handle_eio_message'),
            (socketio.server.Server, '_handle_connect'),
            (socketio.server.Server, '_send_packet'),
            (socketio.manager.Manager, 'emit'),
            (socketio.async_server.AsyncServer, '_handle_eio_message'),
            (socketio.async_server.AsyncServer, '_handle_connect')]]
    print(json.dumps(out))
''')


def test_python_socketio_is_hooked(tmp_path):
    out = run_script(tmp_path, SCRIPT, timeout=60)[0]
    assert out == {'default_timeout': 45.0, 'timeout': 2.5,
                   'patched': [True] * 6}


MSGPACK = textwrap.dedent('''
    import asyncio, json, sys
    import engineio_fast
    engineio_fast.install()
    import socketio
    from tests.socketio.inproc import start_uvicorn

    sio = socketio.AsyncServer(async_mode='asgi', serializer='msgpack')

    @sio.event
    async def echo(sid, *args):
        return args

    async def main():
        url, stop = await start_uvicorn(socketio.ASGIApp(sio))
        client = socketio.AsyncClient(reconnection=False,
                                      serializer='msgpack')
        await asyncio.wait_for(client.connect(
            url, transports=[sys.argv[1]]), 10)
        got = await client.call('echo', ('text', b'\\x00bin', [1, 2]),
                                timeout=10)
        connected = client.connected
        await client.disconnect()
        await stop()
        print(json.dumps({'got': [got[0], got[1].hex(), got[2]],
                          'connected': connected}))

    asyncio.run(main())
''')


@pytest.mark.parametrize('transport', ['websocket', 'polling'])
def test_msgpack_serializer_untouched(tmp_path, transport):
    """python-socketio's msgpack serializer sends every packet as one
    binary message: the text checks leave such a server alone."""
    out = run_script(tmp_path, MSGPACK, transport, timeout=60)[0]
    assert out == {'got': ['text', '0062696e', [1, 2]], 'connected': True}


def test_a_missing_hook_is_said(caplog):
    """A python-socketio without a function engineio_fast hooks: its own
    code runs, and the log says so (once)."""
    from engineio_fast import sio_wire

    class Elsewhere:
        pass

    with caplog.at_level('WARNING', logger='engineio_fast'):
        for _ in range(2):
            sio_wire._patch(Elsewhere, '_handle_connect',
                            sio_wire._known_namespace, True, 4)
    assert not hasattr(Elsewhere, '_handle_connect')
    said = [r.getMessage() for r in caplog.records
            if 'Elsewhere._handle_connect' in r.getMessage()]
    assert len(said) == 1 and 'tested with 5.18' in said[0]
