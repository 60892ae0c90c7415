"""The sans-I/O Engine.IO v4 client core.

What both clients decide, written once: the URLs they request, the open
packet and its limits, what an incoming packet means, the heartbeat
deadline, and how queued outgoing packets are cut into polling payloads that
respect the server's ``maxPayload``. Like the server core it never reads a
clock, sleeps or touches a socket: the I/O layers (:mod:`engineio_fast.client`
and :mod:`engineio_fast.async_client`) pass ``now`` in and get deadlines out.

Outgoing packets are *items*: an encoded text packet (str) or a binary
message (bytes). Incoming packets decode to ``(packet_type, data, binary)``
with the text-data rule of PROTOCOL.md.
"""

import math
import urllib.parse

from .. import _accel
from .packets import (  # noqa: F401
    CLOSE,
    CLOSE_PACKET,
    MESSAGE,
    NOOP,
    OPEN,
    PING,
    PONG,
    PROBE,
    PROBE_REPLY,
    UPGRADE,
    UPGRADE_PACKET,
)

DEFAULT_MAX_PAYLOAD = 1000000
# longest interval or timeout accepted from a server (seconds): larger
# values are clamped, so no wait is ever handed a timeout the OS refuses
MAX_HEARTBEAT = 86400.0
# shortest heartbeat window: a server that advertises zero would otherwise
# be declared dead before its first packet could arrive
MIN_HEARTBEAT_WINDOW = 0.1
MAX_SID_LENGTH = 512

# what the I/O layers do with a decoded packet (see ClientCore.classify)
ACT_NONE = 0        # nothing (noop, stray pong, a late open or upgrade)
ACT_MESSAGE = 1     # hand data to the message handler
ACT_PONG = 2        # send the returned pong item
ACT_CLOSE = 3       # the server closed the session


class ProtocolError(ValueError):
    """The server sent something an Engine.IO v4 server cannot send."""


def engineio_url(url, engineio_path, transport):
    """The Engine.IO endpoint for ``transport`` (``'polling'`` or
    ``'websocket'``) under ``url``: its scheme mapped to http(s) or ws(s),
    its query string kept, ``transport`` and ``EIO=4`` appended."""
    if transport not in ('polling', 'websocket'):
        raise ValueError('invalid transport')
    parsed = urllib.parse.urlsplit(url)
    scheme = 'http' if transport == 'polling' else 'ws'
    if parsed.scheme in ('https', 'wss'):
        scheme += 's'
    path = engineio_path.strip('/')
    query = parsed.query
    return '%s://%s/%s/?%s%stransport=%s&EIO=4' % (
        scheme, parsed.netloc, path, query, '&' if query else '', transport)


def sid_param(sid):
    """The ``&sid=`` query parameter for ``sid``."""
    return '&sid=' + urllib.parse.quote(sid, safe='')


def timestamp_param(wall_time):
    """The cache-busting ``&t=`` parameter for the wall-clock ``wall_time``
    (seconds since the epoch), in python-engineio's format."""
    return '&t=' + str(wall_time)


def _seconds(value, name):
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        raise ProtocolError('invalid %s in the open packet' % name)
    return min(value / 1000.0, MAX_HEARTBEAT)


class Handshake:
    """The server's open packet, validated.

    Args:
        data: the decoded data of the open packet (a dict when the server
            sent valid JSON).

    Raises:
        ProtocolError: the data is not a JSON object with a string ``sid``
            and numeric ``pingInterval``/``pingTimeout`` (milliseconds).
    """

    __slots__ = ('sid', 'upgrades', 'ping_interval', 'ping_timeout',
                 'max_payload', 'data')

    def __init__(self, data):
        if not isinstance(data, dict):
            raise ProtocolError('the open packet is not a JSON object')
        sid = data.get('sid')
        if (not isinstance(sid, str) or not sid
                or len(sid) > MAX_SID_LENGTH):
            raise ProtocolError('invalid sid in the open packet')
        upgrades = data.get('upgrades', [])
        if not isinstance(upgrades, list):
            upgrades = []
        self.sid = sid
        self.upgrades = [u for u in upgrades if isinstance(u, str)]
        self.ping_interval = _seconds(data.get('pingInterval'),
                                      'pingInterval')
        self.ping_timeout = _seconds(data.get('pingTimeout'), 'pingTimeout')
        max_payload = data.get('maxPayload', DEFAULT_MAX_PAYLOAD)
        if (isinstance(max_payload, bool) or not isinstance(max_payload, int)
                or max_payload <= 0):
            max_payload = DEFAULT_MAX_PAYLOAD
        self.max_payload = max_payload
        self.data = data


def decode_open(encoded, loads):
    """Decode an encoded open packet (str) into a :class:`Handshake`.

    Raises:
        ProtocolError: not an open packet, or its data is invalid.
    """
    try:
        ptype, data, _ = _accel.active.decode_value(encoded, loads)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None
    if ptype != OPEN:
        raise ProtocolError('OPEN packet not returned by server')
    return Handshake(data)


def decode_payload(body, loads):
    """Decode a polling response body (UTF-8 bytes or str) into a list of
    ``(packet_type, data, binary)``.

    Raises:
        ProtocolError: the body is empty, not UTF-8, or holds an invalid
            packet.
    """
    if not isinstance(body, str):
        try:
            body = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ProtocolError('payload is not valid UTF-8') from None
    kernels = _accel.active
    decode_value = kernels.decode_value
    try:
        return [decode_value(p, loads) for p in kernels.split_payload(body)]
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


def decode_frame(message, loads):
    """Decode one websocket message (str or bytes) into
    ``(packet_type, data, binary)``.

    Raises:
        ProtocolError: an empty text message, or an unknown packet type.
    """
    try:
        return _accel.active.decode_value(message, loads)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


def item_size(item):
    """Bytes an outgoing item takes in a polling payload (binary messages
    travel as ``b`` + base64)."""
    if isinstance(item, str):
        if item.isascii():
            return len(item)
        return len(item.encode('utf-8', 'surrogatepass'))
    return 1 + 4 * ((len(item) + 2) // 3)


def batch_items(items, max_payload):
    """Cut ``items`` (in order) into groups whose polling payload fits in
    ``max_payload`` bytes; an item larger than that on its own travels
    alone. Returns a list of lists."""
    groups = []
    group = []
    size = 0
    for item in items:
        n = item_size(item)
        if group and size + 1 + n > max_payload:
            groups.append(group)
            group = []
            size = 0
        size += n + (1 if group else 0)
        group.append(item)
    if group:
        groups.append(group)
    return groups


def encode_payloads(items, max_payload):
    """The polling request bodies (str) that carry ``items`` within
    ``max_payload`` bytes each."""
    encode = _accel.active.encode_payload
    return [encode(group) for group in batch_items(items, max_payload)]


class ClientCore:
    """One client session as the I/O layers drive it.

    Args:
        handshake: the server's :class:`Handshake`.
        now: the monotonic time the open packet arrived.
        loads: the JSON ``loads`` used to decode text messages.
        dumps: a compact JSON ``dumps`` used to encode dict/list messages.

    Attributes:
        deadline: the monotonic time by which some packet must arrive, or
            the session is considered lost (``pingInterval`` +
            ``pingTimeout`` after the last packet, as the JavaScript client
            does).
    """

    __slots__ = ('sid', 'upgrades', 'ping_interval', 'ping_timeout',
                 'max_payload', 'window', 'deadline', 'loads', 'dumps',
                 '_encode_value')

    def __init__(self, handshake, now, loads, dumps):
        self.sid = handshake.sid
        self.upgrades = handshake.upgrades
        self.ping_interval = handshake.ping_interval
        self.ping_timeout = handshake.ping_timeout
        self.max_payload = handshake.max_payload
        self.window = max(self.ping_interval + self.ping_timeout,
                          MIN_HEARTBEAT_WINDOW)
        self.deadline = now + self.window
        self.loads = loads
        self.dumps = dumps
        self._encode_value = _accel.active.encode_value

    def seen(self, now):
        """A packet arrived at ``now``: move the heartbeat deadline."""
        self.deadline = now + self.window

    def time_left(self, now):
        """Seconds until the heartbeat deadline (<= 0 once it passed)."""
        return self.deadline - now

    def encode_message(self, data):
        """The outgoing item for a message with API-level ``data`` (str,
        bytes, dict, list; anything else is sent as its ``str()``).

        Raises:
            UnicodeEncodeError: text with a lone surrogate, which no
                transport can carry (checked here, before it is queued).
        """
        item = self._encode_value(MESSAGE, data, False, self.dumps)
        if item.__class__ is str and not item.isascii():
            item.encode('utf-8')
        return item

    def can_upgrade(self, transports):
        return 'websocket' in self.upgrades and 'websocket' in transports

    @staticmethod
    def classify(ptype, data):
        """What to do with a decoded incoming packet: ``(action, arg)``.

        ``ACT_MESSAGE`` with the message data, ``ACT_PONG`` with the pong
        item to send (a ping's data is echoed), ``ACT_CLOSE``, or
        ``ACT_NONE`` for anything that needs no action.
        """
        if ptype == MESSAGE:
            return ACT_MESSAGE, data
        if ptype == PING:
            return ACT_PONG, '3' + data if isinstance(data, str) else '3'
        if ptype == CLOSE:
            return ACT_CLOSE, None
        return ACT_NONE, None
