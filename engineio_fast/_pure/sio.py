"""Socket.IO packet kernels: the executable spec of the compiled twin
(``src_pyx/sio.pxi``), under the same tests.

The head of a text packet, ``<type>[<count>-][/<namespace>,][<id>]``, is
read as socket.io-parser reads it (:func:`sio_read_head`); its JSON
payload is checked for its type's shape and its placeholders
(:func:`sio_check_payload`); binary data is found, taken out and put back
as python-socketio's ``Packet`` does it (:func:`sio_is_binary`,
:func:`sio_deconstruct`, :func:`sio_reconstruct`); :func:`sio_encode_head`
writes a head as python-socketio does. Malformed packets raise
:class:`InvalidPacket` (a ValueError), the one class both twins raise.
"""

from typing import Any, List, Optional, Tuple


class InvalidPacket(ValueError):
    """A Socket.IO packet the server must refuse (it closes the
    connection); :mod:`engineio_fast.protocol.sio_packets` exports it."""

BINARY_EVENT = 5
BINARY_ACK = 6
#: at most this many attachments (socket.io-parser's maxAttachments)
MAX_ATTACHMENTS = 10
#: the longest ack id taken (python-socketio's limit)
MAX_ID_DIGITS = 100

RESERVED_EVENTS = frozenset(('connect', 'connect_error', 'disconnect',
                             'disconnecting', 'newListener',
                             'removeListener'))

_DIGITS = '0123456789'


def sio_read_head(
        data: str) -> Tuple[int, int, Optional[str], Optional[int], int]:
    """Read the head of a text Socket.IO packet.

    Returns:
        ``(packet_type, attachments, namespace, id, start)``: the type
        (0-6), the announced binary attachments (0 unless a binary type),
        the namespace as python-socketio reports it (None when absent; a
        ``?query`` cut off), the ack id (None when absent) and where the
        JSON payload starts (``len(data)``: none).

    Raises:
        InvalidPacket: an unknown type; a binary type whose count is not
            1 to :data:`MAX_ATTACHMENTS` digits followed by ``-``; an ack id
            over :data:`MAX_ID_DIGITS` digits.
    """
    end = len(data)
    if not end:
        raise InvalidPacket('unknown packet type')
    first = data[0]
    if first < '0' or first > '6':
        raise InvalidPacket('unknown packet type')
    ptype = ord(first) - 48
    i = 1
    attachments = 0
    if ptype == BINARY_EVENT or ptype == BINARY_ACK:
        dash = data.find('-', 1, 4)
        if dash < 2:
            raise InvalidPacket('illegal attachments')
        for k in range(1, dash):
            if data[k] not in _DIGITS:
                raise InvalidPacket('illegal attachments')
        attachments = int(data[1:dash])
        if attachments < 1:
            raise InvalidPacket('illegal attachments')
        if attachments > MAX_ATTACHMENTS:
            raise InvalidPacket('too many attachments')
        i = dash + 1
    namespace = None
    if i < end and data[i] == '/':
        comma = data.find(',', i)
        stop = end if comma < 0 else comma
        namespace = data[i:stop]
        query = namespace.find('?')
        if query >= 0:
            namespace = namespace[:query]
        i = end if comma < 0 else comma + 1
    ack = None
    start = i
    while i < end and data[i] in _DIGITS:
        i += 1
    if i > start:
        if i - start > MAX_ID_DIGITS:
            raise InvalidPacket('ack id too long')
        ack = int(data[start:i])
    return ptype, attachments, namespace, ack, i


def sio_check_payload(packet_type: int, payload: Any,
                      attachments: int) -> None:
    """Check a decoded JSON payload for its packet type, as socket.io-parser
    does (CONNECT: an object; DISCONNECT: none at all; CONNECT_ERROR: a
    string or an object; EVENT: a list whose first item is a number or a
    string that is not a reserved name; ACK: a list), and in a binary
    packet each placeholder's ``num`` (an int below ``attachments``).

    Raises:
        InvalidPacket: it is not.
    """
    cls = payload.__class__
    if packet_type == 2 or packet_type == BINARY_EVENT:
        if cls is not list or not payload:
            raise InvalidPacket('invalid payload')
        name = payload[0]
        if name.__class__ is str:
            if name in RESERVED_EVENTS:
                raise InvalidPacket('invalid payload')
        elif name.__class__ is not int and name.__class__ is not float:
            raise InvalidPacket('invalid payload')
    elif packet_type == 3 or packet_type == BINARY_ACK:
        if cls is not list:
            raise InvalidPacket('invalid payload')
    elif packet_type == 0:
        if cls is not dict:
            raise InvalidPacket('invalid payload')
    elif packet_type == 4:
        if cls is not str and cls is not dict:
            raise InvalidPacket('invalid payload')
    else:
        raise InvalidPacket('invalid payload')
    if attachments:
        todo: List[Any] = [payload]
        while todo:
            value = todo.pop()
            if value.__class__ is list:
                todo.extend(value)
            elif value.__class__ is dict:
                if value.get('_placeholder') is True:
                    num = value.get('num')
                    if num.__class__ is not int or \
                            not 0 <= num < attachments:
                        raise InvalidPacket('illegal attachments')
                else:
                    todo.extend(value.values())


def sio_encode_head(packet_type: int, attachments: Optional[int],
                namespace: Optional[str], ack: Any) -> str:
    """A packet's head as python-socketio's ``Packet.encode`` writes it:
    the type, ``<attachments>-`` when not None, ``<namespace>,`` unless
    None or ``/``, and the ack id's ``str()`` unless None."""
    out = str(packet_type)
    if attachments is not None:
        out += str(attachments) + '-'
    if namespace is not None and namespace != '/':
        out += namespace + ','
    if ack is not None:
        out += str(ack)
    return out


def sio_is_binary(data: Any) -> bool:
    """Whether ``data`` holds bytes or a bytearray, at any depth of lists
    and dicts (values), as python-socketio's ``data_is_binary``."""
    if isinstance(data, (bytes, bytearray)):
        return True
    if isinstance(data, list):
        for item in data:
            if sio_is_binary(item):
                return True
        return False
    if isinstance(data, dict):
        for item in data.values():
            if sio_is_binary(item):
                return True
    return False


def sio_deconstruct(data: Any) -> Tuple[Any, List[Any]]:
    """``data`` with each bytes or bytearray (in lists and dict values)
    replaced by ``{"_placeholder": True, "num": n}``, and the list of them
    in order (python-socketio's ``deconstruct_binary``)."""
    attachments: List[Any] = []
    return _sio_deconstruct(data, attachments), attachments


def _sio_deconstruct(data: Any, attachments: List[Any]) -> Any:
    if isinstance(data, (bytes, bytearray)):
        attachments.append(data)
        return {'_placeholder': True, 'num': len(attachments) - 1}
    if isinstance(data, list):
        return [_sio_deconstruct(item, attachments) for item in data]
    if isinstance(data, dict):
        return {key: _sio_deconstruct(value, attachments)
                for key, value in data.items()}
    return data


def sio_reconstruct(data: Any, attachments: List[Any]) -> Any:
    """``data`` with each placeholder (a dict with a true ``_placeholder``
    and a ``num``) replaced by ``attachments[num]`` (python-socketio's
    ``reconstruct_binary``)."""
    if isinstance(data, list):
        return [sio_reconstruct(item, attachments) for item in data]
    if isinstance(data, dict):
        if data.get('_placeholder') and 'num' in data:
            return attachments[data['num']]
        return {key: sio_reconstruct(value, attachments)
                for key, value in data.items()}
    return data
