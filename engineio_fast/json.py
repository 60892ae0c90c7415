"""The standard library's ``json`` with one safety default.

``loads`` refuses integers longer than 100 digits (CPython's int parser is
quadratic in the number of digits, so a long literal is a cheap way to burn
server CPU). Every other name is the standard library's, plus two of this
module's own: ``compact_dumps`` (``dumps`` with the separators every
Engine.IO packet uses, without an encoder built per call) and
``scan_once`` (the JSON value at an index, as ``loads`` reads it).
"""

import json.encoder as _std_encoder
from json import *  # noqa: F401,F403
from json import JSONDecoder as _JSONDecoder
from json import loads as _std_loads
from typing import Any, Union

_MAX_INT_DIGITS = 100


def _bounded_int(text: str) -> int:
    if len(text.lstrip('-')) > _MAX_INT_DIGITS:
        raise ValueError('integer literal longer than %d digits'
                         % _MAX_INT_DIGITS)
    return int(text)


# Built once: json.loads with any keyword builds a new decoder per call,
# which costs more than decoding a small message.
_decoder = _JSONDecoder(parse_int=_bounded_int)
_decode = _decoder.decode
#: ``scan_once(s, i)`` of that decoder: ``(value, end)`` of the JSON value
#: at ``s[i]``, StopIteration when there is none; ``loads(s)`` is it with
#: whitespace around and nothing else (the compiled packet decoder calls
#: it directly while ``loads`` is this module's)
scan_once = _decoder.scan_once  # type: ignore[attr-defined]


def loads(s: Union[str, bytes, bytearray],  # type: ignore[no-redef]
          *args: Any, **kwargs: Any) -> Any:
    """Like :func:`json.loads`, refusing integers over 100 digits."""
    if not args and not kwargs and s.__class__ is str:
        return _decode(s)
    kwargs.setdefault('parse_int', _bounded_int)
    return _std_loads(s, *args, **kwargs)


_compact = JSONEncoder(separators=(',', ':'))  # noqa: F405


def _one_shot(obj: Any) -> str:
    # what JSONEncoder.encode does for a non-str object, without building
    # its Python helpers (a closure, the bound methods) on every call: a
    # fresh markers dict each time (circular data is still refused, and
    # threads share nothing)
    return ''.join(_make_encoder(
        {}, _compact.default, _encode_ascii, None, ':', ',', False, False,
        True)(obj, 0))


def compact_dumps(obj: Any) -> str:
    """``json.dumps(obj, separators=(',', ':'))``: the same text and the
    same errors (TypeError for what JSON cannot hold, ValueError for a
    circular reference or, never here, NaN refused), faster for small
    objects."""
    return _compact.encode(obj)


_make_encoder: Any = getattr(_std_encoder, 'c_make_encoder', None)
_encode_ascii = _std_encoder.encode_basestring_ascii
try:
    # the C encoder's call as this interpreter has it, or the plain path
    if _make_encoder is not None and _one_shot(
            {'a': [1, 2.5, None, True, 'é"']}) == \
            '{"a":[1,2.5,null,true,"\\u00e9\\""]}':
        compact_dumps = _one_shot  # noqa: F811
except Exception:  # pragma: no cover - another signature: the plain path
    pass
