"""Per-session and per-websocket state of the sans-I/O core.

Both classes use ``__slots__`` to keep an idle session small: there is no
task, timer handle or lock per session (one timer heap per server drives the
heartbeat, see :mod:`engineio_fast.protocol.engine`).
"""

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

    def __init__(self, session, is_probe):
        self.session = session
        self.waker = None
        self.out = []          # only used while probing: '3probe'
        self.closing = False
        self.close_code = 1000
        self.is_probe = is_probe

    def wake(self):
        waker = self.waker
        if waker is not None:
            waker()


class Session:
    """One Engine.IO session."""

    __slots__ = ('sid', 'state', 'transport', 'queue', 'queue_bytes',
                 'poll_waker', 'poll_pending', 'ws', 'probe', 'probed',
                 'upgrade_deadline', 'deadline', 'awaiting_pong',
                 'user_session', 'reason', 'final', 'late_until',
                 'probed_at', '__weakref__')

    def __init__(self, sid, transport):
        self.sid = sid
        self.state = CONNECTING
        self.transport = transport
        self.queue = []          # encoded packets (str) and binary (bytes)
        self.queue_bytes = 0
        self.poll_waker = None     # set by the adapter while a GET is parked
        self.poll_pending = False
        self.ws = None             # the active WsLink once on websocket
        self.probe = None          # a WsLink being probed for upgrade
        self.probed = False        # '2probe' answered, waiting for '5'
        self.upgrade_deadline = 0.0
        self.deadline = 0.0
        self.awaiting_pong = False
        self.user_session = {}
        self.reason = None
        self.final = '6'           # a parked GET's answer once CLOSED
        self.late_until = 0.0      # a GET sent mid-upgrade waits until then
        self.probed_at = 0.0       # when '2probe' was answered

    def wake_poll(self):
        waker = self.poll_waker
        if waker is not None:
            self.poll_waker = None
            waker()
