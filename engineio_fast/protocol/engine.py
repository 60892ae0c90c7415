"""The sans-I/O Engine.IO v4 server core.

Every protocol decision lives here: handshake and its errors, polling,
websocket, upgrade, heartbeat, close and its reasons, limits, CORS, cookies,
compression and JSONP. The engine never reads a clock, sleeps, or touches a
socket: adapters pass ``now`` (seconds, monotonic) and a :class:`Request`,
and get back responses, events and deadlines.

Events are tuples ``(name, sid, arg)``: ``('message', sid, data)`` and
``('disconnect', sid, reason)``. Adapters dispatch them to handlers.

Outgoing packets wait in ``Session.queue`` as encoded text packets (str) or
binary messages (bytes). When something is queued the engine calls the
adapter's waker for the transport that will carry it (a parked GET or the
websocket); the adapter then takes the items with :meth:`Engine.take_poll`
or :meth:`Engine.ws_take`.
"""

import logging
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Sequence, Union, cast

from .. import _accel
from . import http as _http
from . import limits as _limits
from . import session as _session
from .outcome import (  # noqa: F401 - the engine's public names
    CONNECT,
    DISCONNECT_CLIENT,
    DISCONNECT_PING_TIMEOUT,
    DISCONNECT_SERVER,
    DISCONNECT_TRANSPORT_CLOSE,
    DISCONNECT_TRANSPORT_ERROR,
    DROPPED,
    REFUSED,
    RESPOND,
    WAIT,
    WEBSOCKET,
    EngineConfig,
    Event,
    OpenPackets,
    Outcome,
    Verdict,
    connect_verdict,
)
from .packets import CLOSE as _CLOSE
from .packets import MESSAGE as _MESSAGE
from .packets import NOOP as _NOOP
from .packets import PONG as _PONG
from .packets import UPGRADE as _UPGRADE
from .packets import Item
from .queues import Queueing
from .session import CLOSED, CLOSING, CONNECTING, OPEN, Session, WsLink

# how Engine._end tells the client (see there)
SERVER_CLOSE = 0
ERROR_CLOSE = 1
QUIET_CLOSE = 2

#: how long a GET sent while the upgrade is under way waits, after
#: ``3probe``, before its noop (the JavaScript server's upgrade check
#: interval); also how long a second websocket opened mid-upgrade stays
#: open before it is closed
LATE_POLL_DELAY = 0.1
# Session.late_until of such a GET sent before '2probe' arrived: its wait
# starts with the probe
_AWAITING_PROBE = float('inf')

_K_BINARY = _accel.KIND_BINARY
_K_JSON = _accel.KIND_JSON
_K_NONE = _accel.KIND_NONE


def _transport_of(req: _http.Request) -> str:
    """The request's transport for a log line: one of the two, else '?'
    (never the client's own text)."""
    transport = req.query.get('transport')
    return transport if transport in ('polling', 'websocket') else '?'


class Engine(Queueing):
    """The Engine.IO server state machine.

    Args:
        config: an :class:`EngineConfig`.
        policy: an :class:`engineio_fast.protocol.http.HttpPolicy`.
        loads: the JSON decoder for message data.
        dumps: the JSON encoder (compact separators) for dict/list data.
        kernels: the kernel set (defaults to the active one).
        logger: where the engine logs what it closes, or None.
    """

    def __init__(self, config: EngineConfig, policy: _http.HttpPolicy,
                 loads: Callable[[str], Any], dumps: Callable[[Any], str],
                 kernels: Optional[_accel.Kernels] = None,
                 logger: Optional[logging.Logger] = None) -> None:
        k = kernels or _accel.active
        self.config = config
        self.policy = policy
        self.loads = loads
        self.dumps = dumps
        self.logger = logger
        self.sessions: _session.SessionTable = k.SessionTable()
        # what every sid minted here starts with: the id of the process
        # that owns it, set by the server (engineio_fast/cluster/node.py)
        self.sid_prefix = ''
        # sid -> Session closed by the server whose close packet waits for
        # the client's next GET (or its '5' on the probe; see _end)
        self.closing: Dict[str, Session] = {}
        self.timers: _session.TimerHeap = k.TimerHeap()
        # the adapter's callback(deadline) when an earlier one is scheduled
        self.timer_hook: Optional[Callable[[float], Any]] = None
        self._k = k
        self._decode_value = k.decode_value
        self._encode_payload = k.encode_payload
        self._jsonp_wrap = k.jsonp_wrap
        self._ping_interval = config.ping_interval
        self._ping_timeout = config.ping_timeout
        self._max_size = config.max_http_buffer_size
        self._max_queue = config.max_queue_bytes
        # the sizes above which a websocket message or a send takes the
        # slower path: the bounds when metrics are off; when on, the
        # high-water marks so far (see .stats.meter), so that following
        # them costs no test of its own
        self._size_watch = self._max_size
        self._queue_watch = self._max_queue
        #: queued bytes from which a sender waits (see :meth:`wait_drain`);
        #: past any queue when the option is off
        self.high_water = config.queue_high_water or (1 << 62)
        self._drop = config.queue_overflow == 'drop'
        limit = config.handshake_rate_limit
        #: per-address handshake buckets (the address the adapter puts in
        #: the environ's REMOTE_ADDR: the proxy's client when the server
        #: trusts its headers), or None
        self._limiter = (_limits.HandshakeLimiter(*limit)
                         if limit is not None else None)
        # seconds an open session has to call joined() (0: no such rule):
        # an application protocol over this one (Socket.IO: the client must
        # connect to a namespace, the JavaScript server's connectTimeout)
        self.join_timeout = 0.0
        # the latest time an adapter passed in: used by calls that come from
        # the application (send) rather than from I/O, so they need no clock
        self.now = 0.0
        self._open = OpenPackets(config, dumps)
        # what renders a poll's answer (protocol.instrument may shadow it,
        # and _ok, _post, _ping and the ws_* methods, on an instance)
        self._reply = policy.text
        #: the :class:`.stats.EngineStats` this engine counts in, or None
        #: (metrics off: the default; see :func:`.stats.meter`). Each
        #: counting step is one test of it when off.
        self.stats: Any = None

    # ------------------------------------------------------------------
    # rejections
    def _reject(self, req: _http.Request, code: int,
                message: Optional[str] = None, status: int = 400,
                detail: str = '') -> _http.Response:
        """The error response of a request the engine refuses (see
        :meth:`_refusal`); ``detail``: why, when the message is the generic
        'Bad request'."""
        self._refusal(req, status, message or _http.ERROR_MESSAGES[code],
                      detail)
        return self.policy.error(req, code, message, status)

    def _refused(self, req: _http.Request, value: Any) -> _http.Response:
        """The 401 of a connection its connect handler refused."""
        self._refusal(req, 401, 'Unauthorized', 'by the connect handler')
        return self.policy.unauthorized(req, value)

    def _refusal(self, req: _http.Request, status: int, cause: str,
                 detail: str) -> None:
        """A refused request, logged at INFO on the server's logger (one
        line per request, with its cause: the error body's message) and
        counted by cause when metered. Every refusal of every server goes
        through here."""
        logger = self.logger
        if logger is not None and logger.isEnabledFor(logging.INFO):
            logger.info('%s %s refused (%d %s)%s', req.method,
                        _transport_of(req), status, cause,
                        ': ' + detail if detail else '')
        st = self.stats
        if st is not None:
            st.refused(cause)

    # ------------------------------------------------------------------
    # timers

    def set_ping(self, ping_interval: Optional[float] = None,
                 ping_timeout: Optional[float] = None) -> None:
        """Change ``ping_interval`` / ``ping_timeout`` (seconds, > 0; None
        keeps the current value; the interval's grace period stays) for
        the sessions opened from now on: what a server's own options give
        before it serves (the built-in server's ``--ws-ping-interval`` /
        ``--ws-ping-timeout``).

        Raises:
            ValueError: a value is not > 0.
        """
        config = self.config
        for value in (ping_interval, ping_timeout):
            if value is not None and not value > 0:
                raise ValueError('ping_interval and ping_timeout must be '
                                 '> 0, not %r' % (value,))
        if ping_interval is not None:
            config.ping_interval = float(ping_interval)
        if ping_timeout is not None:
            config.ping_timeout = float(ping_timeout)
        self._ping_interval = config.ping_interval
        self._ping_timeout = config.ping_timeout
        self._open = OpenPackets(config, self._open.dumps)

    def _schedule(self, when: float, session: Union[Session, WsLink]) -> None:
        timers = self.timers
        first = timers.next_deadline()
        timers.push(when, session)
        if (first is None or when < first) and self.timer_hook is not None:
            self.timer_hook(when)

    def next_deadline(self) -> Optional[float]:
        """The earliest time :meth:`tick` has work to do, or None."""
        return self.timers.next_deadline()

    def tick(self, now: float) -> List[Event]:
        """Run due heartbeats, ping timeouts, upgrade timeouts and the
        expiry of closed polling sessions. Returns events."""
        self.now = now
        events: List[Event] = []
        for s in self.timers.pop_due(now):
            if s.__class__ is WsLink:
                # a second websocket opened mid-upgrade: its time is up
                s.closing = True
                s.wake()
                continue
            state = s.state
            if state == CLOSING:
                if now >= s.deadline:
                    self._finish_closing(s)
                continue
            if state != OPEN:
                continue
            if s.join_by and now >= s.join_by:
                # never joined (see joined()): the server ends it
                s.join_by = 0.0
                events.append(self._end(s, DISCONNECT_SERVER, now,
                                        SERVER_CLOSE))
                continue
            if s.late_until and now >= s.late_until:
                # a GET sent mid-upgrade has waited long enough: noop
                s.wake_poll()
            probe = s.probe
            if probe is not None and now >= s.upgrade_deadline:
                self._abort_probe(s)
            if now >= s.deadline:
                if s.awaiting_pong:
                    events.append(self._end(s, DISCONNECT_PING_TIMEOUT, now))
                else:
                    s.awaiting_pong = True
                    s.deadline = now + self._ping_timeout
                    self._schedule(s.deadline, s)
                    self._ping(s)
        return events

    @staticmethod
    def joined(session: Session) -> None:
        """The application protocol over this one heard from the client in
        time (see :attr:`join_timeout`): the session stays."""
        session.join_by = 0.0

    def send_ping(self, session: Session) -> None:
        """Queue a ping for ``session`` if it is open (the heartbeat
        decides when: :meth:`tick`)."""
        if session.state == OPEN:
            self._enqueue(session, '2')

    _ping = send_ping

    def get(self, sid: str) -> Optional[Session]:
        """The open (or connecting) session for ``sid``, or None."""
        return self.sessions.get(sid)

    # ------------------------------------------------------------------
    # closing
    def _close(self, s: Session, reason: str, now: float,
               how: int = ERROR_CLOSE) -> Optional[Event]:
        """As :meth:`_end`, but None while its connect handler runs."""
        if s.state != CONNECTING:
            return self._end(s, reason, now, how)
        self.sessions.remove(s.sid)
        s.reason = reason
        s.state = CLOSED
        s.queue.clear()
        s.queue_bytes = 0
        self._drained(s)
        return None

    def _end(self, s: Session, reason: str, now: float,
             how: int = ERROR_CLOSE) -> Event:
        """Close ``s`` (open) for the application: its disconnect event.

        ``how`` says what the client is told:

        - :data:`SERVER_CLOSE` (the application's ``disconnect()``, the
          server's shutdown): what is queued, then the close packet, on
          the websocket, on the parked GET, or, with no GET parked, on
          the client's next GET (within ``close_grace``); a probe already
          answered with ``3probe`` may carry them instead. Only that GET
          finds the sid, every other request gets the unknown-sid 400.
          This is what the JavaScript server (and python-engineio) do: a
          polling client is always between two GETs for a moment, and a
          close that left nothing for its next one would reach it as a
          400, a transport error, instead of the server's close.
        - :data:`ERROR_CLOSE`: the sid is gone at once; a parked GET gets
          ``1``, a websocket ``1`` and a close frame; nothing is kept.
        - :data:`QUIET_CLOSE` (the client closed, or its transport is
          gone): the sid is gone at once; a parked GET gets ``6``, a
          websocket just a close frame.
        """
        self.sessions.remove(s.sid)
        s.reason = reason
        ev = ('disconnect', s.sid, reason)
        st = self.stats
        if st is not None:
            st.disconnected(reason)
        # senders waiting on its queue: what they run next finds it ended
        # (their wakers only schedule them)
        self._drained(s)
        if s.transport == 'polling':
            if how == SERVER_CLOSE:
                # A probe already answered with '3probe' stays open while
                # the session closes: the client may have paused polling
                # for good and be about to send '5' there, so the close
                # packet may only reach it over that websocket.
                if s.probe is not None and not s.probed:
                    self._abort_probe(s)
                s.state = CLOSING
                s.queue.append('1')
                s.queue_bytes += 1
                self.closing[s.sid] = s
                s.deadline = now + self.config.close_grace
                self._schedule(s.deadline, s)
                s.wake_poll()
                return ev
            final = '6' if how == QUIET_CLOSE else '1'
            if s.probe is not None:
                self._abort_probe(s)
            s.state = CLOSED
            s.queue.clear()
            s.queue_bytes = 0
            s.final = final
            s.wake_poll()
            return ev
        s.state = CLOSED
        if how == QUIET_CLOSE:
            s.queue.clear()
            s.queue_bytes = 0
        else:
            s.queue.append('1')
        s.wake_poll()   # a GET held just after the upgrade gets its 400
        ws = s.ws
        if ws is not None:
            ws.closing = True
            ws.wake()
        return ev

    def _finish_closing(self, s: Session) -> None:
        s.state = CLOSED
        s.queue.clear()
        s.queue_bytes = 0
        self._drained(s)
        self.closing.pop(s.sid, None)
        if s.probe is not None:
            self._abort_probe(s)
        s.wake_poll()

    def close(self, session: Session, reason: str = DISCONNECT_SERVER,
              now: float = 0.0) -> Optional[Event]:
        """Close a session from the server side: its queue and the close
        packet go out on the websocket, the parked GET or the client's next
        one (see :meth:`_end`).

        Returns:
            Its disconnect event, or None if it was already closed or its
            connect handler is still running (the handshake then ends
            with the close packet and the event comes after the handler).
        """
        if session.state > OPEN:
            return None
        return self._close(session, reason, now, SERVER_CLOSE)

    def close_all(self, reason: str = DISCONNECT_SERVER,
                  now: float = 0.0) -> List[Event]:
        """Close every session as :meth:`close` does; returns their
        disconnect events."""
        events: List[Event] = []
        for s in self.sessions.values():
            if s.state <= OPEN:
                ev = self._close(s, reason, now, SERVER_CLOSE)
                if ev is not None:
                    events.append(ev)
        return events

    # ------------------------------------------------------------------
    # handshake
    def connect_done(self, out: Outcome, req: _http.Request, verdict: Verdict,
                     now: float) -> Outcome:
        """Complete a handshake once its connect handler gave a verdict.

        Args:
            out: the :data:`CONNECT` outcome of :meth:`handle_http`.
            req: the handshake :class:`Request`.
            verdict: ``(accepted, value)`` from :func:`connect_verdict`.
            now: the current time.

        Returns:
            An :class:`Outcome`: :data:`RESPOND` with the polling
            handshake, or with the 401 of a refusal on either transport
            (nothing else happens then); :data:`WEBSOCKET` to accept the
            websocket and run ``out.link`` (its first frame is the open
            packet). A session closed while its handler ran is answered
            with the open packet and then the close packet, its sid is
            then unknown, and ``events`` holds its disconnect event, to be
            dispatched after the connect handler (an accepted connection
            gets exactly one disconnect, a refused one none).
        """
        s = cast(Session, out.session)    # set in every CONNECT outcome
        accepted, value = verdict
        if not accepted:
            self.sessions.remove(s.sid)
            s.state = CLOSED
            s.queue.clear()
            s.queue_bytes = 0
            return Outcome(RESPOND, self._refused(req, value))
        st = self.stats
        if st is not None:
            st.handshakes[s.transport] += 1
        if s.state == CONNECTING:
            s.state = OPEN
            s.deadline = now + self._ping_interval
            self._schedule(s.deadline, s)
            if self.join_timeout > 0:
                s.join_by = now + self.join_timeout
                self._schedule(s.join_by, s)
            events = None
        else:
            # closed by the application while its handler ran
            s.queue = ['1']
            s.queue_bytes = 1
            events = [('disconnect', s.sid, s.reason)]
            if st is not None:
                st.disconnected(s.reason)
        if s.transport == 'websocket':
            opening = self._open.render(s.sid, [])
            s.queue.insert(0, opening)
            s.queue_bytes += len(opening)
            if events is not None:
                cast(WsLink, out.link).closing = True
            return Outcome(WEBSOCKET, session=s, link=out.link,
                           events=events)
        upgrades = (['websocket'] if self.config.allow_upgrades and
                    'websocket' in self.config.transports else [])
        items: List[Item] = [self._open.render(s.sid, upgrades)]
        items.extend(s.queue)
        s.queue = []
        s.queue_bytes = 0
        return Outcome(RESPOND, self._reply(
            req, self._encode_payload(items), out.jsonp,
            self.policy.sid_cookie(s.sid), self._jsonp_wrap), events=events)

    # ------------------------------------------------------------------
    # HTTP entry point
    def handle_http(self, req: _http.Request, now: float) -> Outcome:
        """Decide what to do with one request. Returns an :class:`Outcome`.
        """
        self.now = now
        policy = self.policy
        q = req.query
        method = req.method
        if not policy.origin_allowed(req):
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST, 'Not an accepted origin'))
        if method == 'OPTIONS' and not req.is_websocket:
            headers = policy.cors_headers(req)
            headers.append(('Content-Type', _http.TEXT_PLAIN))
            return Outcome(RESPOND, _http.Response(200, headers, b''))
        if method not in ('GET', 'POST'):
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_HANDSHAKE_METHOD))
        if q.get('EIO') != '4':
            return Outcome(RESPOND, self._reject(
                req, _http.UNSUPPORTED_PROTOCOL_VERSION))
        transport = q.get('transport')
        if transport not in ('polling', 'websocket') or \
                transport not in self.config.transports:
            return Outcome(RESPOND, self._reject(
                req, _http.UNKNOWN_TRANSPORT))
        j = q.get('j')
        jsonp = None
        if j is not None:
            if transport != 'polling' or not j.isdigit() or len(j) > 9:
                return Outcome(RESPOND, self._reject(
                    req, _http.BAD_REQUEST, detail='bad JSONP index'))
            jsonp = int(j)
        if transport == 'websocket' and not req.is_websocket:
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST,
                detail='websocket transport without a websocket upgrade'))
        if req.is_websocket and transport != 'websocket':
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST,
                detail='websocket upgrade for the polling transport'))
        sid = q.get('sid')
        if sid is None:
            if method != 'GET':
                return Outcome(RESPOND, self._reject(
                    req, _http.BAD_HANDSHAKE_METHOD))
            limit = self.config.max_connections
            if limit is not None and len(self.sessions) >= limit:
                # full: refused before anything is made, on either
                # transport (a websocket gets it instead of its 101)
                return Outcome(RESPOND, self._reject(
                    req, _http.FORBIDDEN, 'Too many connections', 503,
                    '%d sessions open' % limit))
            limiter = self._limiter
            if limiter is not None and not limiter.allow(
                    req.environ.get('REMOTE_ADDR'), now):
                return Outcome(RESPOND, self._reject(
                    req, _http.FORBIDDEN, 'Too many handshakes', 429,
                    'from %s' % req.environ.get('REMOTE_ADDR')))
            return self._new_session(req, transport, jsonp)
        s = self.sessions.get(sid)
        if s is None:
            s = self.closing.get(sid)
            if s is not None and transport == 'polling':
                if method == 'GET' and not s.poll_pending:
                    # the close packet of a server-closed session goes out
                    # on its next GET (see _end)
                    return self._poll(s, req, jsonp, now)
                if method == 'POST':
                    # sent before the client learnt of the close: taken
                    # and dropped, as the JavaScript server does (a 400
                    # would end the client with an error, not the close)
                    return Outcome(RESPOND, self._ok(req))
            return Outcome(RESPOND, self._reject(req, _http.UNKNOWN_SID))
        if s.awaiting_pong and now >= s.deadline and s.state == OPEN:
            # its pong is overdue: it is closed now, whether or not the
            # adapter's timer has run yet (a late timer must not change
            # what a request finds)
            return Outcome(RESPOND, self._reject(
                req, _http.UNKNOWN_SID, detail='ping timeout'),
                           events=[self._end(s, DISCONNECT_PING_TIMEOUT, now)])
        if s.state != OPEN:
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST, detail='session not open'))
        if transport == 'websocket':
            return self._upgrade_request(s, req, now)
        if s.transport != 'polling':
            hold = s.probed_at + LATE_POLL_DELAY
            if method == 'GET' and now < hold and not s.poll_pending:
                # upgraded a moment ago: this GET gets its 400 when a GET
                # sent mid-upgrade would, not sooner, so that it cannot
                # reach the client before the '3probe' the websocket
                # carried (an ASGI server may read the websocket's '2probe'
                # and '5' late, right before this GET)
                s.poll_pending = True
                s.late_until = hold
                self._schedule(hold, s)
                return Outcome(WAIT, session=s, jsonp=jsonp)
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST,
                detail='polling request for an upgraded session'))
        if method == 'GET':
            if s.poll_pending:
                ev = self._end(s, DISCONNECT_TRANSPORT_ERROR, now)
                return Outcome(RESPOND, self._reject(
                    req, _http.BAD_REQUEST,
                    detail='overlapping poll, session closed'), events=[ev])
            return self._poll(s, req, jsonp, now)
        return self._post(s, req, now, jsonp)

    def _new_session(self, req: _http.Request, transport: str,
                     jsonp: Optional[int]) -> Outcome:
        sid = self.sessions.new_sid(self.sid_prefix)
        s = Session(sid, transport)
        self.sessions.add(sid, s)
        if transport == 'websocket':
            link = WsLink(s, False)
            s.ws = link
            return Outcome(CONNECT, session=s, link=link, jsonp=jsonp)
        return Outcome(CONNECT, session=s, jsonp=jsonp)

    # ------------------------------------------------------------------
    # polling
    def _poll(self, s: Session, req: _http.Request, jsonp: Optional[int],
              now: float) -> Outcome:
        s.poll_pending = True
        if s.probe is not None and not s.queue:
            # sent while the upgrade is under way: the client may have sent
            # '2probe' and '5' already and this GET overtaken them inside
            # the server. Its noop comes LATE_POLL_DELAY after '3probe', as
            # the JavaScript server's upgrade check does; if the upgrade
            # completes first, it gets the 400 of a GET after the upgrade.
            if s.probed:
                s.late_until = now + LATE_POLL_DELAY
                self._schedule(s.late_until, s)
            else:
                s.late_until = _AWAITING_PROBE
            return Outcome(WAIT, session=s, jsonp=jsonp)
        resp = self.take_poll(s, req, jsonp)
        if resp is not None:
            return Outcome(RESPOND, resp)
        return Outcome(WAIT, session=s, jsonp=jsonp)

    def take_poll(self, s: Session, req: _http.Request,
                  jsonp: Optional[int] = None) -> Optional[_http.Response]:
        """The response for a parked (or new) GET, or None to keep waiting.

        Call it after the session's poll waker fired; it clears the pending
        flag when it returns a response.
        """
        if s.transport != 'polling':
            if s.late_until:
                if self.now < s.late_until and s.state == OPEN:
                    # woken before its time (adapters may look again at
                    # any moment): it keeps waiting
                    return None
                # sent mid-upgrade, answered after it: the 400 of any GET
                # for an upgraded sid
                s.late_until = 0.0
                s.poll_pending = False
                s.poll_waker = None
                return self._reject(
                    req, _http.BAD_REQUEST,
                    detail='polling request for an upgraded session')
            # parked before the upgrade: ends with a noop
            text = '6'
        elif s.state == CLOSED:
            # '1' after an error close, '6' after the client's close
            text = s.final
        elif s.queue:
            items = s.queue
            s.queue = []
            s.queue_bytes = 0
            if s.drain_waiters is not None:
                self._drained(s)
            text = self._encode_payload(items)
            if s.state == CLOSING:
                self._finish_closing(s)
        elif s.probed and (not s.late_until or self.now >= s.late_until):
            text = '6'
        else:
            return None
        s.late_until = 0.0
        s.poll_pending = False
        s.poll_waker = None
        return self._reply(req, text, jsonp, None, self._jsonp_wrap)

    def poll_aborted(self, s: Session) -> None:
        """The adapter gave up on a parked GET without knowing why."""
        s.poll_pending = False
        s.poll_waker = None
        s.late_until = 0.0

    def poll_lost(self, s: Session, now: float) -> Sequence[Event]:
        """The connection of a parked GET closed under it: the transport is
        gone, so the session ends with 'transport error' (as the JavaScript
        server does). Returns events."""
        s.poll_pending = False
        s.poll_waker = None
        s.late_until = 0.0
        if s.state == OPEN and s.transport == 'polling':
            return [self._end(s, DISCONNECT_TRANSPORT_ERROR, now)]
        return ()

    def post_lost(self, req: _http.Request, now: float) -> Outcome:
        """The connection of a POST ended before its body did (the
        JavaScript server's "data request connection closed
        prematurely"): nothing of the body counts, and the session ends
        with 'transport error' (a parked GET gets ``1``).

        Returns:
            An :class:`Outcome` with a 400 (for the logs: the client is
            gone) and the events to dispatch.
        """
        self.now = now
        sid = req.query.get('sid')
        s = self.sessions.get(sid) if sid else None
        events = None
        if s is not None and s.state == OPEN and s.transport == 'polling':
            events = [self._end(s, DISCONNECT_TRANSPORT_ERROR, now)]
        return Outcome(RESPOND, self.policy.error(req, _http.BAD_REQUEST),
                       events=events)

    def _post(self, s: Session, req: _http.Request, now: float,
              jsonp: Optional[int]) -> Outcome:
        body = req.body
        if body is None:
            body = b''
        if req.too_large or len(body) > self._max_size:
            ev = self._end(s, DISCONNECT_TRANSPORT_ERROR, now)
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST, 'Payload too large'), events=[ev])
        try:
            text = body.decode('utf-8') if not isinstance(body, str) \
                else body
            if jsonp is not None or text.startswith('d='):
                form = urllib.parse.parse_qs(text, max_num_fields=4)
                text = form['d'][0]
            packets = [self._decode_value(p, self.loads)
                       for p in self._k.split_payload(text)]
        except (ValueError, KeyError, IndexError):
            ev = self._end(s, DISCONNECT_TRANSPORT_ERROR, now)
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST, detail='malformed payload'),
                events=[ev])
        st = self.stats
        if st is not None:
            st.received(len(body), packets)
        events = []
        for ptype, data, _binary in packets:
            if ptype == _MESSAGE:
                events.append(('message', s.sid, data))
            elif ptype == _PONG:
                self._pong(s, now)
            elif ptype == _CLOSE:
                events.append(self._end(s, DISCONNECT_CLIENT, now,
                                          QUIET_CLOSE))
                break
            elif ptype == _NOOP:
                continue
            else:
                events.append(self._end(s, DISCONNECT_TRANSPORT_ERROR, now))
                return Outcome(RESPOND, self._reject(
                    req, _http.BAD_REQUEST,
                    detail='packet type %d in a POST' % ptype),
                    events=events)
        return Outcome(RESPOND, self._ok(req), events=events)

    def _ok(self, req: _http.Request) -> _http.Response:
        """The answer to a POST that was taken."""
        headers = [('Content-Type', _http.POST_OK_TYPE)]
        headers += self.policy.cors_headers(req)
        return _http.Response(200, headers, _http.POST_OK_BODY)

    def _pong(self, s: Session, now: float) -> None:
        if s.awaiting_pong:
            s.awaiting_pong = False
            s.deadline = now + self._ping_interval
            self._schedule(s.deadline, s)

    # ------------------------------------------------------------------
    # websocket
    def _upgrade_request(self, s: Session, req: _http.Request,
                         now: float) -> Outcome:
        if s.transport != 'polling' or s.probe is not None:
            # upgraded or upgrading already: the JavaScript server accepts
            # this websocket (101) and closes it at once, without a status
            # (a 400 would surface as an error, not a close, in clients);
            # the first websocket goes on
            link = WsLink(s, False)
            link.close_code = None
            if s.probe is not None:
                # mid-upgrade the first websocket's '2probe' may not have
                # been read yet (inside an ASGI server a later connection
                # can overtake it): closed a little later, so that the
                # client gets its '3probe' first, as from the JavaScript
                # server, which reads in arrival order
                self._schedule(now + LATE_POLL_DELAY, link)
            else:
                link.closing = True
            return Outcome(WEBSOCKET, session=s, link=link)
        if not self.config.allow_upgrades:
            return Outcome(RESPOND, self._reject(
                req, _http.BAD_REQUEST, detail='upgrades not allowed'))
        link = WsLink(s, True)
        s.probe = link
        s.probed = False
        s.upgrade_deadline = now + self.config.upgrade_timeout
        self._schedule(s.upgrade_deadline, s)
        return Outcome(WEBSOCKET, session=s, link=link)

    def _abort_probe(self, s: Session) -> None:
        link = s.probe
        s.probe = None
        s.probed = False
        s.late_until = 0.0
        if link is not None:
            link.closing = True
            link.wake()

    def ws_take(self, link: WsLink) -> Sequence[Item]:
        """Items to write on ``link`` now (str: text frame, bytes: binary
        frame). After writing them, close the socket if ``link.closing``.
        """
        if link.is_probe:
            out = link.out
            link.out = []
            return out
        s = link.session
        if s.ws is not link or not s.queue:
            return ()
        items = s.queue
        s.queue = []
        s.queue_bytes = 0
        if s.drain_waiters is not None:
            self._drained(s)
        return items

    def ws_receive(self, link: WsLink, data: Union[str, bytes],
                   now: float) -> Sequence[Event]:
        """Handle one websocket message (str or bytes). Returns events.

        A message that ends the link sets ``link.closing``.
        """
        self.now = now
        s = link.session
        if link.is_probe:
            return self._probe_receive(link, s, data, now)
        if s.ws is not link or s.state != OPEN:
            return ()
        if s.awaiting_pong and now >= s.deadline:
            # the pong is overdue (see handle_http): closed before this
            # message counts
            return [self._end(s, DISCONNECT_PING_TIMEOUT, now)]
        n = len(data)
        if n > self._size_watch:
            if n > self._max_size:
                link.close_code = 1009
                return [self._end(s, DISCONNECT_TRANSPORT_ERROR, now,
                                  QUIET_CLOSE)]
            st = self.stats     # metered (see .stats.meter)
            if n > st.max_packet:
                st.max_packet = n
            self._size_watch = st.max_packet
        try:
            ptype, value, _binary = self._decode_value(data, self.loads)
        except ValueError:
            link.close_code = 1002
            return [self._end(s, DISCONNECT_TRANSPORT_ERROR, now, QUIET_CLOSE)]
        if ptype == _MESSAGE:
            st = self.stats
            if st is not None:
                st.messages_in += 1
                st.bytes_in += n
            return [('message', s.sid, value)]
        if ptype == _PONG:
            self._pong(s, now)
            return ()
        if ptype == _CLOSE:
            return [self._end(s, DISCONNECT_CLIENT, now, QUIET_CLOSE)]
        if ptype == _NOOP or ptype == _UPGRADE:
            return ()
        link.close_code = 1002
        return [self._end(s, DISCONNECT_TRANSPORT_ERROR, now, QUIET_CLOSE)]

    def _probe_receive(self, link: WsLink, s: Session,
                       data: Union[str, bytes], now: float) -> Sequence[Event]:
        if s.probe is not link:
            link.closing = True
            return ()
        if s.state != OPEN:
            if s.state == CLOSING and data == '5' and s.probed:
                # closed by the server mid-upgrade: the close packet waiting
                # in the queue goes out over the new transport, then the
                # socket closes
                link.closing = True
                s.state = CLOSED
                self.closing.pop(s.sid, None)
                self._switch(s, link)
                return ()
            self._abort_probe(s)
            return ()
        if data == '2probe' and not s.probed:
            s.probed = True
            s.probed_at = now
            link.out.append('3probe')
            link.wake()
            if s.late_until:
                # a GET sent after the probe websocket opened: its noop
                # comes later (see _poll)
                s.late_until = now + LATE_POLL_DELAY
                self._schedule(s.late_until, s)
            else:
                s.wake_poll()   # a GET parked before ends with a noop
            return ()
        if data == '5' and s.probed:
            self._switch(s, link)
            if self.stats is not None:
                self.stats.upgrades += 1
            return ()
        # anything else aborts the upgrade; the session stays on polling
        self._abort_probe(s)
        return ()

    @staticmethod
    def _switch(s: Session, link: WsLink) -> None:
        """The upgrade: from here on the queue drains to the websocket."""
        s.probe = None
        s.probed = False
        link.is_probe = False
        if link.out:
            # '3probe' not written yet ('5' came in the same read)
            s.queue[0:0] = link.out
            s.queue_bytes += sum(len(item) for item in link.out)
            link.out = []
        s.ws = link
        s.transport = 'websocket'
        if not s.late_until:
            s.wake_poll()   # a parked GET ends with a noop
        # else a GET sent mid-upgrade gets its 400 when its wait ends, not
        # now: answered at once it could reach the client before the
        # '3probe' the websocket carries (the official suite reads them in
        # that order)
        link.wake()

    def ws_closed(self, link: WsLink, now: float,
                  error: bool = False) -> Sequence[Event]:
        """The adapter's websocket closed: by the peer, or (``error``)
        because the adapter failed it for a protocol violation."""
        # Nothing wakes a closed socket: the link lets go of the adapter
        # (and through it the server's connection and its buffers), which a
        # session still in the timer heap would otherwise keep alive until
        # its next deadline.
        link.waker = None
        s = link.session
        if link.is_probe:
            if s.probe is link:
                # (a server-closed session's close packet still waits for
                # the next GET)
                s.probe = None
                s.probed = False
                s.late_until = 0.0
            return ()
        if s.ws is link and s.state <= OPEN:
            reason = (DISCONNECT_TRANSPORT_ERROR if error
                      else DISCONNECT_TRANSPORT_CLOSE)
            ev = self._close(s, reason, now, QUIET_CLOSE)
            return [ev] if ev is not None else ()
        return ()


# the compiled twin's names, when it is there (setup.py's TWINS: this
# source built by Cython with the attribute types of
# src_pyx/twins/engineio_fast/protocol/_engine_c.pxd, so Engine is an
# extension type whose base is the queues twin's Queueing; the twin reads
# its own globals: LATE_POLL_DELAY is patched there)
_TWIN = _accel.adopt_twin(globals())
