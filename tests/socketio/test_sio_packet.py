"""engineio_fast.sio_packet: python-socketio's ``Packet`` on the Socket.IO
kernels, against python-socketio's own ``Packet`` on the same calls
(hypothesis-generated data and packets), on both kernel sets: the same
bytes out, the same attributes in, the same packets rebuilt from their
attachments; and what socket.io-parser refuses raises InvalidPacket. The
subclass keeps the API (``json=``, subclassing, ``add_attachment``)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from socketio import packet as sio_packet

from engineio_fast.protocol.sio_packets import InvalidPacket
from engineio_fast.sio_packet import packet_class

Plain = sio_packet.Packet


@pytest.fixture(scope='session')
def Fast(kernels):
    cls = packet_class(Plain, kernels)
    assert issubclass(cls, Plain) and cls is not Plain
    return cls


def attrs(pkt):
    return (pkt.packet_type, pkt.data, pkt.namespace, pkt.id,
            pkt.attachment_count, pkt.attachments)


leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=5), st.binary(max_size=4),
                   st.binary(max_size=3).map(bytearray))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=10)
namespaces = st.sampled_from([None, '/', '/chat', '/a/b', '/é'])
ids = st.one_of(st.none(), st.integers(0, 10**12))


def made(cls, ptype, data, namespace, ack):
    try:
        return cls(ptype, data=data, namespace=namespace, id=ack)
    except ValueError as exc:
        return ('raise', str(exc))


@given(st.integers(0, 6), values, namespaces, ids)
def test_encode_as_python_socketio(Fast, ptype, data, namespace, ack):
    fast = made(Fast, ptype, data, namespace, ack)
    plain = made(Plain, ptype, data, namespace, ack)
    if isinstance(plain, tuple):
        assert fast == plain        # binary data where none is allowed
        return
    assert attrs(fast) == attrs(plain)
    assert fast.encode() == plain.encode()


@given(st.sampled_from([0, 2, 3, 4]), values, namespaces, ids)
def test_decode_as_python_socketio(Fast, ptype, data, namespace, ack):
    """Every packet python-socketio writes (that socket.io-parser takes)
    reads back the same, attachments included."""
    plain = made(Plain, ptype, data, namespace, ack)
    if isinstance(plain, tuple):
        return
    encoded = plain.encode()
    parts = encoded if isinstance(encoded, list) else [encoded]
    try:
        fast = Fast(encoded_packet=parts[0])
    except InvalidPacket:
        # socket.io-parser refuses it too: a payload of the wrong shape
        # for its type (python-socketio writes whatever it is given)
        with pytest.raises(InvalidPacket):
            _referee_shape(plain)
        return
    other = Plain(encoded_packet=parts[0])
    assert attrs(fast) == attrs(other)
    for part in parts[1:]:
        assert fast.add_attachment(part) == other.add_attachment(part)
    assert attrs(fast) == attrs(other)


def _referee_shape(pkt):
    """socket.io-parser's payload rule for a decoded packet's data."""
    from engineio_fast import _accel
    if pkt.data is not None:
        data, _ = _accel.pure.sio_deconstruct(pkt.data)
        _accel.pure.sio_check_payload(pkt.packet_type,
                                      json.loads(json.dumps(data)),
                                      len(_) or 0)


@pytest.mark.parametrize('text', [
    'x', '2{}', '2[]', '2["disconnect"]', '511-["a"]', '2["a",NaN]',
    '51-["a",{"_placeholder":true,"num":4}]', '2' + '1' * 101 + '["a"]',
    '1{}', '0[]'])
def test_refused(Fast, text):
    with pytest.raises(InvalidPacket):
        Fast(encoded_packet=text)


def test_subclass_and_json_option(Fast):
    class Mine(Fast):
        def encode(self):
            return 'mine:' + super().encode()

    assert Mine(2, data=['a', 1]).encode() == 'mine:2["a",1]'

    class Loud:
        @staticmethod
        def dumps(obj, **kwargs):
            return json.dumps(obj, **kwargs).upper()

        @staticmethod
        def loads(text, **kwargs):
            return json.loads(text.lower())

    saved = Plain.json
    Plain.json = Loud          # python-socketio's json= option does this
    try:
        assert Fast(2, data=['a']).encode() == '2["A"]'
        assert Fast(encoded_packet='2["B"]').data == ['b']
    finally:
        Plain.json = saved
