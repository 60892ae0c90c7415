"""The standard library's ``json`` with one safety default.

``loads`` refuses integers longer than 100 digits (CPython's int parser is
quadratic in the number of digits, so a long literal is a cheap way to burn
server CPU). Every other name is the standard library's.
"""

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
_decode = _JSONDecoder(parse_int=_bounded_int).decode


def loads(s: Union[str, bytes, bytearray],  # type: ignore[no-redef]
          *args: Any, **kwargs: Any) -> Any:
    """Like :func:`json.loads`, refusing integers over 100 digits."""
    if not args and not kwargs and s.__class__ is str:
        return _decode(s)
    kwargs.setdefault('parse_int', _bounded_int)
    return _std_loads(s, *args, **kwargs)
