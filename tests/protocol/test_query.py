"""parse_query gives what urllib.parse.parse_qsl (first value wins) gives."""

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from engineio_fast.protocol.http import parse_query


def reference(raw):
    out = {}
    for key, value in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        out.setdefault(key, value)
    return out


def test_typical_queries():
    assert parse_query('EIO=4&transport=polling&t=OaB3x') == {
        'EIO': '4', 'transport': 'polling', 't': 'OaB3x'}
    assert parse_query('') == {}
    assert parse_query('a=1&a=2&b') == {'a': '1', 'b': ''}
    assert parse_query('x=%2F%20y+z&&') == {'x': '/ y z'}


@given(st.text(alphabet='ab=&%+2Fxé0', max_size=40))
def test_matches_urllib(raw):
    assert parse_query(raw) == reference(raw)
