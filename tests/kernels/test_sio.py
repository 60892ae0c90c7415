"""The Socket.IO kernels (``sio_*``: engineio_fast/_pure/sio.py and its
compiled twin), each test run on both (the ``kernels`` fixture): examples,
properties of their own, and the compiled twin against the pure spec on
generated inputs (same values with exact types, or the same exception
class). Against python-socketio and socket.io-parser:
tests/socketio/test_sio_packet.py and test_sio_wire.py."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_helpers import canon, outcome

from engineio_fast import _accel
from engineio_fast._pure.sio import InvalidPacket

pure = _accel.pure


HEADS = [
    ('0', (0, 0, None, None, 1)),
    ('0/admin,{"a":1}', (0, 0, '/admin', None, 8)),
    ('0/admin?x=1,{}', (0, 0, '/admin', None, 12)),
    ('0/admin', (0, 0, '/admin', None, 7)),
    ('2["a"]', (2, 0, None, None, 1)),
    ('212["a"]', (2, 0, None, 12, 3)),
    ('3/chat,7[1]', (3, 0, '/chat', 7, 8)),
    ('52-["a",{}]', (5, 2, None, None, 3)),
    ('610-/n,99[]', (6, 10, '/n', 99, 9)),
    ('2☃', (2, 0, None, None, 1)),
    ('0/é,', (0, 0, '/é', None, 4)),
]
BAD_HEADS = ['', 'x', '7', '9["a"]', '5', '5-[]', '50-[]', '511-[]',
             '5123-[]', '5a-[]', '2' + '1' * 101]


@pytest.mark.parametrize('text,head', HEADS)
def test_read_head(kernels, text, head):
    assert kernels.sio_read_head(text) == head


@pytest.mark.parametrize('text', BAD_HEADS)
def test_read_head_refuses(kernels, text):
    with pytest.raises(InvalidPacket):
        kernels.sio_read_head(text)


def test_one_exception_class(kernels):
    assert kernels.InvalidPacket is InvalidPacket
    assert issubclass(InvalidPacket, ValueError)


@pytest.mark.parametrize('ptype,payload,count,ok', [
    (0, {}, 0, True), (0, [], 0, False), (0, 'x', 0, False),
    (1, None, 0, False), (2, ['a'], 0, True), (2, [1.5], 0, True),
    (2, [], 0, False), (2, [True], 0, False), (2, ['disconnect'], 0, False),
    (2, {'a': 1}, 0, False), (3, [], 0, True), (3, {}, 0, False),
    (4, 'no', 0, True), (4, {'message': 'x'}, 0, True), (4, [1], 0, False),
    (5, ['a', {'_placeholder': True, 'num': 0}], 1, True),
    (5, ['a', {'_placeholder': True, 'num': 1}], 1, False),
    (5, ['a', {'_placeholder': True, 'num': True}], 2, False),
    (5, ['a', [{'x': {'_placeholder': True}}]], 1, False),
    (6, [{'_placeholder': 1, 'num': 9}], 1, True),    # not a placeholder
])
def test_check_payload(kernels, ptype, payload, count, ok):
    if ok:
        assert kernels.sio_check_payload(ptype, payload, count) is None
    else:
        with pytest.raises(InvalidPacket):
            kernels.sio_check_payload(ptype, payload, count)


def test_encode_head(kernels):
    assert kernels.sio_encode_head(2, None, None, None) == '2'
    assert kernels.sio_encode_head(2, None, '/', 5) == '25'
    assert kernels.sio_encode_head(5, 2, '/x', None) == '52-/x,'
    assert kernels.sio_encode_head(6, 1, '/x', 12) == '61-/x,12'


class ListSub(list):
    pass


class DictSub(dict):
    pass


leaves = st.one_of(st.none(), st.booleans(), st.integers(),
                   st.floats(allow_nan=False), st.text(max_size=4),
                   st.binary(max_size=4),
                   st.binary(max_size=4).map(bytearray),
                   st.tuples(st.binary(max_size=2)))
data = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=2).map(ListSub),
    st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.dictionaries(st.text(max_size=2), inner, max_size=2).map(DictSub)),
    max_leaves=10)


def _binary_model(value):
    if isinstance(value, (bytes, bytearray)):
        return True
    if isinstance(value, list):
        return any(_binary_model(v) for v in value)
    if isinstance(value, dict):
        return any(_binary_model(v) for v in value.values())
    return False


@given(data)
def test_binary_scan_and_round_trip(kernels, value):
    assert kernels.sio_is_binary(value) is _binary_model(value)
    stripped, attachments = kernels.sio_deconstruct(value)
    assert not kernels.sio_is_binary(stripped)
    assert len(attachments) == 0 or kernels.sio_is_binary(value)
    assert canon(kernels.sio_reconstruct(stripped, attachments)) == \
        canon(_plain(value))
    if kernels is not pure:
        assert canon(outcome(kernels.sio_deconstruct, value)) == \
            canon(outcome(pure.sio_deconstruct, value))
        assert canon(outcome(kernels.sio_reconstruct, stripped,
                             attachments)) == \
            canon(outcome(pure.sio_reconstruct, stripped, attachments))


def _plain(value):
    """``value`` with list and dict subclasses as plain ones (what
    deconstruct and reconstruct give back)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


heads = st.text(st.sampled_from(list('0123456789-/,?[]{}"a☃ ')),
                max_size=16)


@given(heads)
def test_read_head_against_the_spec(kernels, text):
    got = outcome(kernels.sio_read_head, text)
    if kernels is not pure:
        assert canon(got) == canon(outcome(pure.sio_read_head, text))
    if got[0] != 'ok':
        assert got == ('raise', InvalidPacket)
        return
    ptype, count, namespace, ack, start = kernels.sio_read_head(text)
    # each field is where the head says it is
    assert 0 <= ptype <= 6 and text[0] == str(ptype)
    assert 0 < start <= len(text)
    rest = text[1:]
    if count:
        assert rest.startswith('%d-' % count)
        rest = rest[len('%d-' % count):]
    if namespace is not None:
        assert rest.startswith(namespace) and '?' not in namespace
    if ack is not None:
        assert text[:start].endswith(str(ack))
        assert not text[start:start + 1].isdigit()


json_payloads = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
    | st.builds(lambda n: {'_placeholder': True, 'num': n},
                st.integers(-1, 3)),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(['_placeholder', 'num', 'a']), inner,
                      max_size=3), max_leaves=8)


@given(st.integers(0, 7), json_payloads, st.integers(0, 3))
def test_check_payload_against_the_spec(kernels, ptype, payload, count):
    payload = json.loads(json.dumps(payload))
    got = outcome(kernels.sio_check_payload, ptype, payload, count)
    assert canon(got) == canon(outcome(pure.sio_check_payload, ptype,
                                       payload, count))
