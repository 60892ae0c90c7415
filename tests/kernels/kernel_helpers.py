"""Helpers for comparing kernel results across implementations."""


def outcome(fn, *args, **kwargs):
    """What calling ``fn`` gives: ``('ok', canonical value)`` or
    ``('raise', exception class)``; comparable across implementations."""
    try:
        return ('ok', canon(fn(*args, **kwargs)))
    except Exception as exc:  # noqa: BLE001 - the class is the result
        return ('raise', type(exc))


def canon(value):
    """A value with its exact types spelled out, NaN made comparable."""
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ('dict', tuple((canon(k), canon(v)) for k, v in value.items()))
    if isinstance(value, float):
        return ('float', repr(value))
    return (type(value).__name__, value)
