"""What a client puts on the wire and checks in what comes back, sans-I/O:
the Engine.IO URLs, the server's open packet (:class:`Handshake`), the
handshake errors the clients raise, polling payloads and their batching
within the server's ``maxPayload``. :class:`~.client_machine.ClientMachine`
uses these; they read no clock and touch no socket.
"""

import math
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .. import _accel
from .. import exceptions as _exceptions
from .. import json as _json
from .packets import Item

#: an incoming packet, decoded: ``(packet_type, data, binary)``
Decoded = Tuple[int, Any, bool]

DEFAULT_MAX_PAYLOAD = 1000000
# longest interval or timeout accepted from a server (seconds): larger
# values are clamped, so no wait is ever handed a timeout the OS refuses
MAX_HEARTBEAT = 86400.0
# shortest heartbeat window: a server that advertises zero would otherwise
# be declared dead before its first packet could arrive
MIN_HEARTBEAT_WINDOW = 0.1
MAX_SID_LENGTH = 512
VALID_TRANSPORTS = ('polling', 'websocket')


class ProtocolError(ValueError):
    """The server sent something an Engine.IO v4 server cannot send."""


class HandshakeError(_exceptions.ConnectionError):
    """``connect()`` failed: what the machine raises from a handshake event.

    A :class:`engineio_fast.exceptions.ConnectionError` whose arguments are
    python-engineio's for the same failure, so the I/O layers raise it as
    it is."""


class HandshakeRefused(HandshakeError):
    """The server answered the handshake with an HTTP error status.

    The arguments are ``('Unexpected status code N in server response',
    body)``, ``body`` being the server's error body decoded as JSON (None
    if it is not JSON; for a refused websocket handshake its text).

    Attributes:
        status: the HTTP status code.
    """

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(
            'Unexpected status code {} in server response'.format(status),
            body)
        self.status = status


class HandshakeInvalid(HandshakeError):
    """The server's answer to the handshake is not an Engine.IO open
    packet (or could not be read in full)."""


def unexpected_error() -> 'HandshakeInvalid':
    """The error of a handshake answer that is not an open packet."""
    return HandshakeInvalid('Unexpected response from server')


class HandshakeUnreachable(HandshakeError):
    """The handshake request failed below HTTP (refused, reset, timed out,
    TLS)."""


def engineio_url(url: str, engineio_path: str, transport: str) -> str:
    """The Engine.IO endpoint for ``transport`` (``'polling'`` or
    ``'websocket'``; ValueError for another) under ``url``: its scheme
    mapped to http(s) or ws(s), its query string kept, ``transport`` and
    ``EIO=4`` appended."""
    if transport not in VALID_TRANSPORTS:
        raise ValueError('invalid transport')
    parsed = urllib.parse.urlsplit(url)
    scheme = 'http' if transport == 'polling' else 'ws'
    if parsed.scheme in ('https', 'wss'):
        scheme += 's'
    path = engineio_path.strip('/')
    query = parsed.query
    return '%s://%s/%s/?%s%stransport=%s&EIO=4' % (
        scheme, parsed.netloc, path, query, '&' if query else '', transport)


def sid_param(sid: str) -> str:
    """The ``&sid=`` query parameter for ``sid``."""
    return '&sid=' + urllib.parse.quote(sid, safe='')


def timestamp_param(wall_time: float) -> str:
    """The cache-busting ``&t=`` parameter for the wall-clock ``wall_time``
    (seconds since the epoch), in python-engineio's format."""
    return '&t=' + str(wall_time)


def error_body(body: Union[None, str, bytes, bytearray, memoryview],
               text_fallback: bool = False) -> Any:
    """A refusing server's error ``body`` (bytes or str) as
    ``ConnectionError`` carries it: decoded as JSON, else None (with
    ``text_fallback``, its text, up to 4 KiB)."""
    if not body:
        return None
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    text = body.decode('utf-8', 'replace') if isinstance(body, bytes) \
        else body
    try:
        return _json.loads(text)
    except (ValueError, RecursionError):
        return text[:4096] if text_fallback else None


def _seconds(value: Any, name: str) -> float:
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

    def __init__(self, data: Any) -> None:
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
        self.max_payload: int = max_payload
        self.data: Dict[str, Any] = data


def decode_payload(body: Union[str, bytes, bytearray, memoryview],
                   loads: Callable[[str], Any],
                   kernels: Optional[_accel.Kernels] = None) -> List[Decoded]:
    """Decode a polling response ``body`` (UTF-8 bytes or str) into a
    list of ``(packet_type, data, binary)``.

    Raises:
        ProtocolError: the body is empty, not UTF-8, or holds an invalid
            packet.
    """
    if not isinstance(body, str):
        try:
            body = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ProtocolError('payload is not valid UTF-8') from None
    kernels = kernels or _accel.active
    decode_value = kernels.decode_value
    try:
        return [decode_value(p, loads) for p in kernels.split_payload(body)]
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


def item_size(item: Item) -> int:
    """Bytes an outgoing item takes in a polling payload (binary messages
    travel as ``b`` + base64)."""
    if isinstance(item, str):
        if item.isascii():
            return len(item)
        return len(item.encode('utf-8', 'surrogatepass'))
    return 1 + 4 * ((len(item) + 2) // 3)


def batch_items(items: Sequence[Item], max_payload: int) -> List[List[Item]]:
    """Cut ``items`` (in order) into groups whose polling payload fits in
    ``max_payload`` bytes; an item larger than that on its own travels
    alone. Returns a list of lists."""
    groups = []
    group: List[Item] = []
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


def encode_payloads(items: Sequence[Item], max_payload: int,
                    kernels: Optional[_accel.Kernels] = None) -> List[str]:
    """The polling request bodies (str) that carry ``items`` within
    ``max_payload`` bytes each."""
    encode = (kernels or _accel.active).encode_payload
    return [encode(group) for group in batch_items(items, max_payload)]
