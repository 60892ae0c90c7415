"""Socket.IO packets as the JavaScript server reads them: what makes a
client's packet invalid (the server then closes the connection).

python-socketio decodes what it is sent with fewer checks than
socket.io-parser: it takes an event with a payload that is no list, an
ack id it cannot parse, a text message where a binary attachment was due,
ten billion announced attachments, a placeholder that points nowhere, and
then raises from its handler (the connection stays, sometimes stuck) or
waits for attachments without end. The official Socket.IO protocol suite
expects the connection closed for such packets, as socket.io-parser
4 does; :mod:`engineio_fast.sio_wire` applies :func:`check_text` to every
packet python-socketio is handed on an engineio_fast server.
"""

from typing import Any, Callable, List

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = \
    range(7)

#: at most this many binary attachments in one packet (socket.io-parser's
#: ``maxAttachments``)
MAX_ATTACHMENTS = 10
#: an ack id longer than this is refused (python-socketio's limit)
MAX_ID_DIGITS = 100

#: event names a client may not emit (socket.io-parser's RESERVED_EVENTS)
RESERVED_EVENTS = frozenset(('connect', 'connect_error', 'disconnect',
                             'disconnecting', 'newListener',
                             'removeListener'))

_DIGITS = frozenset('0123456789')


class InvalidPacket(ValueError):
    """A Socket.IO packet the server must refuse (it closes the
    connection)."""


def check_text(data: str, loads: Callable[[str], Any]) -> int:
    """Check a text Socket.IO packet a client sent.

    Args:
        data: the Engine.IO message's text.
        loads: the JSON decoder (the server's).

    Returns:
        How many binary attachments follow it (0 when it is no binary
        event or ack).

    Raises:
        InvalidPacket: the packet is malformed, as socket.io-parser
            decides: an unknown type; a binary packet whose count is not a
            number from 1 to :data:`MAX_ATTACHMENTS`; a payload that is not
            JSON or not of its type's shape (CONNECT: an object; DISCONNECT:
            none; CONNECT_ERROR: a string or an object; EVENT: a list whose
            first item is a number or a string that is not a reserved
            name; ACK: a list); in a binary packet, a placeholder whose
            ``num`` is not one of its attachments.
    """
    end = len(data)
    if not end or data[0] not in '0123456':
        raise InvalidPacket('unknown packet type')
    ptype = ord(data[0]) - 48
    i = 1
    attachments = 0
    if ptype == BINARY_EVENT or ptype == BINARY_ACK:
        dash = data.find('-', 1)
        count = data[1:dash] if dash > 0 else ''
        if not count or len(count) > 2 or not _DIGITS.issuperset(count):
            raise InvalidPacket('illegal attachments')
        attachments = int(count)
        if attachments < 1:
            raise InvalidPacket('illegal attachments')
        if attachments > MAX_ATTACHMENTS:
            raise InvalidPacket('too many attachments')
        i = dash + 1
    if i < end and data[i] == '/':
        comma = data.find(',', i)
        i = end if comma < 0 else comma + 1
    start = i
    while i < end and data[i] in _DIGITS:
        i += 1
    if i - start > MAX_ID_DIGITS:
        raise InvalidPacket('ack id too long')
    if i == end:
        return attachments
    try:
        payload = loads(data[i:])
    except (ValueError, RecursionError):
        raise InvalidPacket('invalid payload') from None
    if not _shape_ok(ptype, payload):
        raise InvalidPacket('invalid payload')
    if attachments:
        _check_placeholders(payload, attachments)
    return attachments


def _shape_ok(ptype: int, payload: Any) -> bool:
    if ptype == EVENT or ptype == BINARY_EVENT:
        if payload.__class__ is not list or not payload:
            return False
        first = payload[0]
        if first.__class__ is str:
            return first not in RESERVED_EVENTS
        return first.__class__ in (int, float)
    if ptype == ACK or ptype == BINARY_ACK:
        return payload.__class__ is list
    if ptype == CONNECT:
        return payload.__class__ is dict
    if ptype == CONNECT_ERROR:
        return payload.__class__ in (str, dict)
    return False        # DISCONNECT: no payload


def _check_placeholders(payload: Any, attachments: int) -> None:
    todo: List[Any] = [payload]
    while todo:
        value = todo.pop()
        if value.__class__ is list:
            todo.extend(value)
        elif value.__class__ is dict:
            if value.get('_placeholder') is True:
                num = value.get('num')
                if num.__class__ is not int or not 0 <= num < attachments:
                    raise InvalidPacket('illegal attachments')
            else:
                todo.extend(value.values())
