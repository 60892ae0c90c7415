"""engineio_fast.json: the standard library's json with a bound on integer
literals, plus compact_dumps and scan_once (what the packet codec calls):
each the same as the standard library's on generated values, errors
included."""

import json as std_json
import math
import platform

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast import json as eio_json

COMPACT = (',', ':')

scalars = (st.none() | st.booleans() | st.integers() |
           st.floats(allow_nan=True, allow_infinity=True) | st.text())
values = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=5) |
                   st.dictionaries(st.text(max_size=8) | st.integers() |
                                   st.booleans() | st.none(), inner,
                                   max_size=5)),
    max_leaves=30)


def outcome(fn, *args):
    try:
        return 'ok', fn(*args)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.skipif(platform.python_implementation() != 'CPython',
                    reason='the C encoder is CPython\'s')
def test_the_fast_encoder_is_the_one_in_use():
    assert eio_json.compact_dumps is eio_json._one_shot


@given(values)
def test_compact_dumps_is_dumps(value):
    assert eio_json.compact_dumps(value) == \
        std_json.dumps(value, separators=COMPACT)


def test_compact_dumps_errors_are_dumps_errors():
    circular = []
    circular.append(circular)
    loop = {}
    loop['self'] = loop
    for bad in (circular, loop, {'a': object()}, {(1, 2): 3}, object(),
                {'a': {1, 2}}, b'bytes'):
        assert outcome(eio_json.compact_dumps, bad) == \
            outcome(lambda v: std_json.dumps(v, separators=COMPACT), bad)
        assert outcome(eio_json.compact_dumps, bad)[0] != 'ok'


@given(values)
def test_scan_once_reads_what_loads_reads(value):
    text = std_json.dumps(value)
    got, end = eio_json.scan_once(text, 0)
    assert end == len(text)
    want = eio_json.loads(text)
    assert repr(got) == repr(want) or (
        isinstance(want, float) and math.isnan(want))


def test_loads_bounds_integers():
    assert eio_json.loads('1' * 100) == int('1' * 100)
    for text in ('1' * 101, '[' + '9' * 500 + ']', '-' + '1' * 101):
        with pytest.raises(ValueError):
            eio_json.loads(text)
        with pytest.raises(ValueError):
            eio_json.scan_once(text, 0)
