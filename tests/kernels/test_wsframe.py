"""WebSocket frame kernels: RFC 6455 examples and length boundaries."""

import array
import struct

import pytest

MASK = b'\x37\xfa\x21\x3d'


def naive_mask(data, mask):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


# RFC 6455 section 5.7 examples.
RFC_FRAMES = [
    (b'\x81\x05\x48\x65\x6c\x6c\x6f', dict(opcode=1, payload=b'Hello')),
    (b'\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58',
     dict(opcode=1, payload=b'Hello', mask=MASK)),
    (b'\x01\x03\x48\x65\x6c', dict(opcode=1, payload=b'Hel', fin=False)),
    (b'\x80\x02\x6c\x6f', dict(opcode=0, payload=b'lo')),
    (b'\x89\x05\x48\x65\x6c\x6c\x6f', dict(opcode=9, payload=b'Hello')),
    (b'\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58',
     dict(opcode=10, payload=b'Hello', mask=MASK)),
]


@pytest.mark.parametrize('frame, spec', RFC_FRAMES)
def test_rfc6455_examples(kernels, frame, spec):
    payload = spec['payload']
    mask = spec.get('mask')
    fin = spec.get('fin', True)
    assert kernels.build_frame(spec['opcode'], payload, fin=fin,
                               mask=mask) == frame
    header = kernels.parse_frame_header(frame)
    assert header == (fin, 0, spec['opcode'], mask, len(payload),
                      len(frame) - len(payload))
    body = frame[header[5]:]
    assert (kernels.apply_mask(body, mask) if mask else body) == payload


def test_rfc6455_256_and_64k_binary(kernels):
    frame = kernels.build_frame(2, b'\x00' * 256)
    assert frame[:4] == b'\x82\x7e\x01\x00' and len(frame) == 260
    frame = kernels.build_frame(2, b'\x00' * 65536)
    assert frame[:10] == b'\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00'
    assert len(frame) == 65546


@pytest.mark.parametrize('length, head', [
    (0, b'\x82\x00'),
    (125, b'\x82\x7d'),
    (126, b'\x82\x7e\x00\x7e'),
    (65535, b'\x82\x7e\xff\xff'),
    (65536, b'\x82\x7f' + struct.pack('!Q', 65536)),
    (2 ** 63 - 1, b'\x82\x7f' + struct.pack('!Q', 2 ** 63 - 1)),
])
def test_header_length_boundaries(kernels, length, head):
    assert kernels.build_frame_header(2, length) == head
    assert kernels.parse_frame_header(head) == (True, 0, 2, None, length,
                                                len(head))
    masked = kernels.build_frame_header(2, length, mask=MASK)
    assert masked == bytes([head[0], head[1] | 0x80]) + head[2:] + MASK
    assert kernels.parse_frame_header(masked) == (True, 0, 2, MASK, length,
                                                  len(head) + 4)


def test_header_flags(kernels):
    assert kernels.build_frame_header(1, 3, fin=False, rsv1=True) == (
        b'\x41\x03')
    assert kernels.parse_frame_header(b'\x71\x00') == (False, 7, 1, None, 0,
                                                       2)
    assert kernels.build_frame_header(15, 0, fin=0, rsv1=1) == b'\x4f\x00'


@pytest.mark.parametrize('buf', [
    b'', b'\x81', b'\x81\x7e', b'\x81\x7e\x00', b'\x81\x7f' + b'\x00' * 7,
    b'\x81\x80', b'\x81\x80\x01\x02\x03', b'\x81\xfe\x00\x7e\x01\x02\x03',
])
def test_parse_incomplete(kernels, buf):
    assert kernels.parse_frame_header(buf) is None
    assert kernels.parse_frame_header(bytearray(buf)) is None
    assert kernels.parse_frame_header(memoryview(buf)) is None


@pytest.mark.parametrize('buf', [
    b'\x81\x7e\x00\x7d',
    b'\x81\x7f\x00\x00\x00\x00\x00\x00\xff\xff',
    b'\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00',
    b'\x81\xff\xff\xff\xff\xff\xff\xff\xff\xff',
])
def test_parse_invalid_length(kernels, buf):
    with pytest.raises(ValueError):
        kernels.parse_frame_header(buf)


def test_parse_reads_only_the_header(kernels):
    buf = bytearray(b'\x82\xfe\x01\x00' + MASK + b'x' * 300)
    assert kernels.parse_frame_header(buf) == (True, 0, 2, MASK, 256, 8)
    assert kernels.parse_frame_header(memoryview(buf)[0:9]) == (
        True, 0, 2, MASK, 256, 8)


@pytest.mark.parametrize('args', [
    (16, 0), (-1, 0), (1, -1), (1, 2 ** 63), (1, 0, True, False, b'abc'),
    (1, 0, True, False, b'abcde'),
])
def test_build_header_invalid(kernels, args):
    with pytest.raises(ValueError):
        kernels.build_frame_header(*args)


@pytest.mark.parametrize('n', [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 125, 126,
                               1000, 65536])
def test_apply_mask(kernels, n):
    data = bytes((i * 7 + 3) & 0xFF for i in range(n))
    masked = kernels.apply_mask(data, MASK)
    assert masked == naive_mask(data, MASK)
    assert type(masked) is bytes
    assert kernels.apply_mask(masked, MASK) == data
    assert kernels.apply_mask(bytearray(data), MASK) == masked
    assert kernels.apply_mask(memoryview(data), bytearray(MASK)) == masked


def test_apply_mask_unaligned_view(kernels):
    data = bytes(range(200))
    view = memoryview(data)[3:150]
    assert kernels.apply_mask(view, MASK) == naive_mask(data[3:150], MASK)


@pytest.mark.parametrize('mask', [b'', b'abc', b'abcde'])
def test_apply_mask_bad_mask(kernels, mask):
    with pytest.raises(ValueError):
        kernels.apply_mask(b'data', mask)


def test_build_frame_payload_types(kernels):
    for payload in (b'abc', bytearray(b'abc'), memoryview(b'xabc')[1:]):
        assert kernels.build_frame(2, payload) == b'\x82\x03abc'
        assert kernels.build_frame(2, payload, mask=MASK) == (
            b'\x82\x83' + MASK + naive_mask(b'abc', MASK))
    with pytest.raises(ValueError):
        kernels.build_frame(16, b'x')
    with pytest.raises(ValueError):
        kernels.build_frame(1, b'x', mask=b'abc')
    with pytest.raises(TypeError):
        kernels.build_frame(1, 'text')


@pytest.mark.parametrize('wide', [
    lambda b: memoryview(b).cast('H'),
    lambda b: memoryview(b).cast('I'),
    lambda b: memoryview(b).cast('d'),
    lambda b: array.array('Q', b),
    lambda b: memoryview(b).cast('B', (2, len(b) // 2)),
])
def test_wide_buffers_count_bytes_not_items(kernels, wide):
    # a buffer of items wider than a byte (or of two dimensions) is read
    # as its bytes, on both kernel sets: header lengths count bytes
    data = bytes(range(1, 17))
    view = wide(data)
    assert kernels.build_frame(2, view) == b'\x82\x10' + data
    assert kernels.build_frame(2, view, mask=MASK) == (
        b'\x82\x90' + MASK + naive_mask(data, MASK))
    assert kernels.apply_mask(view, MASK) == naive_mask(data, MASK)
    frame = b'\x82\x8e' + MASK + b'\x00' * 10      # 16 bytes: 0x82 0x8e...
    assert kernels.parse_frame_header(wide(frame)) == (
        True, 0, 2, MASK, 14, 6)


def test_strided_byte_views(kernels):
    data = bytes(range(40))
    view = memoryview(data)[::2]
    assert kernels.apply_mask(view, MASK) == naive_mask(data[::2], MASK)
    assert kernels.build_frame(2, view) == b'\x82\x14' + data[::2]
    assert kernels.parse_frame_header(
        memoryview(b'\x82\x00\x05\x00')[::2]) == (True, 0, 2, None, 5, 2)
