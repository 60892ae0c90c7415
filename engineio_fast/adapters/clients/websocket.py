"""The websockets package as both clients use it: which of its exceptions
mean what to the client machine (a refused handshake, a clean close by the
server, a failure).

The synchronous client uses ``websockets.sync.client`` and the asyncio one
``websockets.asyncio.client``; both raise the exceptions named here.
"""

import asyncio

try:
    from websockets.exceptions import (
        ConnectionClosedOK,
        InvalidStatus,
        WebSocketException,
    )
except ImportError:  # pragma: no cover - the client extra is not installed
    AVAILABLE = False

    class WebSocketException(Exception):  # type: ignore[no-redef]
        """Stands in for the websockets package's base exception."""

    class ConnectionClosedOK(WebSocketException):  # type: ignore[no-redef]
        """Stands in for the websockets package's clean close."""

    class InvalidStatus(WebSocketException):  # type: ignore[no-redef]
        """Stands in for the websockets package's refused handshake."""
else:
    AVAILABLE = True

#: what opening a websocket or reading its first message may raise for a
#: reason outside the client (asyncio.TimeoutError is TimeoutError only
#: from Python 3.11)
ERRORS = (OSError, TimeoutError, asyncio.TimeoutError, WebSocketException)


def refusal(exc):
    """``(status, body)`` when ``exc`` is a refused websocket handshake (the
    server answered with an HTTP status other than 101), else None."""
    if isinstance(exc, InvalidStatus):
        response = exc.response
        return response.status_code, response.body
    return None


def closed_cleanly(exc):
    """True when ``exc`` reports a websocket the server closed with a
    closing handshake (code 1000 or 1001)."""
    return isinstance(exc, ConnectionClosedOK)
