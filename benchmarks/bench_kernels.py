"""Codec and framing kernels: python-engineio 4.15 vs our pure vs compiled.

Each case does the same work in every implementation and produces the
values python-engineio produces: python-engineio through its public
``Packet``/``Payload`` classes (the only API it has), ours through the
kernels the server uses (``decode_value``, ``encode_value``,
``split_payload``, ``encode_payload``).

Run::

    python -m pytest benchmarks/bench_kernels.py --benchmark-only

or ``python benchmarks/kernel_ratios.py`` for the ratio table, and
``python benchmarks/bench_kernels.py`` for the websocket batch framing
kernels (pure vs compiled; python-engineio has no such kernels).
"""

import base64
import json as std_json
import os
import sys
import timeit

import pytest
from engineio import packet as ref_packet
from engineio import payload as ref_payload

from engineio_fast import _accel
from engineio_fast import json as eio_json
from engineio_fast.packet import _compact_dumps

IMPLS = ['python-engineio', 'pure']
if _accel.compiled is not None:
    IMPLS.append('compiled')

MESSAGE = 4
# What our Packet facade uses by default: engineio_fast.json.loads (which
# refuses huge integers) and one reused compact JSONEncoder.
loads = eio_json.loads
dumps = _compact_dumps

TEXT = 'hello world, this is a chat message'
DICT = {'event': 'chat', 'room': 'lobby',
        'data': {'user': 'alice', 'text': 'hi there', 'n': 42}}
DICT_ENCODED = '4' + std_json.dumps(DICT, separators=(',', ':'))
BLOB = os.urandom(1024)
BLOB_ENCODED = 'b' + base64.b64encode(BLOB).decode()
TEN = ['message number %d' % i for i in range(10)]
TEN_ENCODED = '\x1e'.join('4' + m for m in TEN)
MIXED = ['hello', {'a': [1, 2, 3], 'b': 'x'}, BLOB[:64], 'bye', [1, 'two']]
MIXED_ENCODED = '\x1e'.join(
    ref_packet.Packet(MESSAGE, v).encode(b64=True) for v in MIXED) + '\x1e2'
MASK_DATA = os.urandom(65536)
MASK = b'\x37\xfa\x21\x3d'
# What a busy websocket connection reads and writes per loop iteration:
# 16 chat-sized (32-byte) text messages; read masked (from clients),
# written unmasked (to clients).
FRAME_TEXTS = ['message %02d: 0123456789abcdefghij' % i for i in range(16)]
assert {len(t) for t in FRAME_TEXTS} == {32}
FRAMES_IN = _accel.pure.build_frames(FRAME_TEXTS, masked=True)


def _ours(kind):
    return _accel.pure if kind == 'pure' else _accel.compiled


def case_decode_text(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(encoded_packet='4' + TEXT)
    k = _ours(impl)
    return lambda: k.decode_value('4' + TEXT, loads)


def case_encode_text(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(MESSAGE, TEXT).encode()
    k = _ours(impl)
    return lambda: k.encode_value(MESSAGE, TEXT, False, dumps)


def case_decode_json(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(encoded_packet=DICT_ENCODED)
    k = _ours(impl)
    return lambda: k.decode_value(DICT_ENCODED, loads)


def case_encode_json(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(MESSAGE, DICT).encode()
    k = _ours(impl)
    return lambda: k.encode_value(MESSAGE, DICT, False, dumps)


def case_decode_b64_1k(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(encoded_packet=BLOB_ENCODED)
    k = _ours(impl)
    return lambda: k.decode_value(BLOB_ENCODED, loads)


def case_encode_b64_1k(impl):
    if impl == 'python-engineio':
        return lambda: ref_packet.Packet(MESSAGE, BLOB).encode(b64=True)
    k = _ours(impl)
    return lambda: k.encode_value(MESSAGE, BLOB, True, dumps)


def case_payload10_encode(impl):
    if impl == 'python-engineio':
        return lambda: ref_payload.Payload(
            [ref_packet.Packet(MESSAGE, m) for m in TEN]).encode()
    k = _ours(impl)
    ev = k.encode_value
    return lambda: k.encode_payload([ev(MESSAGE, m, True, dumps)
                                     for m in TEN])


def case_payload10_decode(impl):
    if impl == 'python-engineio':
        return lambda: ref_payload.Payload(encoded_payload=TEN_ENCODED)
    k = _ours(impl)
    dv = k.decode_value
    return lambda: [dv(p, loads) for p in k.split_payload(TEN_ENCODED)]


def case_mixed_encode(impl):
    if impl == 'python-engineio':
        return lambda: ref_payload.Payload(
            [ref_packet.Packet(MESSAGE, v) for v in MIXED]
            + [ref_packet.Packet(2)]).encode()
    k = _ours(impl)
    ev = k.encode_value
    return lambda: k.encode_payload(
        [ev(MESSAGE, v, True, dumps) for v in MIXED] + [ev(2, None, True,
                                                            dumps)])


def case_mixed_decode(impl):
    if impl == 'python-engineio':
        return lambda: ref_payload.Payload(encoded_payload=MIXED_ENCODED)
    k = _ours(impl)
    dv = k.decode_value
    return lambda: [dv(p, loads) for p in k.split_payload(MIXED_ENCODED)]


CASES = {name[len('case_'):]: fn for name, fn in globals().items()
         if name.startswith('case_')}


def _result(impl, value):
    """Normalise a result to (packet_type, data) pairs for comparison."""
    if impl == 'python-engineio':
        if isinstance(value, ref_payload.Payload):
            return [(p.packet_type, p.data) for p in value.packets]
        if isinstance(value, ref_packet.Packet):
            return (value.packet_type, value.data)
        return value
    if isinstance(value, list):
        return [(p[0], p[1]) for p in value]
    if isinstance(value, tuple):
        return (value[0], value[1])
    return value


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('case', sorted(CASES))
def test_codec(benchmark, case, impl):
    fn = CASES[case](impl)
    # Same work, same answer: ours must produce python-engineio's values.
    assert _result(impl, fn()) == _result('python-engineio',
                                          CASES[case]('python-engineio')())
    benchmark.group = case
    benchmark.extra_info['impl'] = impl
    benchmark(fn)


@pytest.mark.parametrize('impl', [i for i in IMPLS if i != 'python-engineio'])
def test_apply_mask_64k(benchmark, impl):
    apply_mask = _ours(impl).apply_mask
    assert apply_mask(apply_mask(MASK_DATA, MASK), MASK) == MASK_DATA
    benchmark.group = 'apply_mask_64k'
    benchmark.extra_info['impl'] = impl
    benchmark.extra_info['bytes'] = len(MASK_DATA)
    benchmark(apply_mask, MASK_DATA, MASK)


def case_parse_frames_16x32(impl):
    parse_frames = _ours(impl).parse_frames
    data = bytearray(FRAMES_IN)
    return lambda: parse_frames(data, 1 << 20, True)


def case_build_frames_16x32(impl):
    build_frames = _ours(impl).build_frames
    return lambda: build_frames(FRAME_TEXTS)


FRAME_CASES = {'parse_frames_16x32': case_parse_frames_16x32,
               'build_frames_16x32': case_build_frames_16x32}


@pytest.mark.parametrize('impl', [i for i in IMPLS if i != 'python-engineio'])
@pytest.mark.parametrize('case', sorted(FRAME_CASES))
def test_frames(benchmark, case, impl):
    fn = FRAME_CASES[case](impl)
    # Same answer from both twins.
    assert fn() == FRAME_CASES[case]('pure')()
    benchmark.group = case
    benchmark.extra_info['impl'] = impl
    benchmark.extra_info['frames'] = len(FRAME_TEXTS)
    benchmark(fn)


def frames_table(repeat=20, number=2000):
    """Markdown table of the frame cases: best time per call, pure vs
    compiled, and the ratio."""
    impls = [i for i in IMPLS if i != 'python-engineio']
    lines = ['| case (16 frames x 32 B) | ' + ' | '.join(impls)
             + ' | compiled / pure |', '|---' * (len(impls) + 2) + '|']
    for case in sorted(FRAME_CASES):
        best = {}
        for impl in impls:
            fn = FRAME_CASES[case](impl)
            best[impl] = min(timeit.repeat(fn, repeat=repeat,
                                           number=number)) / number
        ratio = ('%.1f×' % (best['pure'] / best['compiled'])
                 if 'compiled' in best else '-')
        lines.append('| %s | %s | %s |' % (case, ' | '.join(
            '%.2f µs' % (best[i] * 1e6) for i in impls), ratio))
    return '\n'.join(lines)


if __name__ == '__main__':
    if _accel.compiled is None:
        sys.stderr.write('compiled kernels not built: pure only\n')
    print(frames_table())
