"""Per-session and per-websocket state of the sans-I/O core.

Both classes use ``__slots__`` to keep an idle session small: there is no
task, timer handle or lock per session (one timer heap per server drives the
heartbeat, see :mod:`engineio_fast.protocol.engine`).

:class:`SessionTable` and :class:`TimerHeap` are the interfaces of the
kernels' session table and timer heap as the engine uses them.
"""

from typing import Any, Callable, Dict, List, Optional, Protocol

from .. import _accel
from .packets import Item

CONNECTING = 0   # handshake accepted, connect handler not finished yet
OPEN = 1
CLOSING = 2      # closed for the application; a close packet awaits a poll
CLOSED = 3       # gone: its sid is unknown to every later request


class WsLink:
    """One accepted websocket connection as the core sees it.

    The adapter that owns the socket sets :attr:`waker` (a zero-argument
    callable, idempotent) and, whenever it is called, asks the engine for
    the items to write with :meth:`Engine.ws_take`. ``closing`` tells the
    adapter to close the socket (with ``close_code``; None means a close
    frame without a status code) once it has written what it took.
    """

    __slots__ = ('session', 'waker', 'out', 'closing', 'close_code',
                 'is_probe')

    def __init__(self, session: 'Session', is_probe: bool) -> None:
        self.session = session
        self.waker: Optional[Callable[[], None]] = None
        self.out: List[Item] = []   # only used while probing: '3probe'
        self.closing = False
        self.close_code: Optional[int] = 1000
        self.is_probe = is_probe

    def wake(self) -> None:
        """Call the adapter's :attr:`waker`, if it set one."""
        waker = self.waker
        if waker is not None:
            waker()


class Session:
    """One Engine.IO session."""

    __slots__ = ('sid', 'state', 'transport', 'queue', 'queue_bytes',
                 'poll_waker', 'poll_pending', 'ws', 'probe', 'probed',
                 'upgrade_deadline', 'deadline', 'awaiting_pong',
                 'user_session', 'reason', 'final', 'late_until',
                 'probed_at', 'join_by', 'drain_waiters', 'dropped',
                 '__weakref__')

    def __init__(self, sid: str, transport: str) -> None:
        self.sid = sid
        self.state = CONNECTING
        self.transport = transport
        # encoded packets (str) and binary messages (bytes)
        self.queue: List[Item] = []
        self.queue_bytes = 0
        # set by the adapter while a GET is parked
        self.poll_waker: Optional[Callable[[], None]] = None
        self.poll_pending = False
        self.ws: Optional[WsLink] = None     # the active one on websocket
        self.probe: Optional[WsLink] = None  # one probed for the upgrade
        self.probed = False        # '2probe' answered, waiting for '5'
        self.upgrade_deadline = 0.0
        self.deadline = 0.0
        self.awaiting_pong = False
        self.user_session: Dict[str, Any] = {}
        self.reason: Optional[str] = None
        self.final = '6'           # a parked GET's answer once CLOSED
        self.late_until = 0.0      # a GET sent mid-upgrade waits until then
        self.probed_at = 0.0       # when '2probe' was answered
        self.join_by = 0.0         # Engine.join_timeout's deadline (0: none)
        # callbacks of senders waiting for the queue to be taken (see
        # Engine.wait_drain), or None
        self.drain_waiters: Optional[List[Callable[[], None]]] = None
        self.dropped = 0           # items dropped past max_queue_bytes

    def wake_poll(self) -> None:
        """Call (and clear) the adapter's :attr:`poll_waker`, if set."""
        waker = self.poll_waker
        if waker is not None:
            self.poll_waker = None
            waker()


class SessionTable(Protocol):
    """The kernels' session table (``SessionTable`` in ``_speedups`` and
    ``_pure.sessions``): sid to :class:`Session`."""

    def __len__(self) -> int: ...
    def __contains__(self, sid: object) -> bool: ...
    def get(self, sid: str) -> Optional[Session]: ...
    def add(self, sid: str, session: Session) -> None: ...
    def remove(self, sid: str) -> Optional[Session]: ...
    def sids(self) -> List[str]: ...
    def values(self) -> List[Session]: ...
    def new_sid(self, prefix: str = ...) -> str: ...


class TimerHeap(Protocol):
    """The kernels' timer heap (``TimerHeap``): the engine pushes sessions
    (their heartbeat, upgrade and close deadlines) and websocket links (a
    second websocket's close)."""

    def __len__(self) -> int: ...
    def push(self, when: float, item: Any) -> None: ...
    def next_deadline(self) -> Optional[float]: ...
    def pop_due(self, now: float) -> List[Any]: ...
    def clear(self) -> None: ...


# the compiled twin's names, when it is there (setup.py's TWINS: this
# source built by Cython with the attribute types of
# src_pyx/twins/engineio_fast/protocol/_session_c.pxd, so WsLink and
# Session are extension types the twins of queues.py and engine.py read as
# C structs)
_TWIN = _accel.adopt_twin(globals())
