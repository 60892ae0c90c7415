"""Socket.IO packets as the JavaScript server reads them: what makes a
client's packet invalid (the server then closes the connection).

python-socketio decodes what it is sent with fewer checks than
socket.io-parser: it takes an event with a payload that is no list, an
ack id it cannot parse, a text message where a binary attachment was due,
ten billion announced attachments, a placeholder that points nowhere, and
then raises from its handler (the connection stays, sometimes stuck) or
waits for attachments without end. The official Socket.IO protocol suite
expects the connection closed for such packets, as socket.io-parser 4
does; :mod:`engineio_fast.sio_wire` applies :func:`check_text` to every
packet python-socketio is handed on an engineio_fast server (or decodes
with :class:`engineio_fast.sio_packet.Packet`, which applies the same
rules). The rules are the kernels' (``sio_read_head``,
``sio_check_payload``: ``engineio_fast/_pure/sio.py`` and its compiled
twin).
"""

import json as _json
from typing import Any, Callable, Optional, Tuple

from .. import _accel
from .._pure.sio import (
    MAX_ATTACHMENTS,
    MAX_ID_DIGITS,
    RESERVED_EVENTS,
    InvalidPacket,
)
from ..json import _bounded_int

__all__ = ['InvalidPacket', 'check_text', 'read_text', 'refusal',
           'loads_for', 'strict_loads', 'MAX_ATTACHMENTS', 'MAX_ID_DIGITS',
           'RESERVED_EVENTS', 'CONNECT_TIMEOUT', 'INVALID_NAMESPACE']

#: how long a client may take to connect to a namespace, by default
#: (seconds; the JavaScript server's connectTimeout)
CONNECT_TIMEOUT = 45.0
#: the CONNECT_ERROR payload for a namespace the server does not serve
INVALID_NAMESPACE = {'message': 'Invalid namespace'}


def read_text(data: str, loads: Callable[[str], Any],
              kernels: Any = None) -> Tuple[int, int, Optional[str],
                                            Optional[int], Any]:
    """Read a text Socket.IO packet a client sent, checking it as
    socket.io-parser does (see :func:`check_text`).

    Args:
        data: the Engine.IO message's text.
        loads: the JSON decoder.
        kernels: the kernel set (the active one by default).

    Returns:
        ``(packet_type, attachments, namespace, id, payload)``: as
        ``sio_read_head`` gives them, and the decoded payload (None when
        the packet has none).

    Raises:
        InvalidPacket: the packet is malformed.
    """
    k = kernels if kernels is not None else _accel.active
    ptype, attachments, namespace, ack, start = k.sio_read_head(data)
    payload = None
    if start < len(data):
        try:
            payload = loads(data[start:])
        except (ValueError, RecursionError):
            raise InvalidPacket('invalid payload') from None
        k.sio_check_payload(ptype, payload, attachments)
    return ptype, attachments, namespace, ack, payload


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
    return read_text(data, loads)[1]


def refusal(data: Any, pending: bool,
            loads: Optional[Callable[[str], Any]]) -> Optional[str]:
    """Why a client's message ``data`` (str or bytes) must close its
    connection, or None: a text message where a binary attachment is due
    (``pending``: a binary packet waits for attachments), binary data
    nobody announced, or (``loads`` given: the text is not read elsewhere)
    a text packet :func:`check_text` refuses."""
    if isinstance(data, str):
        if pending:
            return 'text where a binary attachment was due'
        if loads is not None:
            try:
                check_text(data, loads)
            except InvalidPacket as exc:
                return str(exc)
        return None
    if not pending:
        return 'binary data without a binary packet'
    return None


def _no_constant(name: str) -> Any:
    raise ValueError('%s is not JSON' % name)


#: JSON.parse's reading: no NaN or Infinity (which Python's json takes),
#: and no integer over 100 digits (engineio_fast.json's bound)
strict_loads = _json.JSONDecoder(parse_constant=_no_constant,
                                 parse_int=_bounded_int).decode


def loads_for(json_module: Any) -> Callable[[str], Any]:
    """The JSON reader for packets of a server whose json module is
    ``json_module``: :data:`strict_loads` for the standard library's and
    for engineio_fast.json and python-engineio's ``engineio.json`` (the
    standard library's with a bound on integers), else the module's own
    ``loads``."""
    if getattr(json_module, '__name__', None) in _STANDARD:
        return strict_loads
    return json_module.loads


#: json modules that are the standard library's (python-socketio's default
#: is ``engineio.json``: python-engineio's, or engineio_fast's after the
#: switch)
_STANDARD = frozenset(('json', 'engineio.json', 'engineio_fast.json'))
