"""Batch websocket frame kernels: parse_frames and build_frames."""

import struct
from unittest import mock

import pytest

MASK = b'\x37\xfa\x21\x3d'
BIG = 1 << 20


def naive_mask(data, mask):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def frame(opcode, payload, fin=True, rsv=0, mask=None):
    """An independent frame encoder for the tests."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes((b0, mbit | n))
    elif n < 0x10000:
        head = bytes((b0, mbit | 126)) + struct.pack('!H', n)
    else:
        head = bytes((b0, mbit | 127)) + struct.pack('!Q', n)
    if mask is None:
        return head + payload
    return head + mask + naive_mask(payload, mask)


# RFC 6455 section 5.7: (bytes, frames parsed, masked).
RFC_EXAMPLES = [
    (b'\x81\x05\x48\x65\x6c\x6c\x6f', [(1, True, 0, b'Hello')], False),
    (b'\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58',
     [(1, True, 0, b'Hello')], True),
    (b'\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f',
     [(1, False, 0, b'Hel'), (0, True, 0, b'lo')], False),
]


@pytest.mark.parametrize('data, frames, masked', RFC_EXAMPLES)
def test_rfc6455_examples(kernels, data, frames, masked):
    for buf in (data, bytearray(data), memoryview(data)):
        assert kernels.parse_frames(buf, BIG, masked) == (frames, len(data),
                                                          0)


def test_rfc6455_ping_pong(kernels):
    ping = b'\x89\x05\x48\x65\x6c\x6c\x6f'
    pong = b'\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58'
    assert kernels.parse_frames(ping, BIG, False) == (
        [(9, True, 0, b'Hello')], 7, 0)
    assert kernels.parse_frames(pong, BIG, True) == (
        [(10, True, 0, b'Hello')], 11, 0)
    # The unmasked ping from a client (or masked pong from a server) is a
    # protocol error.
    assert kernels.parse_frames(ping, BIG, True) == ([], 0, 1002)
    assert kernels.parse_frames(pong, BIG, False) == ([], 0, 1002)


def mixed_frames(masked):
    keys = [MASK, b'\x00\x00\x00\x00', b'\xff\x01\x80\x7f', b'abcd'] * 3
    specs = [(1, b'Hello', True, 0), (2, bytes(range(256)) * 2, True, 0),
             (9, b'', True, 0), (1, 'é☃'.encode() * 50, False, 4),
             (0, b'x' * 126, False, 0), (0, b'', True, 0),
             (10, b'p' * 125, True, 0), (2, b'\x00' * 65536, True, 7),
             (1, b'a', True, 1), (8, b'\x03\xe8', True, 0)]
    data = b''
    expect = []
    for (opcode, payload, fin, rsv), key in zip(specs, keys):
        data += frame(opcode, payload, fin, rsv, key if masked else None)
        expect.append((opcode, fin, rsv, payload))
    return data, expect


@pytest.mark.parametrize('masked', [True, False])
def test_many_frames_one_buffer(kernels, masked):
    data, expect = mixed_frames(masked)
    frames, consumed, error = kernels.parse_frames(bytearray(data), BIG,
                                                   masked)
    assert (frames, consumed, error) == (expect, len(data), 0)
    assert all(type(f[3]) is bytes and type(f[1]) is bool for f in frames)
    # Trailing partial frame: left for later.
    frames2, consumed2, error2 = kernels.parse_frames(data + data[:6], BIG,
                                                      masked)
    assert (frames2, consumed2, error2) == (expect, len(data), 0)


def feed_incrementally(kernels, chunks, masked, max_payload=BIG):
    buf = bytearray()
    frames = []
    for chunk in chunks:
        buf += chunk
        got, consumed, error = kernels.parse_frames(buf, max_payload, masked)
        frames += got
        del buf[:consumed]
        if error:
            return frames, bytes(buf), error
    return frames, bytes(buf), 0


@pytest.mark.parametrize('masked', [True, False])
def test_every_split_point(kernels, masked):
    key = MASK if masked else None
    data = (frame(1, b'Hello', mask=key) + frame(2, b'\x00\xff' * 70, mask=key)
            + frame(9, b'', mask=key) + frame(0, b'abc', False, mask=key)
            + frame(1, b'z' * 300, mask=key) + frame(10, b'pong', mask=key))
    one_shot = kernels.parse_frames(data, BIG, masked)
    assert one_shot[1:] == (len(data), 0) and len(one_shot[0]) == 6
    for i in range(len(data) + 1):
        assert feed_incrementally(kernels, [data[:i], data[i:]], masked) == (
            one_shot[0], b'', 0), i
    # And byte by byte.
    chunks = [data[i:i + 1] for i in range(len(data))]
    assert feed_incrementally(kernels, chunks, masked) == (one_shot[0], b'',
                                                           0)


@pytest.mark.parametrize('data', [
    b'', b'\x81', b'\x81\x7e', b'\x81\x7e\x00', b'\x82\x7e\x00\x7e' + b'x' * 125,
    b'\x82\x7f\x00\x00\x00\x00\x00\x01\x00', b'\x81\x05Hell',
])
def test_incomplete_unmasked(kernels, data):
    good = frame(1, b'ok')
    assert kernels.parse_frames(data, BIG, False) == ([], 0, 0)
    assert kernels.parse_frames(good + data, BIG, False) == (
        [(1, True, 0, b'ok')], len(good), 0)


@pytest.mark.parametrize('data', [
    b'\x81\x80', b'\x81\x85\x37\xfa\x21', b'\x81\x85\x37\xfa\x21\x3d\x7f',
    b'\x82\xfe\x00\x7e' + MASK, b'\x82\xff' + b'\x00' * 5,
])
def test_incomplete_masked(kernels, data):
    good = frame(1, b'ok', mask=MASK)
    assert kernels.parse_frames(data, BIG, True) == ([], 0, 0)
    assert kernels.parse_frames(good + data, BIG, True) == (
        [(1, True, 0, b'ok')], len(good), 0)


BAD_UNMASKED = {
    'masked frame': frame(1, b'x', mask=MASK),
    'reserved opcode 3': frame(3, b'x'),
    'reserved opcode 7': frame(7, b''),
    'reserved opcode 11': frame(11, b''),
    'reserved opcode 15': frame(15, b'x'),
    'fragmented ping': frame(9, b'x', fin=False),
    'fragmented close': frame(8, b'', fin=False),
    'control 126': frame(10, b'x' * 126),
    'control 127 header only': b'\x89\x7f',
    'non-minimal 16': b'\x82\x7e\x00\x7d' + b'x' * 125,
    'non-minimal 64': b'\x82\x7f' + struct.pack('!Q', 0xFFFF),
    'non-minimal 64 small': b'\x82\x7f' + struct.pack('!Q', 5) + b'x' * 5,
    'top bit': b'\x82\x7f\x80' + b'\x00' * 7,
    'top bit all ones': b'\x82\x7f' + b'\xff' * 8,
}


@pytest.mark.parametrize('name', sorted(BAD_UNMASKED))
def test_protocol_errors(kernels, name):
    bad = BAD_UNMASKED[name]
    good = frame(1, b'first') + frame(9, b'')
    expect = [(1, True, 0, b'first'), (9, True, 0, b'')]
    assert kernels.parse_frames(bad, BIG, False) == ([], 0, 1002)
    assert kernels.parse_frames(good + bad + good, BIG, False) == (
        expect, len(good), 1002)
    # The same frame masked, parsed by a server.
    if bad[1] & 0x80 == 0:
        head = 2 + {126: 2, 127: 8}.get(bad[1] & 0x7F, 0)
        masked = (bad[:1] + bytes((bad[1] | 0x80,)) + bad[2:head]
                  + MASK + naive_mask(bad[head:], MASK))
        assert kernels.parse_frames(masked, BIG, True) == ([], 0, 1002)


def test_unmasked_frame_to_server(kernels):
    good = frame(1, b'a', mask=MASK)
    bad = frame(1, b'b')
    assert kernels.parse_frames(good + bad, BIG, True) == (
        [(1, True, 0, b'a')], len(good), 1002)
    # Seen from the first two bytes: no need to wait for the rest.
    assert kernels.parse_frames(good + bad[:2], BIG, True) == (
        [(1, True, 0, b'a')], len(good), 1002)


def test_first_violation_wins(kernels):
    # A reserved opcode with a length over the limit: 1002 comes first.
    data = b'\x83\x7f' + struct.pack('!Q', 1 << 40)
    assert kernels.parse_frames(data, 10, False) == ([], 0, 1002)
    # Top bit set on a 64-bit length is 1002, not 1009.
    assert kernels.parse_frames(b'\x82\x7f' + b'\xff' * 8, 10, False) == (
        [], 0, 1002)
    # Only the first of two bad frames counts.
    data = frame(1, b'x' * 20) + frame(3, b'')
    assert kernels.parse_frames(data, 10, False) == ([], 0, 1009)


@pytest.mark.parametrize('masked', [True, False])
def test_too_big_from_header_only(kernels, masked):
    mbit = 0x80 if masked else 0
    good = frame(2, b'ok', mask=MASK if masked else None)
    for head in (bytes((0x82, mbit | 11)),
                 bytes((0x82, mbit | 126)) + struct.pack('!H', 1000),
                 bytes((0x82, mbit | 127)) + struct.pack('!Q', 1 << 62)):
        assert kernels.parse_frames(head, 10, masked) == ([], 0, 1009)
        assert kernels.parse_frames(good + head, 10, masked) == (
            [(2, True, 0, b'ok')], len(good), 1009)
    # Exactly at the limit is fine.
    data = frame(2, b'x' * 10, mask=MASK if masked else None)
    assert kernels.parse_frames(data, 10, masked) == (
        [(2, True, 0, b'x' * 10)], len(data), 0)
    assert kernels.parse_frames(data, 9, masked) == ([], 0, 1009)


def test_max_payload_extremes(kernels):
    data = frame(2, b'')
    assert kernels.parse_frames(data, 0, False) == ([(2, True, 0, b'')], 2, 0)
    assert kernels.parse_frames(data, -1, False) == ([], 0, 1009)
    assert kernels.parse_frames(data, -(1 << 80), False) == ([], 0, 1009)
    huge = b'\x82\x7f' + struct.pack('!Q', 2 ** 63 - 1)
    assert kernels.parse_frames(huge, 1 << 80, False) == ([], 0, 0)
    assert kernels.parse_frames(huge, 2 ** 63 - 2, False) == ([], 0, 1009)


@pytest.mark.parametrize('length', [0, 1, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize('masked', [True, False])
def test_length_boundaries(kernels, length, masked):
    payload = bytes((i * 31 + 7) & 0xFF for i in range(length))
    data = frame(2, payload, mask=MASK if masked else None)
    assert kernels.parse_frames(data, BIG, masked) == (
        [(2, True, 0, payload)], len(data), 0)
    assert kernels.parse_frames(data[:-1], BIG, masked) == ([], 0, 0)
    assert kernels.parse_frames(data, length - 1, masked) == ([], 0, 1009)
    built = kernels.build_frames([payload])
    assert built == frame(2, payload)


def test_empty_payloads(kernels):
    data = (frame(1, b'') + frame(2, b'') + frame(0, b'', False)
            + frame(9, b'') + frame(10, b'') + frame(8, b''))
    assert kernels.parse_frames(data, 0, False) == (
        [(1, True, 0, b''), (2, True, 0, b''), (0, False, 0, b''),
         (9, True, 0, b''), (10, True, 0, b''), (8, True, 0, b'')],
        len(data), 0)
    data = frame(1, b'', mask=MASK) + frame(2, b'', mask=MASK)
    assert kernels.parse_frames(data, 0, True) == (
        [(1, True, 0, b''), (2, True, 0, b'')], len(data), 0)
    assert kernels.build_frames([]) == b''
    assert kernels.build_frames(['', b'']) == b'\x81\x00\x82\x00'


def test_rsv_bits_returned(kernels):
    data = b''.join(frame(1, b'r', rsv=rsv) for rsv in range(8))
    frames, consumed, error = kernels.parse_frames(data, BIG, False)
    assert [f[2] for f in frames] == list(range(8))
    assert (consumed, error) == (len(data), 0)


def test_parse_accepts_views(kernels):
    data = frame(1, b'Hello', mask=MASK) * 3
    view = memoryview(b'xx' + data + b'\x81')[2:]
    assert kernels.parse_frames(view, BIG, True) == (
        [(1, True, 0, b'Hello')] * 3, len(data), 0)
    assert kernels.parse_frames(data, BIG, 1) == kernels.parse_frames(
        data, BIG, True)


@pytest.mark.parametrize('items, expect', [
    (['Hello'], b'\x81\x05Hello'),
    ([b'Hello'], b'\x82\x05Hello'),
    (['é'], b'\x81\x02\xc3\xa9'),
    ([bytearray(b'\x00' * 256)], b'\x82\x7e\x01\x00' + b'\x00' * 256),
    ([memoryview(b'xabc')[1:], 'hi', b''],
     b'\x82\x03abc\x81\x02hi\x82\x00'),
    (('a', b'b'), b'\x81\x01a\x82\x01b'),
])
def test_build_exact_bytes(kernels, items, expect):
    assert kernels.build_frames(items) == expect
    assert kernels.build_frames(items, masked=False) == expect
    assert type(kernels.build_frames(items)) is bytes


def test_build_64k(kernels):
    out = kernels.build_frames([b'\x00' * 65536, 'x' * 65535])
    assert out[:10] == b'\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00'
    assert out[65546:65550] == b'\x81\x7e\xff\xff'
    assert len(out) == 65546 + 4 + 65535


def test_build_masked_uses_one_urandom_call(kernels):
    keys = bytes(range(12))
    with mock.patch('os.urandom', return_value=keys) as urandom:
        out = kernels.build_frames(['Hello', b'\x01\x02', 'é'], masked=True)
    urandom.assert_called_once_with(12)
    assert out == (frame(1, b'Hello', mask=keys[0:4])
                   + frame(2, b'\x01\x02', mask=keys[4:8])
                   + frame(1, 'é'.encode(), mask=keys[8:12]))


@pytest.mark.parametrize('masked', [True, False])
def test_build_parse_round_trip(kernels, masked):
    items = ['Hello', b'\x00\xff' * 100, '', 'é☃\U0001f600' * 30,
             bytearray(b'y' * 65536), memoryview(b'z' * 126), 'x' * 125]
    out = kernels.build_frames(items, masked=masked)
    # Built masked (client) is read by a server, and the other way round.
    frames, consumed, error = kernels.parse_frames(out, BIG, masked)
    assert (consumed, error) == (len(out), 0)
    assert frames == [
        (1 if isinstance(i, str) else 2, True, 0,
         i.encode() if isinstance(i, str) else bytes(i)) for i in items]
    assert kernels.parse_frames(out, BIG, not masked) == ([], 0, 1002)


def test_build_masked_keys_are_fresh(kernels):
    # Two 64-bit draws from os.urandom: equal with probability 2**-64.
    first = kernels.build_frames(['a' * 8] * 2, masked=True)
    assert first != kernels.build_frames(['a' * 8] * 2, masked=True)


@pytest.mark.parametrize('items', [
    [1], ['ok', None], [b'ok', ['x']], [3.5], [{'a': 1}],
])
def test_build_type_error(kernels, items):
    with pytest.raises(TypeError):
        kernels.build_frames(items)
    with pytest.raises(TypeError):
        kernels.build_frames(items, masked=True)


def test_build_lone_surrogate(kernels):
    with pytest.raises(UnicodeEncodeError):
        kernels.build_frames(['ok', '\ud800'])
