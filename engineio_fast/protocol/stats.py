"""What an engine did, counted for metrics (sans-I/O; read by
:mod:`engineio_fast.metrics`).

:func:`meter` gives one :class:`~engineio_fast.protocol.engine.Engine` an
:class:`EngineStats`; the engine's steps count in it where they decide
(every step that counts tests ``engine.stats`` once: metrics off cost that
test and nothing else). Since every server (built-in, ASGI, WSGI, sync or
asyncio) runs this one engine, the counts are the same for all of them.

Counters are plain ints, written where the engine runs (under the sync
server's lock, on the asyncio servers' loop) and read at scrape time: no
lock per message. Sizes are the lengths the engine sees: bytes for binary
messages and POST bodies, characters for text websocket messages and
queued text packets (equal to bytes for ASCII). The high-water marks cost
nothing per message: the engine's size checks compare with them (see
:func:`meter`). No session id or client
address is ever kept.
"""

from typing import Any, Dict, Sequence, Tuple

from . import http as _http
from .outcome import (
    DISCONNECT_CLIENT,
    DISCONNECT_PING_TIMEOUT,
    DISCONNECT_SERVER,
    DISCONNECT_TRANSPORT_CLOSE,
    DISCONNECT_TRANSPORT_ERROR,
)
from .packets import MESSAGE
from .session import OPEN

#: the disconnect reasons (every one is reported, 0 included)
REASONS = (DISCONNECT_SERVER, DISCONNECT_CLIENT, DISCONNECT_PING_TIMEOUT,
           DISCONNECT_TRANSPORT_CLOSE, DISCONNECT_TRANSPORT_ERROR)

#: the causes of a refused request: the message of the error body (the
#: JavaScript server's, PROTOCOL.md) or 'Unauthorized' (a connect handler
#: refused it); every one is reported, 0 included
CAUSES = tuple(_http.ERROR_MESSAGES.values()) + (
    'Not an accepted origin', 'Payload too large', 'Too many connections',
    'Too many handshakes', 'Unauthorized')

TRANSPORTS = ('polling', 'websocket')


class EngineStats:
    """The counts of one metered engine (all since :func:`meter`)."""

    __slots__ = ('handshakes', 'upgrades', 'messages_in', 'messages_out',
                 'bytes_in', 'bytes_out', 'disconnects', 'rejected',
                 'max_queue', 'max_packet')

    def __init__(self) -> None:
        #: sessions opened (connect handler accepted), by transport
        self.handshakes: Dict[str, int] = dict.fromkeys(TRANSPORTS, 0)
        #: polling sessions upgraded to websocket
        self.upgrades = 0
        #: message packets received from clients / queued for them by the
        #: application (``send``)
        self.messages_in = 0
        self.messages_out = 0
        #: sizes of what clients sent (websocket message packets, POST
        #: bodies) and of the message packets queued for them
        self.bytes_in = 0
        self.bytes_out = 0
        #: disconnects by reason
        self.disconnects: Dict[str, int] = dict.fromkeys(REASONS, 0)
        #: refused requests by cause (see :data:`CAUSES`)
        self.rejected: Dict[str, int] = dict.fromkeys(CAUSES, 0)
        #: high-water marks: the largest send queue a send made, the
        #: largest websocket message (of any packet type) or POST body
        #: received
        self.max_queue = 0
        self.max_packet = 0

    def disconnected(self, reason: str) -> None:
        """A session ended for ``reason``."""
        self.disconnects[reason] = self.disconnects.get(reason, 0) + 1

    def refused(self, cause: str) -> None:
        """A request was refused for ``cause`` (see :data:`CAUSES`)."""
        self.rejected[cause] = self.rejected.get(cause, 0) + 1

    def received(self, size: int, packets: Sequence[Tuple[int, Any, Any]]
                 ) -> None:
        """A POST body of ``size`` bytes carried ``packets`` (decoded)."""
        self.bytes_in += size
        if size > self.max_packet:
            self.max_packet = size
        for packet in packets:
            if packet[0] == MESSAGE:
                self.messages_in += 1


class Snapshot:
    """What :func:`snapshot` reads from an engine at one moment."""

    __slots__ = ('stats', 'sessions', 'upgrading', 'queued')

    def __init__(self, stats: EngineStats, sessions: Dict[str, int],
                 upgrading: int, queued: int) -> None:
        self.stats = stats
        #: open sessions by transport
        self.sessions = sessions
        #: polling sessions with an upgrade under way
        self.upgrading = upgrading
        #: bytes now waiting in every session's send queue
        self.queued = queued


def meter(engine: Any) -> EngineStats:
    """Make ``engine`` count from now on (once: a metered engine keeps
    its counts).

    Returns:
        Its :class:`EngineStats`.
    """
    stats = engine.stats
    if stats is None:
        engine.stats = stats = EngineStats()
        # the high-water marks: followed from 0 (see Engine.__init__)
        engine._size_watch = 0
        engine._queue_watch = 0
    return stats


def snapshot(engine: Any) -> Snapshot:
    """The engine's counts and its sessions now, by transport (for a
    scrape; safe beside the engine running in another thread: the session
    table's values are copied in one step)."""
    stats = engine.stats
    if stats is None:
        raise ValueError('this engine is not metered (see meter())')
    sessions = dict.fromkeys(TRANSPORTS, 0)
    upgrading = 0
    queued = 0
    for s in engine.sessions.values():
        if s.state != OPEN:
            continue
        transport = s.transport
        sessions[transport] = sessions.get(transport, 0) + 1
        if s.probe is not None:
            upgrading += 1
        queued += s.queue_bytes
    return Snapshot(stats, sessions, upgrading, queued)

