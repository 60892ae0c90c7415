"""What the server engine hands back to adapters, and its options.

:class:`Outcome` (with its kinds) is what :meth:`Engine.handle_http
<engineio_fast.protocol.engine.Engine.handle_http>` and
:meth:`~engineio_fast.protocol.engine.Engine.connect_done` return;
:func:`connect_verdict` reads a connect handler's return value;
:class:`EngineConfig` holds the server options in the engine's units;
:class:`OpenPackets` renders the open packet of a new session.

With the compiled kernels this module is its compiled twin: this source
built by Cython with the attribute types of
``src_pyx/twins/engineio_fast/protocol/_outcome_c.pxd`` (setup.py), whose
names replace these at the end of the module; :class:`Outcome` is then an
extension type (the other classes stay Python classes, compiled).
"""

from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .. import _accel
from .http import Response
from .limits import HandshakeLimiter
from .session import Session, WsLink

#: an engine event: ``('message', sid, data)`` or ``('disconnect', sid,
#: reason)``, dispatched by the adapters to the handlers
Event = Tuple[str, str, Any]

#: the ``ping_interval`` option: seconds, or ``(interval, grace)``
PingInterval = Union[float, Tuple[float, float], List[float]]

#: a connect handler's verdict: ``(accepted, value)`` (see
#: :func:`connect_verdict`)
Verdict = Tuple[bool, Any]

# outcome kinds of Engine.handle_http
RESPOND = 0     # send outcome.response
CONNECT = 1     # run the connect handler, then connect_done
WAIT = 2        # park the GET until the session's poll waker fires
WEBSOCKET = 3   # accept the websocket and run it with outcome.link

# the reasons of disconnect events (the engine's public names)
DISCONNECT_SERVER = 'server disconnect'
DISCONNECT_CLIENT = 'client disconnect'
DISCONNECT_PING_TIMEOUT = 'ping timeout'
DISCONNECT_TRANSPORT_CLOSE = 'transport close'
DISCONNECT_TRANSPORT_ERROR = 'transport error'

#: what Engine.send returns for an item dropped past max_queue_bytes
#: (``queue_overflow='drop'``); the session stays open
DROPPED = 'dropped'


def connect_verdict(ret: Any) -> Verdict:
    """What a connect handler's return value means.

    Args:
        ret: the handler's return value (None when there is no handler).

    Returns:
        ``(accepted, value)``: None and True accept; False refuses; any
        other value refuses and is the JSON body of the 401.
    """
    if ret is None or ret is True:
        return True, None
    if ret is False:
        return False, None
    return False, ret


#: the verdict of a connect handler that raised (or was cancelled)
REFUSED: Verdict = (False, None)


class Outcome:
    """What an adapter must do with an HTTP/websocket request."""

    __slots__ = ('kind', 'response', 'session', 'link', 'events', 'jsonp')

    def __init__(self, kind: int, response: Optional[Response] = None,
                 session: Optional[Session] = None,
                 link: Optional[WsLink] = None,
                 events: Optional[Sequence[Event]] = None,
                 jsonp: Optional[int] = None) -> None:
        #: RESPOND, CONNECT, WAIT or WEBSOCKET
        self.kind = kind
        #: the response to write (RESPOND)
        self.response = response
        #: the session (CONNECT, WAIT, WEBSOCKET)
        self.session = session
        #: the websocket to accept and run (WEBSOCKET; CONNECT on the
        #: websocket transport)
        self.link = link
        #: events for the handlers, dispatched before anything else (after
        #: the answer for the Outcome of ``connect_done``)
        self.events = events
        #: the JSONP index of a polling request
        self.jsonp = jsonp


class EngineConfig:
    """Validated server options, in the units the engine uses."""

    def __init__(self,
                 ping_interval: PingInterval = 25,
                 ping_timeout: float = 20,
                 max_http_buffer_size: int = 1000000,
                 allow_upgrades: bool = True,
                 transports: Union[None, str, Sequence[str]] = None,
                 upgrade_timeout: float = 10.0,
                 max_queue_bytes: Optional[int] = None,
                 close_grace: Optional[float] = None,
                 max_connections: Optional[int] = None,
                 handshake_rate_limit: Optional[Tuple[int, float]] = None,
                 queue_high_water: Optional[int] = None,
                 queue_wait_timeout: float = 10.0,
                 queue_overflow: str = 'disconnect') -> None:
        if isinstance(ping_interval, (tuple, list)):
            self.ping_interval = float(ping_interval[0])
            self.ping_grace = float(ping_interval[1])
        else:
            self.ping_interval = float(ping_interval)
            self.ping_grace = 0.0
        self.ping_timeout = float(ping_timeout)
        if self.ping_interval <= 0 or self.ping_timeout <= 0:
            raise ValueError('ping_interval and ping_timeout must be > 0')
        self.max_http_buffer_size = int(max_http_buffer_size)
        self.allow_upgrades = bool(allow_upgrades)
        valid = ('polling', 'websocket')
        if transports is None:
            transports = list(valid)
        elif isinstance(transports, str):
            transports = [transports]
        for t in transports:
            if t not in valid:
                raise ValueError('Invalid transport')
        self.transports: List[str] = list(transports)
        self.upgrade_timeout = float(upgrade_timeout)
        self.max_queue_bytes = int(max_queue_bytes or
                                   max(16 << 20,
                                       8 * self.max_http_buffer_size))
        if max_connections is not None and (
                isinstance(max_connections, bool) or
                not isinstance(max_connections, int) or max_connections < 1):
            raise ValueError('max_connections must be a positive integer '
                             'or None')
        #: sessions at most at once (None: no bound); see Engine.handle_http
        self.max_connections = max_connections
        #: ``(count, seconds)``: handshakes per client address (None: any)
        if handshake_rate_limit is not None:
            try:
                count, seconds = handshake_rate_limit
            except (TypeError, ValueError):
                raise ValueError('handshake_rate_limit must be (count, '
                                 'seconds)') from None
            HandshakeLimiter(count, seconds)      # checks both
        self.handshake_rate_limit = handshake_rate_limit
        #: bytes queued for a session from which ``send()`` waits (None:
        #: it never waits), how long it waits at most, and what a send
        #: past ``max_queue_bytes`` does ('disconnect' or 'drop')
        if queue_high_water is not None and (
                isinstance(queue_high_water, bool) or
                not isinstance(queue_high_water, int) or
                not 0 < queue_high_water <= self.max_queue_bytes):
            raise ValueError('queue_high_water must be a positive integer '
                             'no larger than max_queue_bytes')
        self.queue_high_water = queue_high_water
        self.queue_wait_timeout = float(queue_wait_timeout)
        if not self.queue_wait_timeout >= 0:
            raise ValueError('queue_wait_timeout must be >= 0')
        if queue_overflow not in ('disconnect', 'drop'):
            raise ValueError("queue_overflow must be 'disconnect' or 'drop'")
        self.queue_overflow = queue_overflow
        self.close_grace = float(close_grace if close_grace is not None
                                 else min(30.0, self.ping_interval +
                                          self.ping_timeout))

    def ms(self, seconds: float) -> int:
        """Milliseconds, exactly (0.3 s -> 300, not python-engineio's 0)."""
        return int(round(seconds * 1000))


class OpenPackets:
    """The open packets of new sessions, as the configured json module
    renders them.

    The part after the sid is rendered once for each ``upgrades`` value
    (sids are url-safe base64: nothing to escape); when the json module
    lays the object out differently, the whole object is rendered each
    time.

    Args:
        config: the server's :class:`EngineConfig`.
        dumps: the compact JSON encoder.
    """

    def __init__(self, config: 'EngineConfig',
                 dumps: Callable[[Any], str]) -> None:
        self.config = config
        self.dumps = dumps
        self._tails: Optional[List[Optional[str]]] = None

    def _object(self, sid: str, upgrades: List[str]) -> Dict[str, Any]:
        c = self.config
        return {
            'sid': sid,
            'upgrades': upgrades,
            'pingInterval': c.ms(c.ping_interval + c.ping_grace),
            'pingTimeout': c.ms(c.ping_timeout),
            'maxPayload': c.max_http_buffer_size,
        }

    def render(self, sid: str, upgrades: List[str]) -> str:
        """The open packet (``0`` + JSON) of the session ``sid``."""
        tails = self._tails
        if tails is None:
            head = '{"sid":"SIDPLACEHOLDER'
            tails = []
            for each in ([], ['websocket']):
                text = self.dumps(self._object('SIDPLACEHOLDER', each))
                tails.append(text[len(head):] if text.startswith(head)
                             else None)
            self._tails = tails
        tail = tails[bool(upgrades)]
        if tail is not None:
            return '0{"sid":"' + sid + tail
        return '0' + self.dumps(self._object(sid, upgrades))


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
