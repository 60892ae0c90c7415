"""Hypothesis differential tests: every implementation against the pure spec.

Each test runs once per implementation (the ``kernels`` fixture). Against
the compiled kernels it asserts the same value (with exact types) or the
same exception class as the pure twin for generated inputs, odd types
included. Comparing the pure twin with itself would assert nothing, so
every test also checks a property of its own (a round trip, a simple model
or the RFC's rule), which is what the pure run checks.

A property that slices or indexes a generated buffer works on its bytes
(:func:`octets`): a memoryview cast to another format ('I') is sliced in
items, not bytes.
"""

import array
import base64
import binascii
import json as std_json
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st
from kernel_helpers import canon, outcome

from engineio_fast import _accel
from engineio_fast import json as eio_json

pure = _accel.pure


class StrSub(str):
    pass


CHARS = list('0123456789bAQIDaz+/=-_{}[]":,.tfnNI- \t\n\r\x1e<\\/') + [
    'é', 'ÿ', '☃', '\u2028', '\u2029', '\U0001f600', '\ud800', '\x00']
texts = st.text(alphabet=st.sampled_from(CHARS), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12)
raw_bytes = st.binary(max_size=300)
bytes_like = st.one_of(raw_bytes, raw_bytes.map(bytearray),
                       raw_bytes.map(memoryview))
odd_values = st.one_of(
    st.none(), st.integers(-3, 300), st.floats(), st.booleans(),
    st.lists(st.integers(0, 255), max_size=6),
    st.binary(max_size=20).map(lambda b: memoryview(b)[::2]),
    st.binary(max_size=24).map(
        lambda b: memoryview(b[:len(b) // 4 * 4]).cast('I')),
    st.binary(max_size=20).map(lambda b: array.array('B', b)),
    texts.map(StrSub))
packets = st.one_of(
    texts,
    st.tuples(st.sampled_from('0123456789b'), texts).map(''.join),
    st.tuples(st.sampled_from('0123456'), json_values).map(
        lambda t: t[0] + std_json.dumps(t[1])),
    raw_bytes.map(lambda b: 'b' + base64.b64encode(b).decode()),
    bytes_like, odd_values)


def same(kernels, name, *args):
    """What ``kernels.name(*args)`` gives (see :func:`outcome`), checked
    against the pure twin unless ``kernels`` is the pure twin."""
    got = outcome(getattr(kernels, name), *args)
    if kernels is not pure:
        assert got == outcome(getattr(pure, name), *args), (name, args)
    return got


def octets(buf):
    """``buf``'s bytes when its items are its bytes (bytes, bytearray, a
    contiguous memoryview of format 'B'), else None. The single-frame
    kernels count and index items, and ``struct`` wants contiguous memory,
    so only such buffers have a byte-level property."""
    if isinstance(buf, (bytes, bytearray)):
        return bytes(buf)
    if isinstance(buf, memoryview) and buf.format == 'B' and (
            buf.c_contiguous):
        return buf.tobytes()
    return None


def compact(data):
    return std_json.dumps(data, separators=(',', ':'))


@given(packets)
@example(encoded='b001=')      # non-canonical last base64 character
def test_decode_packet(kernels, encoded):
    got = same(kernels, 'decode_packet', encoded)
    if isinstance(encoded, str) and got[0] == 'ok':
        ptype, data, kind = kernels.decode_packet(encoded)
        if kind == _accel.KIND_BINARY:
            # the unused low bits of the last base64 character may be set
            # (Node's decoder ignores them too): the canonical encoding has
            # the same length and decodes to the same packet
            again = kernels.b64encode(data)
            assert len(again) == len(encoded)
            assert kernels.decode_packet(again) == (ptype, data, kind)
        else:
            assert kernels.encode_text(ptype, data) == encoded
    elif isinstance(encoded, (bytes, bytearray, memoryview)):
        # a buffer is a binary message: its bytes, whatever the format
        assert got == ('ok', canon((4, memoryview(encoded).tobytes(),
                                    _accel.KIND_BINARY))), got


@given(packets)
def test_decode_value(kernels, encoded):
    got = same(kernels, 'decode_value', encoded, eio_json.loads)
    if type(encoded) is str and encoded[:1] in tuple('0123456') and (
            got[0] == 'ok'):
        ptype, value, binary = kernels.decode_value(encoded, eio_json.loads)
        assert ptype == int(encoded[0]) and binary is False
        data = encoded[1:]
        if isinstance(value, str) and value == data:
            return
        # Decoded: only possible for data that does not start with a digit.
        assert data and not data[0].isdigit()


@given(st.one_of(st.integers(-2, 8), st.booleans(), st.floats(),
                 st.sampled_from([None, '4', 10 ** 30, -10 ** 30])),
       st.one_of(texts, bytes_like, json_values, odd_values),
       st.booleans())
def test_encode_value(kernels, packet_type, data, b64):
    got = same(kernels, 'encode_value', packet_type, data, b64, compact)
    if got[0] == 'ok' and type(data) is str and packet_type in range(7):
        assert kernels.decode_value(kernels.encode_value(
            packet_type, data, b64, compact), lambda t: t)[:2] == (
                packet_type, data)


@given(st.one_of(st.integers(-2, 8), st.floats(), st.none()),
       st.one_of(texts, st.none(), odd_values))
def test_encode_text(kernels, packet_type, data):
    got = same(kernels, 'encode_text', packet_type, data)
    if got[0] == 'ok':
        # the type digit, then the data as given; it decodes back
        text = kernels.encode_text(packet_type, data)
        assert packet_type in range(7) and (data is None or isinstance(
            data, str))
        assert text == '0123456'[packet_type] + (data or '')
        assert kernels.decode_packet(text)[:2] == (packet_type,
                                                    data or None)


@given(st.one_of(bytes_like, odd_values))
def test_b64encode(kernels, data):
    got = same(kernels, 'b64encode', data)
    raw = octets(data)
    if raw is not None and got[0] == 'ok':
        assert got[1] == ('str', 'b' + binascii.b2a_base64(
            raw, newline=False).decode())


b64_texts = st.one_of(
    st.text(alphabet=st.sampled_from(list('AQIDaz09+/=-_ \n.é☃')),
            max_size=16),
    raw_bytes.map(lambda b: base64.b64encode(b).decode()),
    st.tuples(raw_bytes, st.integers(0, 400), st.sampled_from(
        list('=A/-\n é\x00'))).map(
        lambda t: (lambda s: s[:t[1]] + t[2] + s[t[1]:])(
            base64.b64encode(t[0]).decode())),
    odd_values)


@given(b64_texts)
def test_b64decode(kernels, text):
    got = same(kernels, 'b64decode', text)
    if got[0] == 'ok':
        # Whatever we accept, the lenient standard decoder reads the same.
        assert got[1] == ('bytes', base64.b64decode(text))
        assert len(text) % 4 == 0


@given(raw_bytes)
def test_b64_round_trip(kernels, data):
    assert kernels.b64decode(kernels.b64encode(data)[1:]) == data


payload_items = st.lists(st.one_of(packets.filter(
    lambda p: isinstance(p, str)), bytes_like), max_size=6)


@given(st.one_of(payload_items, odd_values))
def test_encode_payload(kernels, items):
    got = same(kernels, 'encode_payload', items)
    if got[0] == 'ok' and all(
            isinstance(i, (bytes, bytearray, memoryview)) for i in items):
        decoded = kernels.decode_payload(kernels.encode_payload(items)) \
            if items else []
        assert [d[1] for d in decoded] == [bytes(i) for i in items]


@given(st.one_of(texts, payload_items.map(pure.encode_payload),
                 payload_items.map(lambda i: pure.encode_payload(i).encode(
                     'utf-8', 'surrogatepass')),
                 st.binary(max_size=30), odd_values))
def test_split_and_decode_payload(kernels, body):
    got = same(kernels, 'split_payload', body)
    decoded = same(kernels, 'decode_payload', body)
    if got[0] == 'ok':
        assert isinstance(body, str)
        assert kernels.join_payload(kernels.split_payload(body)) == body
    if decoded[0] == 'ok' and isinstance(body, (str, bytes, memoryview)):
        # a str, or the UTF-8 bytes of one, split at the separator
        text = body if isinstance(body, str) else (
            memoryview(body).tobytes().decode('utf-8'))
        assert decoded == outcome(
            lambda: [pure.decode_packet(p) for p in text.split('\x1e')])


@given(st.one_of(st.lists(texts, max_size=5), odd_values))
def test_join_payload(kernels, parts):
    got = same(kernels, 'join_payload', parts)
    if got[0] == 'ok' and type(parts) is list and parts and all(
            p and '\x1e' not in p for p in parts):
        assert kernels.split_payload(kernels.join_payload(parts)) == parts


@given(st.one_of(st.integers(-5, 10 ** 6), st.booleans(), st.floats(),
                 st.none()),
       st.one_of(texts, odd_values))
@example(index=0, payload='\\/')    # a backslash before a slash
def test_jsonp_wrap(kernels, index, payload):
    got = same(kernels, 'jsonp_wrap', index, payload)
    if got[0] == 'ok' and type(index) is int and type(payload) is str:
        wrapped = kernels.jsonp_wrap(index, payload)
        inner = wrapped[len('___eio[%d]("' % index):-3]
        assert '</' not in inner and '\n' not in inner
        assert '\u2028' not in inner and '\u2029' not in inner
        if '\ud800' not in payload:
            # every escape used (\\ \" \n \r \u2028 \u2029 and the \/ of
            # <\/) is a JSON string escape: JSON reads the literal back
            assert std_json.loads('"%s"' % inner, strict=False) == payload


headers = st.one_of(
    st.binary(max_size=16),
    st.tuples(st.integers(0, 255), st.sampled_from([125, 126, 127, 253, 254,
                                                    255, 0, 1]),
              st.binary(max_size=14)).map(
        lambda t: bytes([t[0], t[1]]) + t[2]))


@given(st.one_of(headers, headers.map(bytearray), headers.map(memoryview),
                 odd_values))
@example(buf=memoryview(b'\x00\x00~\x00\x00\x00\x00')[::2])    # not contiguous
def test_parse_frame_header(kernels, buf):
    got = same(kernels, 'parse_frame_header', buf)
    raw = octets(buf)
    if raw is None:
        return
    if len(raw) < 2:
        assert got == ('ok', ('NoneType', None))
        return
    ext = {126: 2, 127: 8}.get(raw[1] & 0x7F, 0)
    size = 2 + ext + (4 if raw[1] & 0x80 else 0)
    declared = int.from_bytes(raw[2:2 + ext], 'big')
    if got[0] == 'raise':
        # only a length that is not minimal or has its top bit set
        assert got[1] is ValueError and len(raw) >= 2 + ext
        assert (ext == 2 and declared < 126) or (ext == 8 and (
            declared >> 63 or declared < 0x10000))
        return
    head = kernels.parse_frame_header(buf)
    if head is None:
        assert len(raw) < size
        return
    fin, rsv, opcode, mask, length, head_len = head
    assert head_len == size <= len(raw)
    assert raw[0] == (fin << 7 | rsv << 4 | opcode)
    assert mask == (raw[size - 4:size] if raw[1] & 0x80 else None)
    # the minimal encoding is the only one accepted: building the header
    # again gives the same bytes
    assert kernels.build_frame_header(opcode, length, fin, False, mask)[
        1:] == raw[1:size]


lengths = st.one_of(st.integers(-2, 70000), st.sampled_from(
    [125, 126, 65535, 65536, 2 ** 63 - 1, 2 ** 63, 2 ** 64, -2 ** 70]),
    st.floats(), st.none())
masks = st.one_of(st.none(), st.binary(min_size=3, max_size=5),
                  st.binary(min_size=4, max_size=4).map(bytearray),
                  st.lists(st.integers(0, 255), min_size=4, max_size=4),
                  st.text(min_size=4, max_size=4), st.integers())
flags = st.one_of(st.booleans(), st.integers(0, 2), st.none(),
                  st.just('x'))


@given(st.one_of(st.integers(-2, 17), st.just(10 ** 30), st.floats()),
       lengths, flags, flags, masks)
def test_build_frame_header(kernels, opcode, length, fin, rsv1, mask):
    got = same(kernels, 'build_frame_header', opcode, length, fin, rsv1,
               mask)
    if got[0] == 'ok' and mask is not None:
        mask = bytes(mask)
    if got[0] == 'ok':
        head = kernels.build_frame_header(opcode, length, fin, rsv1, mask)
        assert kernels.parse_frame_header(head) == (
            bool(fin), 4 if rsv1 else 0, opcode, mask, length, len(head))


@given(st.one_of(bytes_like, odd_values, texts), masks)
def test_apply_mask(kernels, data, mask):
    got = same(kernels, 'apply_mask', data, mask)
    raw = octets(data)
    if got[0] == 'ok' and raw == b'':
        assert got[1] == ('bytes', b'')
    elif got[0] == 'ok' and raw is not None:
        key = bytes(mask)
        assert got[1] == ('bytes', bytes(
            b ^ key[i % 4] for i, b in enumerate(raw)))


@given(st.integers(-1, 16), st.one_of(bytes_like, odd_values, texts), flags,
       flags, masks)
def test_build_frame(kernels, opcode, payload, fin, rsv1, mask):
    got = same(kernels, 'build_frame', opcode, payload, fin, rsv1, mask)
    raw = octets(payload)
    if got[0] == 'ok' and raw is not None:
        frame = kernels.build_frame(opcode, payload, fin, rsv1, mask)
        header = kernels.parse_frame_header(frame)
        body = frame[header[5]:]
        if header[3] is not None:
            body = kernels.apply_mask(body, header[3])
        assert body == raw and header[4] == len(raw)


session_ops = st.lists(st.one_of(
    st.tuples(st.just('add'), st.sampled_from(['a', 'b', 'c', 1, None]),
              st.integers()),
    st.tuples(st.just('add'), st.just([]), st.none()),
    st.tuples(st.sampled_from(['get', 'remove', 'contains']),
              st.sampled_from(['a', 'b', 'c', 1, None, 'zz', ()])),
    st.tuples(st.sampled_from(['len', 'sids', 'values', 'new_sid'])),
    st.tuples(st.just('new_sid'), st.sampled_from(['', 'ab', 'AAAA'])),
    st.tuples(st.just('add'), st.sampled_from(['AAAA' + 'A' * 20]),
              st.integers())),
    max_size=30)


def run_session_ops(table, ops, draws):
    results = []
    random = iter(draws)
    with mock.patch('os.urandom', lambda n: next(random)):
        for op in ops:
            name, args = op[0], op[1:]
            if name == 'len':
                results.append(outcome(len, table))
            elif name == 'contains':
                results.append(outcome(lambda a=args: a[0] in table))
            else:
                results.append(outcome(getattr(table, name), *args))
    return results


@given(session_ops, st.lists(st.sampled_from(
    [b'\x00' * 15, b'\xff' * 15, b'\xfb\xef\xbe' * 5]), min_size=200,
    max_size=200))
def test_session_table_ops(kernels, ops, draws):
    got = run_session_ops(kernels.SessionTable(), ops, draws)
    if kernels is not pure:
        assert got == run_session_ops(pure.SessionTable(), ops, draws)
    model = {}
    for op, result in zip(ops, got):
        if op[0] == 'add' and result[0] == 'ok':
            model[op[1]] = op[2]
        elif op[0] == 'remove' and result[0] == 'ok':
            assert result[1] == canon(model.pop(op[1], None))
        elif op[0] == 'new_sid':
            assert result[1][1] not in model


timer_ops = st.lists(st.one_of(
    st.tuples(st.just('push'), st.one_of(
        st.integers(-5, 20), st.floats(-5, 20), st.sampled_from(
            [float('inf'), float('-inf'), float('nan'), 10 ** 400, None,
             '3.5', 2 ** 53 + 1])), st.integers(0, 1000)),
    st.tuples(st.just('pop_due'), st.one_of(
        st.integers(-5, 20), st.floats(-5, 20), st.sampled_from(
            [float('inf'), float('nan'), 2 ** 53 + 1, None, 'x']))),
    st.tuples(st.sampled_from(['next_deadline', 'len', 'clear']))),
    max_size=40)


def run_timer_ops(heap, ops):
    results = []
    for op in ops:
        if op[0] == 'len':
            results.append(outcome(len, heap))
        else:
            results.append(outcome(getattr(heap, op[0]), *op[1:]))
    return results


@given(timer_ops)
def test_timer_heap_ops(kernels, ops):
    got = run_timer_ops(kernels.TimerHeap(), ops)
    if kernels is not pure:
        assert got == run_timer_ops(pure.TimerHeap(), ops)
    model = []     # (when, seq, item), popped in sorted order
    for seq, (op, result) in enumerate(zip(ops, got)):
        if op[0] == 'push' and result[0] == 'ok':
            model.append((float(op[1]), seq, op[2]))
        elif op[0] == 'pop_due' and result[0] == 'ok':
            model.sort()
            due = [m for m in model if m[0] <= op[1]]
            assert result[1] == canon([m[2] for m in due])
            model = model[len(due):]
        elif op[0] == 'clear':
            model = []
        elif op[0] == 'len':
            assert result[1] == canon(len(model))


def _frame_bytes(spec):
    """Encode one generated frame spec, possibly breaking the rules."""
    opcode, fin, rsv, key, payload, encoding = spec
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if key is not None else 0
    if encoding == 'minimal':
        encoding = 7 if n < 126 else (16 if n < 0x10000 else 64)
    if encoding == 7 and n < 126:
        head = bytes((b0, mbit | n))
    elif encoding == 16 and n < 0x10000:
        head = bytes((b0, mbit | 126, n >> 8, n & 0xFF))
    elif encoding == 'top bit':
        head = bytes((b0, mbit | 127)) + (n | 1 << 63).to_bytes(8, 'big')
    else:
        head = bytes((b0, mbit | 127)) + n.to_bytes(8, 'big')
    if key is None:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


frame_specs = st.tuples(
    st.sampled_from([0, 1, 2, 8, 9, 10] * 10 + list(range(16))),
    st.sampled_from([True] * 3 + [False]),
    st.sampled_from([0] * 4 + list(range(8))),
    st.binary(min_size=4, max_size=4),
    st.sampled_from([0, 1, 5, 20, 20, 125, 126, 300]).flatmap(
        lambda n: st.binary(min_size=n, max_size=n)),
    st.sampled_from(['minimal'] * 40 + [7, 16, 64, 'top bit']),
    st.sampled_from([False] * 30 + [True]))


@st.composite
def frame_buffers(draw, masked):
    """Frames mostly following the rules for ``masked`` (a control frame
    may still be too long or fragmented), cut short or followed by junk."""
    specs = draw(st.lists(frame_specs, max_size=6))
    data = b''.join(_frame_bytes((op, fin or (op >= 8 and not flip), rsv,
                                  key if masked != flip else None, payload,
                                  encoding))
                    for op, fin, rsv, key, payload, encoding, flip in specs)
    cut = draw(st.integers(0, 20))
    return data[:len(data) - cut] + draw(st.binary(max_size=12))


parse_cases = st.one_of(
    st.booleans().flatmap(lambda m: st.tuples(st.one_of(
        frame_buffers(m), frame_buffers(m).map(bytearray),
        frame_buffers(m).map(memoryview)), st.just(m))),
    st.tuples(st.one_of(raw_bytes, odd_values),
              st.one_of(st.booleans(), st.integers(-1, 2), st.none(),
                        st.just('x'))))


@given(parse_cases, st.one_of(
    st.integers(-2, 400), st.sampled_from([2 ** 63, 2 ** 64, -2 ** 70]),
    st.none(), st.floats(), st.just('9')))
# consumed counts bytes; a memoryview cast to 'I' is sliced in items
@example(case=(memoryview(b'\x81\x02ab\x83\x05cd').cast('I'), False),
         max_payload=100)
def test_parse_frames(kernels, case, max_payload):
    buf, masked = case
    got = same(kernels, 'parse_frames', buf, max_payload, masked)
    if got[0] == 'ok':
        frames, consumed, error = kernels.parse_frames(buf, max_payload,
                                                       masked)
        # parse_frames reads bytes whatever the buffer's format, and
        # ``consumed`` counts bytes: slice the bytes, not the items
        raw = memoryview(buf).tobytes()
        assert kernels.parse_frames(raw, max_payload, masked) == (
            frames, consumed, error)
        # The consumed prefix parses alone to the same frames; the rest is
        # either the bad frame or an incomplete one.
        assert kernels.parse_frames(raw[:consumed], max_payload,
                                    masked) == (frames, consumed, 0)
        rest = kernels.parse_frames(raw[consumed:], max_payload, masked)
        assert rest == ([], 0, error)


@given(st.lists(frame_specs, max_size=6), st.booleans())
def test_parse_frames_model(kernels, specs, masked):
    # Only frames that follow the rules, with the side's mask bit: the
    # result is exactly the model.
    specs = [(op, fin or op >= 8, rsv, key if masked else None,
              payload[:125] if op >= 8 else payload, 'minimal')
             for op, fin, rsv, key, payload, _, _ in specs
             if op in (0, 1, 2, 8, 9, 10)]
    data = b''.join(map(_frame_bytes, specs))
    assert kernels.parse_frames(data, 300, masked) == (
        [(op, fin, rsv, payload) for op, fin, rsv, _, payload, _ in specs],
        len(data), 0)


frame_items = st.lists(st.one_of(texts, bytes_like), max_size=6)


def _fake_urandom(n):
    return bytes((i * 37 + 11) & 0xFF for i in range(n))


@given(st.one_of(frame_items, frame_items.map(tuple),
                 st.lists(st.one_of(texts, bytes_like, odd_values),
                          max_size=4),
                 odd_values),
       st.one_of(st.booleans(), st.integers(-1, 2), st.none(),
                 st.just('x')))
def test_build_frames(kernels, items, masked):
    with mock.patch('os.urandom', _fake_urandom):
        got = same(kernels, 'build_frames', items, masked)
    if got[0] == 'ok' and isinstance(items, (list, tuple)):
        # Real random keys: compare the payloads after unmasking.
        out = kernels.build_frames(items, masked)
        parsed = kernels.parse_frames(out, 1 << 20, bool(masked))
        assert parsed == pure.parse_frames(
            pure.build_frames(items, masked), 1 << 20, bool(masked))
        assert parsed == ([
            (1, True, 0, i.encode()) if isinstance(i, str)
            else (2, True, 0, bytes(i)) for i in items], len(out), 0)
