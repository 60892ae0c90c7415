"""Codec kernels: known inputs and exact outputs, for every implementation."""

import json as std_json

import pytest

from engineio_fast import json as eio_json
from engineio_fast._accel import KIND_BINARY, KIND_JSON, KIND_NONE, KIND_TEXT


def _dumps(data):
    return std_json.dumps(data, separators=(',', ':'))


@pytest.mark.parametrize('encoded, expected', [
    ('0', (0, None, KIND_NONE)),
    ('2', (2, None, KIND_NONE)),
    ('6', (6, None, KIND_NONE)),
    ('2probe', (2, 'probe', KIND_JSON)),  # 'p' is not a JSON start: see below
    ('4hello', (4, 'hello', KIND_TEXT)),
    ('4123', (4, '123', KIND_TEXT)),
    ('4{"a":1}', (4, '{"a":1}', KIND_JSON)),
    ('4[1]', (4, '[1]', KIND_JSON)),
    ('4"x"', (4, '"x"', KIND_JSON)),
    ('4true', (4, 'true', KIND_JSON)),
    ('4false', (4, 'false', KIND_JSON)),
    ('4null', (4, 'null', KIND_JSON)),
    ('4NaN', (4, 'NaN', KIND_JSON)),
    ('4Infinity', (4, 'Infinity', KIND_JSON)),
    ('4-5', (4, '-5', KIND_JSON)),
    ('4 1', (4, ' 1', KIND_JSON)),
    ('4\n', (4, '\n', KIND_JSON)),
    ('4héllo', (4, 'héllo', KIND_TEXT)),
    ('4☃ snow', (4, '☃ snow', KIND_TEXT)),
    ('4\U0001f600', (4, '\U0001f600', KIND_TEXT)),
    ('b', (4, b'', KIND_BINARY)),
    ('bAQID', (4, b'\x01\x02\x03', KIND_BINARY)),
    ('baGVsbG8=', (4, b'hello', KIND_BINARY)),
    ('bAA==', (4, b'\x00', KIND_BINARY)),
    (b'', (4, b'', KIND_BINARY)),
    (b'\x00\xff', (4, b'\x00\xff', KIND_BINARY)),
    (bytearray(b'ab'), (4, b'ab', KIND_BINARY)),
    (memoryview(b'ab'), (4, b'ab', KIND_BINARY)),
])
def test_decode_packet(kernels, encoded, expected):
    if encoded == '2probe':
        expected = (2, 'probe', KIND_TEXT)
    result = kernels.decode_packet(encoded)
    assert result == expected
    assert type(result[1]) is type(expected[1])


@pytest.mark.parametrize('encoded', [
    '', '7', '9x', 'x', '/', ':', '\x1e', 'é', 'B', 'bA', 'bAAA', 'bA===',
    'b====', 'bAA=A', 'bAA==AA==', 'b AA=', 'bAA\n==', 'b\u00e9AAA',
    'b\ud800AAA', 'bAA-_', 'bAQID=', 'bQUJD=',
])
def test_decode_packet_invalid(kernels, encoded):
    with pytest.raises(ValueError):
        kernels.decode_packet(encoded)


@pytest.mark.parametrize('encoded, expected', [
    ('4{"a":1}', (4, {'a': 1}, False)),
    ('4true', (4, True, False)),
    ('4"x"', (4, 'x', False)),
    ('4-5', (4, -5, False)),
    ('4123', (4, '123', False)),
    ('4hello', (4, 'hello', False)),
    ('4{bad', (4, '{bad', False)),
    ('4[1,2', (4, '[1,2', False)),
    ('2', (2, '', False)),
    ('4', (4, '', False)),
    ('3probe', (3, 'probe', False)),
    ('bAQI=', (4, b'\x01\x02', True)),
    (b'\x01', (4, b'\x01', True)),
    ('4-' + '9' * 101, (4, '-' + '9' * 101, False)),
    ('4[' + '1' * 101 + ']', (4, '[' + '1' * 101 + ']', False)),
    ('4[' + '1' * 100 + ']', (4, [int('1' * 100)], False)),
])
def test_decode_value(kernels, encoded, expected):
    assert kernels.decode_value(encoded, eio_json.loads) == expected


def test_decode_value_deep_nesting_is_kept_as_text(kernels):
    text = '[' * 200000
    assert kernels.decode_value('4' + text, eio_json.loads) == (4, text,
                                                                False)


def test_decode_value_loads_errors_other_than_value_error_propagate(kernels):
    def loads(data):
        raise KeyError(data)
    with pytest.raises(KeyError):
        kernels.decode_value('4{}', loads)


@pytest.mark.parametrize('args, expected', [
    ((4, 'hello', False), '4hello'),
    ((4, '', False), '4'),
    ((2, None, False), '2'),
    ((3, 'probe', False), '3probe'),
    ((4, {'a': [1, 'é']}, False), '4{"a":[1,"\\u00e9"]}'),
    ((4, [], False), '4[]'),
    ((4, 42, False), '442'),
    ((4, True, False), '4True'),
    ((4, 1.5, False), '41.5'),
    ((4, b'\x01\x02\x03', False), b'\x01\x02\x03'),
    ((4, bytearray(b'hi'), False), b'hi'),
    ((4, memoryview(b'hi'), False), b'hi'),
    ((4, b'\x01\x02\x03', True), 'bAQID'),
    ((4, b'', True), 'b'),
    ((4, b'hello', True), 'baGVsbG8='),
    ((0, '{"sid":"x"}', False), '0{"sid":"x"}'),
])
def test_encode_value(kernels, args, expected):
    result = kernels.encode_value(*args, _dumps)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize('args, exc', [
    ((2, b'x', False), ValueError),
    ((7, 'x', False), ValueError),
    ((-1, None, False), ValueError),
    ((10 ** 30, 'x', False), ValueError),
    (('4', 'x', False), TypeError),
    ((4.5, 'x', False), TypeError),
])
def test_encode_value_invalid(kernels, args, exc):
    with pytest.raises(exc):
        kernels.encode_value(*args, _dumps)


def test_encode_text(kernels):
    assert kernels.encode_text(4, 'x') == '4x'
    assert kernels.encode_text(6, None) == '6'
    assert kernels.encode_text(True, 'x') == '1x'
    with pytest.raises(ValueError):
        kernels.encode_text(7, None)
    with pytest.raises(TypeError):
        kernels.encode_text(4, b'x')


@pytest.mark.parametrize('raw', [
    b'', b'\x00', b'\x00\x01', b'\x00\x01\x02', bytes(range(256)),
    b'\xff' * 1024, b'\xfb\xff\xbf' * 5,
])
def test_b64_round_trip(kernels, raw):
    import base64
    text = kernels.b64encode(raw)
    assert text == 'b' + base64.b64encode(raw).decode()
    assert kernels.b64decode(text[1:]) == raw
    assert kernels.b64encode(bytearray(raw)) == text
    assert kernels.b64encode(memoryview(raw)) == text


def test_b64encode_rejects_str(kernels):
    with pytest.raises(TypeError):
        kernels.b64encode('abc')


@pytest.mark.parametrize('text', ['A', 'AB', 'ABC', 'A===', '=AAA', 'AA=A',
                                  'AAAA=', 'AA==AA==', '-_AA', 'é===',
                                  'AA\u2028='])
def test_b64decode_strict(kernels, text):
    with pytest.raises(ValueError):
        kernels.b64decode(text)


def test_payload_split_and_join(kernels):
    assert kernels.split_payload('4a\x1e2\x1e4b') == ['4a', '2', '4b']
    assert kernels.split_payload('4a') == ['4a']
    assert kernels.split_payload('\x1e') == ['', '']
    with pytest.raises(ValueError):
        kernels.split_payload('')
    assert kernels.join_payload(['4a', '2']) == '4a\x1e2'
    assert kernels.join_payload([]) == ''


def test_encode_payload(kernels):
    assert kernels.encode_payload(['4hello', b'\x01\x02', '2']) == (
        '4hello\x1ebAQI=\x1e2')
    assert kernels.encode_payload([]) == ''
    assert kernels.encode_payload(iter(['6'])) == '6'


@pytest.mark.parametrize('body', ['4a\x1e2\x1ebAQI=', b'4a\x1e2\x1ebAQI=',
                                  bytearray(b'4a\x1e2\x1ebAQI=')])
def test_decode_payload(kernels, body):
    assert kernels.decode_payload(body) == [
        (4, 'a', KIND_TEXT), (2, None, KIND_NONE), (4, b'\x01\x02',
                                                    KIND_BINARY)]


def test_decode_payload_utf8(kernels):
    body = '4héllo ☃\x1e4{"k":"\U0001f600"}\x1ebAA=='
    expected = [(4, 'héllo ☃', KIND_TEXT),
                (4, '{"k":"\U0001f600"}', KIND_JSON), (4, b'\x00',
                                                        KIND_BINARY)]
    assert kernels.decode_payload(body) == expected
    assert kernels.decode_payload(body.encode('utf-8')) == expected


@pytest.mark.parametrize('body', ['', b'', '4a\x1e', '\x1e4a', '4a\x1e\x1e2',
                                  '8', '4a\x1ebA', b'\xff4a', b'4\xc3'])
def test_decode_payload_invalid(kernels, body):
    with pytest.raises(ValueError):
        kernels.decode_payload(body)


@pytest.mark.parametrize('payload, expected', [
    ('4hello', '___eio[0]("4hello");'),
    ('4"q"\\', '___eio[0]("4\\"q\\"\\\\");'),
    ('4a\nb\rc', '___eio[0]("4a\\nb\\rc");'),
    ('4</script>', '___eio[0]("4<\\/script>");'),
    ('4<</', '___eio[0]("4<<\\/");'),
    ('4\u2028\u2029', '___eio[0]("4\\u2028\\u2029");'),
    ('4é\u2028', '___eio[0]("4é\\u2028");'),
    ('4☃"', '___eio[0]("4☃\\"");'),
    ('', '___eio[0]("");'),
])
def test_jsonp_wrap(kernels, payload, expected):
    result = kernels.jsonp_wrap(0, payload)
    assert result == expected
    assert kernels.jsonp_wrap(12, payload) == expected.replace('[0]', '[12]')
