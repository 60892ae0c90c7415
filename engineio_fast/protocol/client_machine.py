"""The sans-I/O Engine.IO v4 client: one state machine for both clients.

:class:`ClientMachine` makes every protocol decision of a client session:
the URLs it requests, the checks on the server's open packet, what each
incoming packet means, the websocket probe and switch, the heartbeat
deadline, and why the session ended. It never reads a clock, sleeps or
touches a socket: the I/O layers (:mod:`engineio_fast.client` with threads,
:mod:`engineio_fast.async_client` with asyncio) tell it what happened
(*events*: method calls, with ``now`` where time matters) and perform what
it returns (*actions*: a list of ``(kind, argument)`` tuples).

States::

    CONNECTING --handshake--> POLLING --begin_upgrade--> UPGRADING
        |                        ^                          |
        |                        +------- probe_failed -----+
        +------handshake-------> WEBSOCKET <--- switched ---+
    any state --close (server, client, error, heartbeat)--> CLOSED

The probe follows the JavaScript client (engine.io-client 6): open the
websocket, send ``2probe``, read ``3probe``, pause polling (the GET and
POST in flight finish and no new one starts), send ``5``, make the websocket
the session's transport and flush what was queued for polling over it. A
probe that fails in any step is dropped and the session stays on polling.

Outgoing packets are *items*: an encoded text packet (str) or a binary
message (bytes). Incoming packets decode with the text-data rule of
PROTOCOL.md.
"""

import logging
import math
from typing import (
    Any,
    Callable,
    List,
    NoReturn,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from .. import _accel
from .. import json as _json
from .client_wire import (  # noqa: F401 - re-exported for the clients
    DEFAULT_MAX_PAYLOAD,
    MAX_HEARTBEAT,
    MAX_SID_LENGTH,
    MIN_HEARTBEAT_WINDOW,
    VALID_TRANSPORTS,
    Handshake,
    HandshakeError,
    HandshakeInvalid,
    HandshakeRefused,
    HandshakeUnreachable,
    ProtocolError,
    batch_items,
    decode_payload,
    encode_payloads,
    engineio_url,
    error_body,
    item_size,
    sid_param,
    timestamp_param,
    unexpected_error,
)
from .packets import (
    CLOSE,
    CLOSE_PACKET,
    MESSAGE,
    NAMES,
    NOOP,
    OPEN,
    PING,
    PONG,
    PROBE,
    PROBE_REPLY,
    UPGRADE_PACKET,
    Data,
    Item,
)

# -- states -------------------------------------------------------------------
CONNECTING = 'connecting'   # the handshake request is under way
POLLING = 'polling'         # the session runs over long-polling
UPGRADING = 'upgrading'     # on polling, probing a websocket to switch to
WEBSOCKET = 'websocket'     # the session runs over a websocket
CLOSED = 'closed'           # over (or never opened)
STATES = (CONNECTING, POLLING, UPGRADING, WEBSOCKET, CLOSED)

# -- actions: (kind, argument) ------------------------------------------------
DELIVER = 0         # hand the argument (message data) to the message handler
SEND = 1            # send the item on the session's transport (polling:
#                     queue it for the POSTs; websocket: write it)
CLOSE_SESSION = 2   # the session is over: close the transports and call the
#                     disconnect handler with the argument (None: the
#                     session never completed, call no handler)
OPEN_PROBE = 3      # open the probe websocket at the argument (a URL)
PROBE_SEND = 4      # write the item on the probe websocket
PROBE_RECV = 5      # read one message from the probe websocket and pass it
#                     to probe_message()
PAUSE_POLLING = 6   # let the polling requests in flight finish, start no
#                     more, then call polling_paused()
SWITCH = 7          # make the probe websocket the session's transport
#                     (items queued for polling go out on it, in order),
#                     then call switched()
ABORT_PROBE = 8     # close the probe websocket; the session stays on polling
#: an action: ``(kind, argument)``
Action = Tuple[int, Any]
ACTION_NAMES = ('DELIVER', 'SEND', 'CLOSE_SESSION', 'OPEN_PROBE', 'PROBE_SEND',
                'PROBE_RECV', 'PAUSE_POLLING', 'SWITCH', 'ABORT_PROBE')

# -- why a session ended -----------------------------------------------------
# python-engineio's reasons, passed to the disconnect handler
CLIENT_DISCONNECT = 'client disconnect'
SERVER_DISCONNECT = 'server disconnect'
TRANSPORT_ERROR = 'transport error'
# the JavaScript client's close reasons (``cause``), one level finer: a
# server's close packet or clean websocket close is its 'transport close',
# a silent server its 'ping timeout'
FORCED_CLOSE = 'forced close'
TRANSPORT_CLOSE = 'transport close'
PING_TIMEOUT = 'ping timeout'
REASON_OF_CAUSE = {FORCED_CLOSE: CLIENT_DISCONNECT,
                   TRANSPORT_CLOSE: SERVER_DISCONNECT,
                   PING_TIMEOUT: TRANSPORT_ERROR,
                   TRANSPORT_ERROR: TRANSPORT_ERROR}

# steps of the probe while UPGRADING
_OPENING, _PROBING, _PAUSING, _SWITCHING = range(4)


class ClientMachine:
    """The state machine of one client session.

    Args:
        url: the server's URL (http, https, ws or wss).
        engineio_path: the endpoint's path.
        transports: ``'polling'``, ``'websocket'``, a list of them, or None
            for both; the first one connects, the upgrade goes to
            ``'websocket'`` when both are allowed.
        loads: the JSON decoder for incoming text data.
        dumps: a compact JSON encoder for outgoing dict/list data.
        logger: a :class:`logging.Logger` for what the machine notices (a
            packet received, a protocol error, a failed probe), or None.
        kernels: the codec kernels (default: the active ones).

    Raises:
        ValueError: no valid transport given.

    Attributes:
        state: one of :data:`STATES`.
        transport: ``'polling'`` or ``'websocket'``: the transport that
            connects, then the one carrying the session.
        poll_url, ws_url: the polling and websocket endpoints (the sid
            added once known; the I/O layer may add a timestamp).
        handshake: the server's :class:`Handshake` once open.
        deadline: the monotonic time by which some packet must arrive
            (``pingInterval + pingTimeout`` after the last one, as the
            JavaScript client waits), else the session is lost.
        reason: why the session ended (python-engineio's reason given to
            the disconnect handler), once CLOSED.
        cause: the same in the JavaScript client's words
            (:data:`FORCED_CLOSE`, :data:`TRANSPORT_CLOSE`,
            :data:`PING_TIMEOUT`, :data:`TRANSPORT_ERROR`).
        clean: once CLOSED, whether the websocket (if any) is closed with
            a closing handshake (a client or server disconnect) rather
            than dropped (an error).

    Events are the methods below. An event that does not apply to the
    current state (a packet after the close, a probe answer after the probe
    was dropped) changes nothing and returns no actions. The machine is not
    thread-safe: :class:`~engineio_fast.Client` passes events in under its
    connection lock.
    """

    __slots__ = ('state', 'transport', 'transports', 'poll_url', 'ws_url',
                 'handshake', 'sid', 'max_payload', 'window', 'deadline',
                 'reason', 'cause', 'clean', 'loads', 'dumps', 'logger',
                 '_probe', '_probed', '_kernels', '_encode_value',
                 '_decode_value')

    def __init__(self, url: str, engineio_path: str = 'engine.io',
                 transports: Union[None, str, Sequence[str]] = None,
                 loads: Optional[Callable[[str], Any]] = None,
                 dumps: Optional[Callable[[Any], str]] = None,
                 logger: Optional[logging.Logger] = None,
                 kernels: Optional[_accel.Kernels] = None) -> None:
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [t for t in transports if t in VALID_TRANSPORTS]
            if not transports:
                raise ValueError('No valid transports provided')
        self.transports = list(transports or VALID_TRANSPORTS)
        self.transport = self.transports[0]
        self.state = CONNECTING
        self.poll_url = engineio_url(url, engineio_path, 'polling')
        self.ws_url = engineio_url(url, engineio_path, 'websocket')
        self.handshake: Optional[Handshake] = None
        self.sid: Optional[str] = None
        self.max_payload = DEFAULT_MAX_PAYLOAD
        self.window = math.inf
        self.deadline = math.inf
        self.reason: Optional[str] = None
        self.cause: Optional[str] = None
        self.clean = False
        self.loads: Callable[[str], Any] = loads or _json.loads
        self.dumps: Callable[[Any], str] = (
            dumps or _json.JSONEncoder(separators=(',', ':')).encode)
        self.logger = logger
        self._probe: Optional[int] = None
        self._probed = False
        k = self._kernels = kernels or _accel.active
        self._encode_value = k.encode_value
        self._decode_value = k.decode_value

    @property
    def url(self) -> str:
        """The URL the handshake requests (python-engineio's
        ``base_url``), with the sid once known."""
        if self.transports[0] == 'polling':
            return self.poll_url
        return self.ws_url

    # -- the handshake ----------------------------------------------------

    def handshake_response(self, status: int,
                           body: Union[str, bytes, bytearray, memoryview],
                           now: float) -> List[Action]:
        """The server answered the polling handshake GET.

        Args:
            status: the HTTP status.
            body: the response body (bytes or str).
            now: the monotonic time it arrived.

        Returns:
            The actions for the packets that came after the open packet.

        Raises:
            HandshakeRefused: an HTTP error status.
            HandshakeInvalid: no valid open packet.
        """
        if self.state is not CONNECTING or self.transport != 'polling':
            return []
        if not 200 <= status < 300:
            raise self._fail(HandshakeRefused(status, error_body(body)))
        try:
            packets = decode_payload(body, self.loads, self._kernels)
        except ProtocolError:
            raise self._fail(unexpected_error()) from None
        ptype, data, _ = packets[0]
        if ptype != OPEN:
            raise self._fail(HandshakeInvalid(
                'OPEN packet not returned by server'))
        self._open(data, now, POLLING)
        actions: List[Action] = []
        for ptype, data, _ in packets[1:]:
            if self._packet(ptype, data, actions):
                break
        return actions

    def handshake_message(self, message: Union[str, bytes],
                          now: float) -> List[Action]:
        """The first ``message`` (str or bytes) of a websocket-only
        connection arrived at ``now``; returns no actions.

        Raises:
            HandshakeInvalid: it is not a valid open packet.
        """
        if self.state is not CONNECTING or self.transport != 'websocket':
            return []
        if not isinstance(message, str):
            raise self._fail(HandshakeInvalid('no OPEN packet'))
        try:
            ptype, data, _ = self._decode_value(message, self.loads)
        except ValueError:
            raise self._fail(unexpected_error()) from None
        if ptype != OPEN:
            raise self._fail(HandshakeInvalid('no OPEN packet'))
        self._open(data, now, WEBSOCKET)
        return []

    def handshake_refused(self, status: int, body: Any) -> NoReturn:
        """The server refused the websocket handshake with an HTTP status.
        (This and the next two events raise in any state; only a CONNECTING
        machine becomes CLOSED.)

        Raises:
            HandshakeRefused: always (with the body as JSON, or its text).
        """
        raise self._fail(HandshakeRefused(status, error_body(
            body, text_fallback=self.transport == 'websocket')))

    def handshake_unreachable(self, detail: str = '') -> NoReturn:
        """The handshake request failed below HTTP; ``detail`` is the I/O
        error's text.

        Raises:
            HandshakeUnreachable: always: with ``detail`` over polling, with
                ``'Connection error'`` over websocket (python-engineio's).
        """
        if self.transport == 'polling':
            error = HandshakeUnreachable(
                detail or 'Connection refused by the server')
        else:
            error = HandshakeUnreachable('Connection error')
        raise self._fail(error)

    def handshake_unreadable(self) -> NoReturn:
        """The answer to the handshake could not be read: a polling body
        over the size limit, or no websocket message in time.

        Raises:
            HandshakeInvalid: always.
        """
        raise self._fail(unexpected_error())

    def _fail(self, error: HandshakeError) -> HandshakeError:
        """The handshake failed: the session is CLOSED; returns ``error``
        for the caller to raise."""
        if self.state is CONNECTING:
            self.state = CLOSED
        return error

    def _open(self, data: Any, now: float, state: str) -> None:
        try:
            hs = Handshake(data)
        except ProtocolError:
            raise self._fail(unexpected_error()) from None
        self.handshake = hs
        self.sid = hs.sid
        self.max_payload = hs.max_payload
        self.window = max(hs.ping_interval + hs.ping_timeout,
                          MIN_HEARTBEAT_WINDOW)
        self.deadline = now + self.window
        self.poll_url += sid_param(hs.sid)
        if state is WEBSOCKET:
            self._probed = True     # nothing to upgrade to
        else:
            self.ws_url += sid_param(hs.sid)
        self.state = state
        self.transport = state

    # -- the upgrade ------------------------------------------------------

    def can_upgrade(self) -> bool:
        """True while polling when the server offers ``websocket``, the
        client allows it, and no probe was tried yet."""
        hs = self.handshake     # (set in every state but CONNECTING)
        return (self.state is POLLING and not self._probed
                and hs is not None and 'websocket' in hs.upgrades
                and 'websocket' in self.transports)

    def begin_upgrade(self) -> List[Action]:
        """Start the upgrade if :meth:`can_upgrade`.

        Returns:
            ``[(OPEN_PROBE, url)]``, or no actions.
        """
        if not self.can_upgrade():
            return []
        self.state = UPGRADING
        self._probed = True
        self._probe = _OPENING
        return [(OPEN_PROBE, self.ws_url)]

    def probe_opened(self) -> List[Action]:
        """The probe websocket is open.

        Returns:
            ``[(PROBE_SEND, '2probe'), (PROBE_RECV, None)]``.
        """
        if self.state is not UPGRADING or self._probe != _OPENING:
            return []
        self._probe = _PROBING
        return [(PROBE_SEND, PROBE), (PROBE_RECV, None)]

    def probe_message(self, message: Union[str, bytes]) -> List[Action]:
        """The probe websocket's answer to ``2probe``.

        Returns:
            ``[(PAUSE_POLLING, None)]`` for ``3probe``; anything else fails
            the probe (see :meth:`probe_failed`).
        """
        if self.state is not UPGRADING or self._probe != _PROBING:
            return []
        if message != PROBE_REPLY:
            return self.probe_failed('no PONG packet')
        self._probe = _PAUSING
        return [(PAUSE_POLLING, None)]

    def polling_paused(self) -> List[Action]:
        """Polling has nothing in flight and starts nothing new.

        Returns:
            ``[(PROBE_SEND, '5'), (SWITCH, None)]``.
        """
        if self.state is not UPGRADING or self._probe != _PAUSING:
            return []
        self._probe = _SWITCHING
        return [(PROBE_SEND, UPGRADE_PACKET), (SWITCH, None)]

    def switched(self) -> List[Action]:
        """The websocket carries the session from now on (the I/O layer
        moved what was queued for polling onto it).

        Returns:
            No actions.
        """
        if self.state is UPGRADING and self._probe == _SWITCHING:
            self.state = WEBSOCKET
            self.transport = 'websocket'
            self._probe = None
        return []

    def probe_failed(self, detail: str) -> List[Action]:
        """A step of the probe failed (the websocket did not open, an I/O
        error, a timeout).

        Args:
            detail: what failed, for the log.

        Returns:
            ``[(ABORT_PROBE, None)]``; the session is back on polling.
        """
        if self.state is not UPGRADING:
            return []
        if self.logger:
            self.logger.warning('WebSocket upgrade failed: %s', detail)
        self.state = POLLING
        self._probe = None
        return [(ABORT_PROBE, None)]

    # -- the session ------------------------------------------------------

    def receive_payload(self, status: int,
                        body: Union[str, bytes, bytearray, memoryview],
                        now: float) -> List[Action]:
        """A polling GET was answered at ``now`` with ``status`` and
        ``body`` (bytes or str).

        Returns:
            The actions for its packets; an error status or an invalid
            payload ends the session (``'transport error'``).
        """
        if self.state is not POLLING and self.state is not UPGRADING:
            return []
        if not 200 <= status < 300:
            return self._error('Unexpected status code %s in server '
                               'response, aborting' % status)
        try:
            packets = decode_payload(body, self.loads, self._kernels)
        except ProtocolError as exc:
            return self._invalid(exc)
        self.deadline = now + self.window
        actions: List[Action] = []
        for ptype, data, _ in packets:
            if self._packet(ptype, data, actions):
                break
        return actions

    def receive_message(self, message: Union[str, bytes],
                        now: float) -> List[Action]:
        """A ``message`` (str or bytes) arrived on the session's websocket
        at ``now``.

        Returns:
            The actions for it; an invalid packet ends the session
            (``'transport error'``).
        """
        if self.state is not WEBSOCKET:
            return []
        try:
            ptype, data, _ = self._decode_value(message, self.loads)
        except ValueError as exc:
            return self._invalid(exc)
        self.deadline = now + self.window
        if ptype == MESSAGE:
            logger = self.logger
            if logger is None or not logger.isEnabledFor(logging.INFO):
                return [(DELIVER, data)]
        actions: List[Action] = []
        self._packet(ptype, data, actions)
        return actions

    def _packet(self, ptype: int, data: Any, actions: List[Action]) -> bool:
        """Append the actions for one incoming packet; True once closed."""
        logger = self.logger
        if logger is not None and logger.isEnabledFor(logging.INFO):
            logger.info('Received packet %s data %s', NAMES[ptype],
                        '<binary>' if isinstance(data, bytes) else data)
        if ptype == MESSAGE:
            actions.append((DELIVER, data))
        elif ptype == PING:
            actions.append((SEND, '3' + data if isinstance(data, str)
                            else '3'))
        elif ptype == CLOSE:
            actions += self._close(TRANSPORT_CLOSE, True)
            return True
        elif ptype != NOOP and ptype != PONG and logger:
            logger.error('Received unexpected packet of type %s', ptype)
        return False

    def post_answer(self, status: int) -> List[Action]:
        """A polling POST was answered with ``status``.

        Returns:
            No actions, or those of ``'transport error'`` for an error
            status.
        """
        if (self.state is not POLLING and self.state is not UPGRADING) or \
                200 <= status < 300:
            return []
        return self._error('Unexpected status code %s in server response, '
                           'aborting' % status)

    def transport_lost(self, detail: str, now: float,
                       clean: bool = False) -> List[Action]:
        """The session's transport failed or closed.

        Args:
            detail: what happened, for the log.
            now: the monotonic time.
            clean: the server closed the websocket with a closing
                handshake (no close packet: what the JavaScript server
                does), which is a server disconnect.

        Returns:
            The actions of the close: ``'server disconnect'`` when clean,
            else ``'transport error'`` (its cause ``'ping timeout'`` past
            the heartbeat deadline; else, as the JavaScript client names
            it, ``'transport close'`` for a websocket and ``'transport
            error'`` for a polling request).
        """
        if self.state is CLOSED or self.state is CONNECTING:
            return []
        if clean:
            return self._close(TRANSPORT_CLOSE, True)
        if now >= self.deadline:
            return self.expire(now)
        return self._error(detail, TRANSPORT_CLOSE
                           if self.transport == 'websocket'
                           else TRANSPORT_ERROR)

    def expire(self, now: float) -> List[Action]:
        """The heartbeat check.

        Returns:
            The actions of a ``'transport error'`` close (cause
            ``'ping timeout'``) once ``now`` is past :attr:`deadline`, else
            none.
        """
        if now < self.deadline or self.state is CLOSED or \
                self.state is CONNECTING:
            return []
        if self.logger:
            self.logger.warning('Server has stopped communicating, aborting')
        return self._close(PING_TIMEOUT, False)

    def touch(self, now: float) -> None:
        """Restart the heartbeat window at ``now`` (the time the client
        itself spent, in connect() or waiting for its handlers, is not the
        server's)."""
        if self.state is not CLOSED:
            self.deadline = now + self.window

    def time_left(self, now: float) -> float:
        """Seconds until :attr:`deadline` (<= 0 once it passed)."""
        return self.deadline - now

    def disconnect(self, reason: Optional[str] = None) -> List[Action]:
        """The application ends the session.

        Args:
            reason: the reason for the disconnect handler (default
                ``'client disconnect'``).

        Returns:
            The close packet to send on the session's transport, then the
            close; no actions when already closed.
        """
        if self.state is CLOSED:
            return []
        opened = self.state is not CONNECTING
        actions = self._close(FORCED_CLOSE, True, reason)
        if opened:
            actions.insert(-1, (SEND, CLOSE_PACKET))
        return actions

    def abandon(self) -> List[Action]:
        """Give up on a session whose connect handler failed: send the close
        packet, and close without a disconnect handler.

        Returns:
            ``[(ABORT_PROBE, None)]`` while upgrading, then
            ``(SEND, '1')`` when a session was open, then
            ``(CLOSE_SESSION, None)``.
        """
        actions = self.disconnect()
        if actions:
            self.reason = None
            actions[-1] = (CLOSE_SESSION, None)
        return actions

    def _invalid(self, exc: Exception) -> List[Action]:
        return self._error('Invalid packet from server (%s), aborting' % exc)

    def _error(self, detail: str,
               cause: str = TRANSPORT_ERROR) -> List[Action]:
        if self.logger:
            self.logger.warning('%s', detail)
        return self._close(cause, False, TRANSPORT_ERROR)

    def _close(self, cause: str, clean: bool,
               reason: Optional[str] = None) -> List[Action]:
        actions: List[Action] = []
        if self.state is UPGRADING:
            actions.append((ABORT_PROBE, None))
        self.state = CLOSED
        self._probe = None
        self.cause = cause
        self.reason = reason or REASON_OF_CAUSE[cause]
        self.clean = clean
        actions.append((CLOSE_SESSION, self.reason))
        return actions

    # -- outgoing ---------------------------------------------------------

    def encode_message(self, data: Data) -> Item:
        """The outgoing item for a message.

        Args:
            data: str, bytes, dict or list (anything else is sent as its
                ``str()``).

        Returns:
            The item (str or bytes).

        Raises:
            UnicodeEncodeError: text with a lone surrogate, which no
                transport can carry (checked here, before it is queued).
        """
        item = self._encode_value(MESSAGE, data, False, self.dumps)
        if item.__class__ is str and not item.isascii():
            item.encode('utf-8')
        return item

    def payloads(self, items: Sequence[Item]) -> List[str]:
        """The POST bodies (str) carrying ``items`` within the server's
        ``maxPayload``."""
        return encode_payloads(items, self.max_payload, self._kernels)
