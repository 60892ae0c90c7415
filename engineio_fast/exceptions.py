"""Exceptions raised by engineio_fast (same names as python-engineio's)."""


class EngineIOError(Exception):
    """Base class of every Engine.IO error."""


class ContentTooLongError(EngineIOError):
    """A payload or message is larger than ``max_http_buffer_size``."""


class UnknownPacketError(EngineIOError):
    """A packet has an unknown or invalid type."""


class QueueEmpty(EngineIOError):
    """A queue had nothing to give."""


class SocketIsClosedError(EngineIOError):
    """An operation was attempted on a closed socket."""


class ConnectionError(EngineIOError):  # noqa: A001 - python-engineio's name
    """A connection could not be made or was lost."""
