"""engineio_fast.packet / payload against python-engineio's behaviour.

Every test runs over each kernel implementation (``_accel.active`` is
switched to it), and where we keep python-engineio's behaviour the same
input is also given to python-engineio 4.15 and the results compared.
"""

import json as std_json

import pytest
from engineio import packet as ref_packet
from engineio import payload as ref_payload

from engineio_fast import _accel, packet, payload
from engineio_fast import json as eio_json
from engineio_fast.exceptions import ContentTooLongError


@pytest.fixture(autouse=True)
def each_kernel(kernels, monkeypatch):
    monkeypatch.setattr(_accel, 'active', kernels)
    return kernels


def test_constants():
    assert (packet.OPEN, packet.CLOSE, packet.PING, packet.PONG,
            packet.MESSAGE, packet.UPGRADE, packet.NOOP) == tuple(range(7))
    assert packet.packet_names == ref_packet.packet_names
    assert packet.binary_types == (bytes, bytearray)
    assert packet.Packet.json is eio_json


SAME_ENCODE = [
    (packet.MESSAGE, 'hello', False), (packet.MESSAGE, '', False),
    (packet.MESSAGE, {'a': [1, 'x'], 'b': None}, False),
    (packet.MESSAGE, [1, 2.5, True], False), (packet.MESSAGE, 123, False),
    (packet.MESSAGE, b'\x00\x01bin', False),
    (packet.MESSAGE, b'\x00\x01bin', True),
    (packet.MESSAGE, bytearray(b'xy'), True),
    (packet.PING, None, False), (packet.PONG, 'probe', False),
    (packet.OPEN, '{"sid":"abc"}', False), (packet.NOOP, None, False),
    (packet.MESSAGE, 'é☃\U0001f600', False),
]


@pytest.mark.parametrize('ptype, data, b64', SAME_ENCODE)
def test_encode_like_python_engineio(ptype, data, b64):
    ours = packet.Packet(ptype, data).encode(b64=b64)
    theirs = ref_packet.Packet(ptype, data).encode(b64=b64)
    assert ours == theirs and type(ours) is type(theirs)


SAME_DECODE = ['4hello', '4{"a":1}', '4[1,"x"]', '4true', '4"x"', '4-5',
               '4123', '4 12', '2', '3probe', '6', '4{bad', 'bAQID',
               'baGVsbG8=', b'\x01\x02', bytearray(b'\x03'), '4null',
               '1', '0{"sid":"x","upgrades":[]}', '4é☃']


@pytest.mark.parametrize('encoded', SAME_DECODE)
def test_decode_like_python_engineio(encoded):
    ours = packet.Packet(encoded_packet=encoded)
    theirs = ref_packet.Packet(encoded_packet=encoded)
    assert (ours.packet_type, ours.data, ours.binary) == (
        theirs.packet_type, theirs.data, theirs.binary)
    assert type(ours.data) is type(theirs.data)


@pytest.mark.parametrize('encoded', ['', 'x', '9', '7hello', 'b!!!'])
def test_decode_invalid(encoded):
    with pytest.raises(ValueError):
        packet.Packet(encoded_packet=encoded)


def test_huge_integers_are_not_decoded():
    pkt = packet.Packet(encoded_packet='4[' + '9' * 5000 + ']')
    assert pkt.data == '[' + '9' * 5000 + ']'


def test_binary_needs_message_type():
    with pytest.raises(ValueError):
        packet.Packet(packet.PING, b'x')
    assert packet.Packet(packet.MESSAGE, b'x').binary is True
    assert packet.Packet(packet.MESSAGE, 'x').binary is False


def test_encode_is_cached():
    pkt = packet.Packet(packet.MESSAGE, {'a': 1})
    first = pkt.encode()
    pkt.data = {'b': 2}
    assert pkt.encode() is first and pkt.encode_cache is first
    pkt = packet.Packet(packet.MESSAGE, b'raw')
    assert pkt.encode() == b'raw'
    assert pkt.encode(b64=True) == b'raw'     # python-engineio's quirk


def test_json_is_settable(monkeypatch):
    class Marker:
        @staticmethod
        def dumps(obj, **kwargs):
            return 'custom'

        @staticmethod
        def loads(text):
            return ('loaded', text)

    monkeypatch.setattr(packet.Packet, 'json', Marker)
    assert packet.Packet(packet.MESSAGE, {'a': 1}).encode() == '4custom'
    assert packet.Packet(encoded_packet='4{}').data == ('loaded', '{}')
    assert payload.Payload(encoded_payload='4[]').packets[0].data == (
        'loaded', '[]')


PAYLOADS = ['4hello\x1e2\x1ebAQI=', '4{"a":1}', '6', '4é\x1e4☃',
            '4a\x1e4b\x1e4c']


@pytest.mark.parametrize('encoded', PAYLOADS)
def test_payload_decode_like_python_engineio(encoded):
    ours = payload.Payload(encoded_payload=encoded).packets
    theirs = ref_payload.Payload(encoded_payload=encoded).packets
    assert [(p.packet_type, p.data, p.binary) for p in ours] == [
        (p.packet_type, p.data, p.binary) for p in theirs]


def test_payload_encode_like_python_engineio():
    def packets(mod):
        return [mod.Packet(mod.MESSAGE, 'hi'), mod.Packet(mod.PING),
                mod.Packet(mod.MESSAGE, b'\x00\xff'),
                mod.Packet(mod.MESSAGE, {'k': 'v'})]
    ours = payload.Payload(packets(packet))
    theirs = ref_payload.Payload(packets(ref_packet))
    assert ours.encode() == theirs.encode()
    assert payload.Payload().encode() == ref_payload.Payload().encode() == ''


def test_payload_encode_uses_cached_raw_bytes():
    pkt = packet.Packet(packet.MESSAGE, b'\x01\x02')
    pkt.encode()          # cached as raw bytes for a websocket frame
    assert payload.Payload([pkt]).encode() == 'bAQI='


def test_payload_jsonp():
    pkts = [packet.Packet(packet.MESSAGE, 'say "hi"</script>\n')]
    assert payload.Payload(pkts).encode(jsonp_index=3) == (
        '___eio[3]("4say \\"hi\\"<\\/script>\\n");')
    assert payload.Payload(pkts).encode(jsonp_index='4').startswith(
        '___eio[4]("')


def test_payload_decode_jsonp_form():
    decoded = payload.Payload(encoded_payload='d=4hello%1E2%1E4a+b').packets
    assert [(p.packet_type, p.data) for p in decoded] == [
        (4, 'hello'), (2, ''), (4, 'a b')]
    assert payload.Payload(encoded_payload='d=').packets == []


def test_payload_empty_and_bytes():
    assert payload.Payload(encoded_payload='').packets == []
    assert payload.Payload(encoded_payload=b'').packets == []
    decoded = payload.Payload(encoded_payload='4é\x1e2'.encode()).packets
    assert [(p.packet_type, p.data) for p in decoded] == [(4, 'é'), (2, '')]
    with pytest.raises(ValueError):
        payload.Payload(encoded_payload=b'4\xff')


@pytest.mark.parametrize('encoded', ['4a\x1e', '\x1e', '4a\x1ex', 'bA'])
def test_payload_invalid(encoded):
    with pytest.raises(ValueError):
        payload.Payload(encoded_payload=encoded)


def test_payload_bound_is_bytes_not_packets(monkeypatch):
    many = '\x1e'.join(['4x'] * 500)
    assert len(payload.Payload(encoded_payload=many).packets) == 500
    with pytest.raises(ValueError):         # python-engineio refuses 17
        ref_payload.Payload(encoded_payload='\x1e'.join(['4x'] * 17))
    monkeypatch.setattr(payload.Payload, 'max_payload_bytes', 10)
    assert len(payload.Payload(encoded_payload='4' * 10).packets) == 1
    with pytest.raises(ContentTooLongError):
        payload.Payload(encoded_payload='4' * 11)
    with pytest.raises(ContentTooLongError):
        payload.Payload(encoded_payload='4' + 'é' * 5)   # 11 UTF-8 bytes
    with pytest.raises(ContentTooLongError):
        payload.Payload(encoded_payload=b'4' * 11)


def test_default_payload_bound():
    assert payload.Payload.max_payload_bytes == 1000000
    body = '4' + 'x' * 999999
    assert payload.Payload(encoded_payload=body).packets[0].data == body[1:]
    with pytest.raises(ContentTooLongError):
        payload.Payload(encoded_payload=body + 'x')


def test_round_trip_through_json_values():
    values = ['text', {'a': [1, {'b': None}]}, [], '', b'\x00' * 10]
    pkts = [packet.Packet(packet.MESSAGE, v) for v in values]
    decoded = payload.Payload(encoded_payload=payload.Payload(
        pkts).encode()).packets
    assert [p.data for p in decoded] == values
    assert std_json.loads(std_json.dumps(values[1])) == decoded[1].data
