"""What an engine did, counted for metrics (sans-I/O; read by
:mod:`engineio_fast.metrics`).

:func:`meter` makes one :class:`~engineio_fast.protocol.engine.Engine`
count: its class becomes a subclass whose steps count and then run the
engine's own (the same decisions, in the same order). An engine that was
never metered runs none of this: metrics off cost nothing. Since every
server (built-in, ASGI, WSGI, sync or asyncio) runs this one engine, the
counts are the same for all of them.

Counters are plain ints in an :class:`EngineStats`, written where the
engine runs (under the sync server's lock, on the asyncio servers' loop)
and read at scrape time; no lock per message. Sizes are the lengths the
engine sees: bytes for binary messages and POST bodies, characters for
text websocket messages (equal to bytes for ASCII). No session id or
client address is ever kept.
"""

from typing import Any, Dict, Optional, Sequence, Union

from . import http as _http
from .outcome import (
    DISCONNECT_CLIENT,
    DISCONNECT_PING_TIMEOUT,
    DISCONNECT_SERVER,
    DISCONNECT_TRANSPORT_CLOSE,
    DISCONNECT_TRANSPORT_ERROR,
    Outcome,
    Verdict,
)
from .packets import Item
from .session import CONNECTING, OPEN, Session, WsLink

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
        #: message packets received from clients / queued for them
        self.messages_in = 0
        self.messages_out = 0
        #: sizes of what clients sent (websocket messages, POST bodies)
        #: and of the messages queued for them
        self.bytes_in = 0
        self.bytes_out = 0
        #: disconnects by reason
        self.disconnects: Dict[str, int] = dict.fromkeys(REASONS, 0)
        #: refused requests by cause (see :data:`CAUSES`)
        self.rejected: Dict[str, int] = dict.fromkeys(CAUSES, 0)
        #: high-water marks: the largest send queue of a session (queued
        #: bytes right after a send), the largest websocket message or POST
        #: body received
        self.max_queue = 0
        self.max_packet = 0


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


def _metered_class(cls: Any) -> Any:
    """The subclass of engine class ``cls`` that counts."""
    base_ws_receive = cls.ws_receive
    base_send = cls.send
    base_send_many = cls.send_many
    base_post = cls._post
    base_end = cls._end
    base_switch = cls._switch
    base_reject = cls._reject
    base_refused = cls._refused
    base_connect_done = cls.connect_done

    class Metered(cls):
        stats: EngineStats

        def ws_receive(self, link: WsLink, data: Union[str, bytes],
                       now: float) -> Sequence[Any]:
            st = self.stats
            n = len(data)
            st.bytes_in += n
            if n > st.max_packet:
                st.max_packet = n
            events = base_ws_receive(self, link, data, now)
            if events and events[0][0] == 'message':
                st.messages_in += 1
            return events

        def send(self, session: Session, item: Item) -> Any:
            ret = base_send(self, session, item)
            if ret is True:
                st = self.stats
                st.messages_out += 1
                st.bytes_out += len(item)
                queued = session.queue_bytes
                if queued > st.max_queue:
                    st.max_queue = queued
            return ret

        def send_many(self, session: Session, items: Sequence[Item]) -> Any:
            ret = base_send_many(self, session, items)
            if ret is True:
                st = self.stats
                st.messages_out += len(items)
                for item in items:
                    st.bytes_out += len(item)
                queued = session.queue_bytes
                if queued > st.max_queue:
                    st.max_queue = queued
            return ret

        def _post(self, s: Session, req: _http.Request, now: float,
                  jsonp: Optional[int]) -> Outcome:
            st = self.stats
            body = req.body
            n = len(body) if body else 0
            st.bytes_in += n
            if n > st.max_packet:
                st.max_packet = n
            out = base_post(self, s, req, now, jsonp)
            events = out.events
            if events:
                for ev in events:
                    if ev[0] == 'message':
                        st.messages_in += 1
            return out

        def _end(self, s: Session, reason: str, now: float,
                 *how: int) -> Any:
            disconnects = self.stats.disconnects
            disconnects[reason] = disconnects.get(reason, 0) + 1
            return base_end(self, s, reason, now, *how)

        def _switch(self, s: Session, link: WsLink) -> None:
            if s.state == OPEN:
                self.stats.upgrades += 1
            base_switch(s, link)

        def _reject(self, req: _http.Request, code: int,
                    message: Optional[str] = None, status: int = 400,
                    detail: str = '') -> _http.Response:
            rejected = self.stats.rejected
            cause = message or _http.ERROR_MESSAGES[code]
            rejected[cause] = rejected.get(cause, 0) + 1
            return base_reject(self, req, code, message, status, detail)

        def _refused(self, req: _http.Request, value: Any) -> _http.Response:
            self.stats.rejected['Unauthorized'] += 1
            return base_refused(self, req, value)

        def connect_done(self, out: Outcome, req: _http.Request,
                         verdict: Verdict, now: float) -> Outcome:
            s = out.session
            was_connecting = s is not None and s.state == CONNECTING
            done = base_connect_done(self, out, req, verdict, now)
            if verdict[0] and s is not None:
                handshakes = self.stats.handshakes
                handshakes[s.transport] = handshakes.get(s.transport, 0) + 1
                if done.events and not was_connecting:
                    # closed while its connect handler ran (never through
                    # _end): its one disconnect
                    disconnects = self.stats.disconnects
                    for ev in done.events:
                        reason = ev[2]
                        disconnects[reason] = disconnects.get(reason, 0) + 1
            return done

    Metered.__name__ = Metered.__qualname__ = 'Metered' + cls.__name__
    return Metered


_classes: Dict[type, type] = {}


def meter(engine: Any) -> EngineStats:
    """Make ``engine`` count (once: a metered engine keeps its counts).

    Call it before the engine is instrumented (see :mod:`.instrument`), or
    instrument it again after: the hooks installed before wrap the
    engine's methods of that moment.

    Returns:
        Its :class:`EngineStats`.
    """
    stats = engine.stats
    if stats is not None:
        return stats
    cls = type(engine)
    metered = _classes.get(cls)
    if metered is None:
        metered = _classes[cls] = _metered_class(cls)
    engine.stats = stats = EngineStats()
    engine.__class__ = metered
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

