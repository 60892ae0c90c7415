"""The public Packet and Payload objects' kernels (``PacketCore``,
``decode_packets``, ``encode_packets``: engineio_fast/_pure/packets.py and
its compiled twin), each test run on both (the ``kernels`` fixture), and
the compiled twin against the pure spec on generated inputs. The public
classes against python-engineio's: tests/compat/test_packet_payload.py."""

import json as std_json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_helpers import canon, outcome

from engineio_fast import _accel
from engineio_fast import json as fast_json

pure = _accel.pure


def packet_class(kernels, **body):
    """A Packet as engineio_fast.packet builds it, on ``kernels``."""
    body.setdefault('json', fast_json)
    return type('P', (kernels.PacketCore,), body)


def state(pkt):
    return canon((pkt.packet_type, pkt.data, pkt.binary, pkt.encode_cache))


def test_construction(kernels):
    P = packet_class(kernels)
    p = P()
    assert (p.packet_type, p.data, p.binary, p.encode_cache) == \
        (6, None, False, None)
    p = P(4, b'\x00\x01')
    assert p.binary is True and p.data == b'\x00\x01'
    assert P(4, bytearray(b'x')).binary is True
    assert P(4, memoryview(b'x')).binary is False     # python-engineio's
    assert P(4, 'text').binary is False
    with pytest.raises(ValueError):
        P(2, b'binary ping')
    # python-engineio's keyword names
    p = P(packet_type=4, data={'a': 1})
    assert p.encode() == '4{"a":1}'


def test_encode_and_its_cache(kernels):
    P = packet_class(kernels)
    assert P(4, 'hello').encode() == '4hello'
    assert P(2).encode() == '2'
    assert P(4, [1, 'x']).encode() == '4[1,"x"]'
    assert P(4, 12).encode() == '412'
    assert P(4, b'\x01\x02').encode() == b'\x01\x02'
    assert P(4, b'\x01\x02').encode(b64=True) == 'bAQI='
    p = P(4, b'\xff')
    first = p.encode()
    p.data = b'changed'
    assert p.encode(b64=True) is first          # python-engineio's cache
    assert p.encode_cache is first
    p.encode_cache = None
    assert p.encode(b64=True) == 'bY2hhbmdlZA=='
    with pytest.raises(ValueError):
        P(9, 'x').encode()


def test_decode(kernels):
    P = packet_class(kernels)
    p = P(encoded_packet='4{"a":1}')
    assert (p.packet_type, p.data, p.binary) == (4, {'a': 1}, False)
    assert P(encoded_packet='4123').data == '123'
    assert P(encoded_packet='2probe').data == 'probe'
    assert P(encoded_packet='3').data == ''
    p = P(encoded_packet=b'\x00raw')
    assert (p.packet_type, p.data, p.binary) == (4, b'\x00raw', True)
    p = P(encoded_packet='bAQI=')
    assert (p.packet_type, p.data, p.binary) == (4, b'\x01\x02', True)
    for bad in ('', '9', 'x', 'b!!'):
        with pytest.raises(ValueError):
            P(encoded_packet=bad)
    # not a str nor bytes-like: refused (an int was read as that many zero
    # bytes; python-engineio raises TypeError too)
    for bad in (3, 3.5, ['4x'], object()):
        with pytest.raises(TypeError):
            P(encoded_packet=bad)


def test_json_module_replaced(kernels):
    calls = []

    class Loud:
        @staticmethod
        def dumps(data, separators=None):
            calls.append(('dumps', separators))
            return '"dumped"'

        @staticmethod
        def loads(text):
            calls.append(('loads', text))
            return 'loaded'

    P = packet_class(kernels, json=Loud)
    assert P(4, {'a': 1}).encode() == '4"dumped"'
    assert P(encoded_packet='4{"a":1}').data == 'loaded'
    assert P(encoded_packet='4plain').data == 'plain'   # not JSON: no call
    assert calls == [('dumps', (',', ':')), ('loads', '{"a":1}')]


def test_subclasses_and_attributes(kernels):
    seen = []

    class Traced(packet_class(kernels)):
        def decode(self, encoded_packet):
            seen.append(encoded_packet)
            super().decode(encoded_packet)

        def encode(self, b64=False):
            return 'X' + super().encode(b64)

    p = Traced(encoded_packet='4hi')
    assert seen == ['4hi'] and p.data == 'hi'
    p.extra = 'any attribute'
    assert p.extra == 'any attribute'
    assert kernels.encode_packets([p, Traced(2)]) == 'X4hi\x1eX2'


CALLS = [((), {}), ((4,), {}), ((4, 'x'), {}), ((4,), {'data': 'x'}),
         ((), {'packet_type': 2, 'data': 'probe'}),
         ((), {'data': 'x', 'packet_type': 4}),
         ((), {'encoded_packet': '4{"a":1}'}),
         ((6, None, '4hi'), {}), ((4, b'\x01'), {}), ((2, b'\x01'), {}),
         ((), {'encoded_packet': 3}), ((4,), {'packet_type': 4}),
         ((4,), {'bogus': 1}), ((1, 2, 3, 4), {}),
         ((4, 'x'), {'data': 'y'}), ((), {'encoded_packet': None})]


def made(cls, args, kwargs, call=None):
    """The state of ``cls(*args, **kwargs)``, or its error's class and
    message."""
    try:
        pkt = cls(*args, **kwargs) if call is None else \
            call(cls, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)
    assert type(pkt) is cls
    return state(pkt)


def test_fast_construction(kernels):
    """What fast_construction gives a Packet class (the compiled kernels
    only) is construction exactly as type.__call__ does it: same packets,
    same errors; a replaced __init__, decode or encode is still called,
    and a subclass with an __init__ of its own keeps it."""
    P = packet_class(kernels)
    assert kernels.fast_construction(P) is (kernels is not pure)
    assert kernels.fast_construction(kernels.PacketCore) is False
    assert kernels.fast_construction(int) is False
    for args, kwargs in CALLS:
        assert made(P, args, kwargs) == \
            made(P, args, kwargs, type.__call__), (args, kwargs)
    # an __init__ replaced on the class, and put back
    original = P.__init__
    P.__init__ = lambda self, *a, **k: (original(self, *a, **k),
                                        setattr(self, 'tag', 'mine'))[0]
    assert P(4, data='x').tag == 'mine'
    P.__init__ = original
    assert not hasattr(P(4, data='x'), 'tag')
    # decode and encode replaced after the class was used
    assert P(encoded_packet='4a').data == 'a'
    P.decode = lambda self, e: setattr(self, 'data', 'decoded ' + e)
    assert P(encoded_packet='4a').data == 'decoded 4a'
    del P.decode
    assert P(encoded_packet='4a').data == 'a'
    P.encode = lambda self, b64=False: 'E'
    assert kernels.encode_packets([P(4, 'a'), P(2)]) == 'E\x1eE'
    del P.encode
    assert kernels.encode_packets([P(4, 'a'), P(2)]) == '4a\x1e2'

    class Own(P):
        def __init__(self, data):
            super().__init__(4, data=data.upper())

    assert Own('x').data == 'X'
    assert Own(data='y').data == 'Y'
    with pytest.raises(TypeError):
        Own(4, 'x')


class PurePacket(pure.PacketCore):
    json = fast_json


if _accel.compiled is not None:
    class CompiledPacket(_accel.compiled.PacketCore):
        json = fast_json


def test_pickle(kernels):
    cls = PurePacket if kernels is pure else CompiledPacket
    p = cls(4, {'a': [1]})
    p.encode()
    p.extra = 'any attribute'
    back = pickle.loads(pickle.dumps(p))
    assert type(back) is cls
    assert (back.packet_type, back.data, back.binary, back.encode_cache,
            back.extra) == (4, {'a': [1]}, False, '4{"a":[1]}',
                            'any attribute')


def test_decode_packets(kernels):
    made = []

    class NoInit(packet_class(kernels)):
        def __init__(self, *args, **kwargs):
            made.append(1)          # python-engineio's payload calls it;
            super().__init__(*args, **kwargs)   # ours does not need to

    out = kernels.decode_packets('4hi\x1e2\x1ebAQI=\x1e4{"a":[1]}', NoInit)
    assert [type(p) for p in out] == [NoInit] * 4
    assert [(p.packet_type, p.data, p.binary, p.encode_cache)
            for p in out] == [(4, 'hi', False, None), (2, '', False, None),
                              (4, b'\x01\x02', True, None),
                              (4, {'a': [1]}, False, None)]
    assert made == []
    for bad in ('', '4hi\x1e', '\x1e4', '4\x1e9x'):
        with pytest.raises(ValueError):
            kernels.decode_packets(bad, NoInit)


def test_encode_packets(kernels):
    P = packet_class(kernels)
    assert kernels.encode_packets([]) == ''
    assert kernels.encode_packets(
        [P(4, 'a'), P(4, b'\x01'), P(2, 'probe'), P(4, {'k': None})]) == \
        '4a\x1ebAQ==\x1e2probe\x1e4{"k":null}'
    # a packet first encoded for a websocket (bytes cached) still goes out
    # as base64 text
    p = P(4, b'\x01')
    p.encode()
    assert kernels.encode_packets([p]) == 'bAQ=='


# -- compiled against pure ------------------------------------------------

texts = st.text(max_size=30)
data = st.one_of(st.none(), texts, st.binary(max_size=30),
                 st.dictionaries(st.text(max_size=5), st.integers(),
                                 max_size=3),
                 st.lists(st.integers(), max_size=3), st.integers(),
                 st.floats(allow_nan=False), st.booleans())
packet_types = st.one_of(st.integers(-2, 9), st.booleans())
encoded = st.one_of(
    texts, st.binary(max_size=20),
    st.builds(lambda d, t: str(d) + t, st.integers(0, 9), texts),
    st.builds(lambda t: '4' + t, st.sampled_from(
        ['{"a":1}', '[1,2]', 'true', '"s"', '{bad', '-1', ' 1'])),
    st.builds(lambda t: 'b' + t, texts),
    # JSON data, with the whitespace JSON allows around it, or other text
    # after it
    st.builds(lambda a, v, b: '4' + a + std_json.dumps(v) + b,
              st.sampled_from(['', ' ', '\t\n', '\x0b']),
              st.recursive(st.none() | st.booleans() | st.integers() |
                           st.floats() | texts,
                           lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(texts, inner, max_size=3),
                           max_leaves=8),
              st.sampled_from(['', ' \r\n', 'x', ',1', '\x0c'])))


def construct(kernels, ptype, value, b64):
    P = packet_class(kernels)
    p = P(ptype, value)
    return state(p), canon(p.encode(b64=b64)), state(p)


@given(packet_types, data, st.booleans())
def test_generated_construct_and_encode(kernels, ptype, value, b64):
    got = outcome(construct, kernels, ptype, value, b64)
    if kernels is not pure:
        assert got == outcome(construct, pure, ptype, value, b64)
    # python-engineio's rules, whichever kernels
    binary = isinstance(value, (bytes, bytearray))
    P = packet_class(kernels)
    if binary and ptype != 4:
        assert got == ('raise', ValueError)
        return
    p = P(ptype, value)
    assert (p.packet_type, p.data, p.binary, p.encode_cache) == \
        (ptype, value, binary, None)
    try:
        first = p.encode(b64=b64)
    except (ValueError, TypeError):
        return
    assert p.encode(b64=not b64) is first is p.encode_cache
    if isinstance(value, str) and type(ptype) is int and 0 <= ptype <= 6:
        assert first == str(ptype) + value


def decoded(kernels, text):
    P = packet_class(kernels)
    kernels.fast_construction(P)    # as engineio_fast.packet.Packet
    return state(P(encoded_packet=text))


@given(encoded)
def test_generated_decode(kernels, text):
    got = outcome(decoded, kernels, text)
    if kernels is not pure:
        assert got == outcome(decoded, pure, text)
    # the same as the kernel the server decodes with
    want = outcome(kernels.decode_value, text, fast_json.loads)
    if want[0] == 'raise':
        assert got == want
    else:
        p = packet_class(kernels)(encoded_packet=text)
        assert canon((p.packet_type, p.data, p.binary)) == want[1]


def payload(kernels, parts):
    packets = kernels.decode_packets('\x1e'.join(parts),
                                     packet_class(kernels))
    return [state(p) for p in packets], kernels.encode_packets(packets)


@given(st.lists(encoded.filter(lambda t: isinstance(t, str)), min_size=1,
                max_size=6))
def test_generated_payloads(kernels, parts):
    got = outcome(payload, kernels, parts)
    if kernels is not pure:
        assert got == outcome(payload, pure, parts)
    # the same as the kernels the server splits, decodes and joins with
    body = '\x1e'.join(parts)
    try:
        want = [kernels.decode_value(part, fast_json.loads)
                for part in kernels.split_payload(body)]
    except ValueError:
        assert got == ('raise', ValueError)
        return
    packets = kernels.decode_packets(body, packet_class(kernels))
    assert [(p.packet_type, p.data, p.binary) for p in packets] == want
    assert kernels.encode_packets(packets) == kernels.encode_payload(
        [p.encode(b64=True) for p in packets])
