"""The sans-I/O part of RFC 6455 shared by every server adapter that runs
its own websocket (the built-in server, the WSGI servers): the opening
handshake (:func:`handshake`: refuse with a response, or accept with the
101 bytes and the permessage-deflate state), close codes, permessage-deflate
(RFC 7692) and the rules that turn parsed frames into messages
(:class:`MessageAssembly`: fragmentation, control frames, UTF-8, sizes,
compressed messages).

Frames themselves are parsed and built by the kernels
(``parse_frames``/``build_frames``/``build_frame``); the adapters read and
write the bytes.

Where the JavaScript engine.io 6 server (the ``ws`` library under it)
answers a handshake it refuses, :func:`handshake` answers the same: the
status, the plain-text reason as its body and, for an unsupported
version, the versions it speaks.
"""

import binascii
import hashlib
import re
import zlib
from typing import Dict, List, Optional, Tuple, Union

from .. import _accel
from .http import Response

_K = _accel.active
_build_frames = _K.build_frames
_build_frame = _K.build_frame

_WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

OP_CONT, OP_TEXT, OP_BINARY = 0, 1, 2
OP_CLOSE, OP_PING, OP_PONG = 8, 9, 10

#: the protocol versions accepted (RFC 6455's 13, and 8 of the last
#: drafts, whose framing is the same), as the JavaScript server accepts them
VERSIONS = ('13', '8')

# what slack a message may have over maxPayload on the wire: the engine
# decides about the packet (its type byte, the close code it answers)
SIZE_SLACK = 16

# a base64 nonce of 16 bytes (RFC 6455 4.2.1): 22 characters and '=='
_KEY = re.compile(r'[+/0-9A-Za-z]{22}==\Z')

_HTML = 'text/html'


def valid_close_code(code: int) -> bool:
    """Whether a peer may send ``code`` in a close frame (RFC 6455 7.4).

    Args:
        code: the status code of a received close frame.

    Returns:
        True for 1000-1003, 1007-1014 and 3000-4999.
    """
    return (1000 <= code <= 1014 and code not in (1004, 1005, 1006)) or \
        3000 <= code <= 4999


def close_frame(code: Optional[int]) -> bytes:
    """A close frame carrying ``code`` (None: an empty close frame)."""
    return _build_frame(OP_CLOSE, b'' if code is None
                        else code.to_bytes(2, 'big'))


def pong_frame(payload: bytes) -> bytes:
    """The pong answering a ping that carried ``payload``."""
    return _build_frame(OP_PONG, payload)


def deflate_offered(header: str) -> bool:
    """Whether a ``Sec-WebSocket-Extensions`` request header holds a
    permessage-deflate offer this server can accept as it answers
    (``server_no_context_takeover; client_no_context_takeover``, a 15-bit
    server window).

    An offer with ``server_max_window_bits`` (which the answer would have
    to carry), with a parameter given twice or with an unknown parameter
    is declined, as RFC 7692 7 requires; the next offer of the header is
    then considered.

    Args:
        header: the header's value (several headers joined with ``,``).

    Returns:
        True when one of the offers can be accepted.
    """
    for offer in header.split(','):
        params = [p.strip().lower() for p in offer.split(';')]
        if params[0] != 'permessage-deflate':
            continue
        ok = True
        seen = set()
        for param in params[1:]:
            name, _, value = param.partition('=')
            name = name.strip()
            value = value.strip().strip('"')
            if name in seen:
                ok = False
            seen.add(name)
            if name in ('server_no_context_takeover',
                        'client_no_context_takeover'):
                ok = ok and not value
            elif name == 'client_max_window_bits':
                ok = ok and (not value or
                             (value.isdigit() and 8 <= int(value) <= 15))
            else:
                # server_max_window_bits would have to be echoed; unknown
                # parameters cannot be honoured
                ok = False
        if ok:
            return True
    return False


class Deflate:
    """permessage-deflate with no context takeover in either direction
    (so no zlib state is kept per connection).

    Args:
        options: True, or a dict with ``threshold`` (smallest message to
            compress, default 1024 bytes, as the JavaScript server) and
            ``level`` (zlib level, default 6).
    """

    __slots__ = ('threshold', 'level')

    response_header = (b'permessage-deflate; server_no_context_takeover; '
                       b'client_no_context_takeover')

    def __init__(self, options: Union[bool, Dict[str, int]]) -> None:
        options = options if isinstance(options, dict) else {}
        self.threshold = int(options.get('threshold', 1024))
        self.level = int(options.get('level', 6))

    def inflate(self, data: bytes, limit: int) -> Optional[bytes]:
        """Decompress a message.

        Args:
            data: the message's payload as received (RSV1 set).
            limit: the largest size the message may inflate to.

        Returns:
            The message, or None when it inflates past ``limit``.

        Raises:
            ValueError: ``data`` is not deflate data.
        """
        d = zlib.decompressobj(-15)
        try:
            out = d.decompress(data + b'\x00\x00\xff\xff', limit + 1)
        except zlib.error:
            raise ValueError('bad deflate data') from None
        if len(out) > limit or d.unconsumed_tail:
            return None
        return out

    def frames(self, items: List[Union[str, bytes]]) -> bytes:
        """Frames for ``items`` (str: text, bytes: binary), the ones of at
        least :attr:`threshold` bytes compressed."""
        out = []
        small: List[Union[str, bytes]] = []
        for item in items:
            data = item.encode('utf-8') if isinstance(item, str) else item
            if len(data) < self.threshold:
                small.append(item)
                continue
            if small:
                out.append(_build_frames(small))
                small = []
            c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
            body = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            out.append(_build_frame(OP_TEXT if isinstance(item, str)
                                    else OP_BINARY, body[:-4], True, True))
        if small:
            out.append(_build_frames(small))
        return b''.join(out)


def accept_key(key: str) -> bytes:
    """The ``Sec-WebSocket-Accept`` value for a client's key.

    Args:
        key: the ``Sec-WebSocket-Key`` header (a valid one, see
            :func:`valid_key`).

    Returns:
        The base64 of the SHA-1 of the key and the RFC 6455 GUID.
    """
    return binascii.b2a_base64(hashlib.sha1(
        key.encode('ascii') + _WS_GUID).digest(), newline=False)


def valid_key(key: str) -> bool:
    """Whether ``key`` is the base64 of a 16-byte nonce (RFC 6455 4.2.1),
    in its one 24-character form."""
    return _KEY.match(key) is not None


class Handshake:
    """What to answer to a websocket opening handshake (see
    :func:`handshake`).

    Attributes:
        refusal: None when the handshake is accepted; else the
            :class:`~engineio_fast.protocol.http.Response` to answer with,
            after which the adapter closes the connection.
        response: the bytes of the ``101 Switching Protocols`` response
            (empty when refused).
        deflate: the :class:`Deflate` of the connection when
            permessage-deflate was negotiated, else None.
    """

    __slots__ = ('refusal', 'response', 'deflate')

    def __init__(self, refusal: Optional[Response], response: bytes = b'',
                 deflate: Optional[Deflate] = None) -> None:
        self.refusal = refusal
        self.response = response
        self.deflate = deflate


def _refuse(status: int, message: str,
            headers: Tuple[Tuple[str, str], ...] = ()) -> Handshake:
    return Handshake(Response(status, [('Content-Type', _HTML)] +
                              list(headers), message.encode('ascii')))


def upgrade_requested(headers: Dict[str, str]) -> bool:
    """Whether a request asks for a protocol upgrade: an ``Upgrade``
    header and the ``upgrade`` token in ``Connection`` (RFC 9110 7.8),
    the rule Node's HTTP parser and httptools apply. For adapters whose
    server does not say so itself (WSGI); such a request goes through
    :func:`handshake`, any other one is a plain HTTP request.

    Args:
        headers: lower-case header names to values.
    """
    if 'upgrade' not in headers:
        return False
    tokens = headers.get('connection', '').lower().split(',')
    return any(t.strip() == 'upgrade' for t in tokens)


def handshake(method: str, headers: Dict[str, str],
              per_message_deflate: Union[bool, Dict[str, int], None] = False
              ) -> Handshake:
    """Decide on a websocket opening handshake (RFC 6455 4.2), before the
    engine looks at the Engine.IO side of the request.

    Checked in the order, and answered with the statuses and reasons, of
    the JavaScript server: a method other than GET is refused with 405; an
    ``Upgrade`` header other than ``websocket`` (any case) with 400; a
    missing or malformed ``Sec-WebSocket-Key`` with 400; a
    ``Sec-WebSocket-Version`` other than 13 or 8 with 400 and a
    ``Sec-WebSocket-Version: 13, 8`` header. The refusals carry the
    reason as a ``text/html`` body, as the JavaScript server's do.
    permessage-deflate is accepted when the server enables it and the
    client offers it in a form :func:`deflate_offered` takes; otherwise
    the offer is declined and the connection goes on without it (RFC 7692).

    Args:
        method: the request method.
        headers: lower-case header names to values (a header given twice
            joined with ``,``).
        per_message_deflate: the server's option: False/None (off), True,
            or a dict of :class:`Deflate` options.

    Returns:
        A :class:`Handshake`: its ``refusal`` to answer, or the 101
        ``response`` to write and the ``deflate`` state of the connection.
    """
    if method != 'GET':
        return _refuse(405, 'Invalid HTTP method')
    if headers.get('upgrade', '').strip().lower() != 'websocket':
        return _refuse(400, 'Invalid Upgrade header')
    key = headers.get('sec-websocket-key', '').strip()
    if _KEY.match(key) is None:
        return _refuse(400, 'Missing or invalid Sec-WebSocket-Key header')
    if headers.get('sec-websocket-version', '').strip() not in VERSIONS:
        return _refuse(400, 'Missing or invalid Sec-WebSocket-Version header',
                       (('Sec-WebSocket-Version', ', '.join(VERSIONS)),))
    deflate = None
    if per_message_deflate:
        offer = headers.get('sec-websocket-extensions')
        if offer and deflate_offered(offer):
            deflate = Deflate(per_message_deflate)
    parts = [b'HTTP/1.1 101 Switching Protocols\r\n'
             b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
             b'Sec-WebSocket-Accept: ', accept_key(key), b'\r\n']
    if deflate is not None:
        parts += [b'Sec-WebSocket-Extensions: ', Deflate.response_header,
                  b'\r\n']
    parts.append(b'\r\n')
    return Handshake(None, b''.join(parts), deflate)


class MessageAssembly:
    """Frames to messages: the rules of RFC 6455 section 5 (and RFC 7692's
    compressed messages) for one connection, for every adapter.

    The adapter parses what it reads with the ``parse_frames`` kernel and
    hands each batch to :meth:`receive`. It calls
    ``MessageAssembly.__init__`` and provides three actions:

    - ``_deliver(data)``: a whole message (str or bytes) for the engine;
      returns True when no more frames may be taken now (the connection
      is closing, or a handler must end before the next message);
    - ``_pong(payload)``: answer a ping;
    - ``_send_close(code)``: send a close frame with ``code`` (None: an
      empty one, answering a peer's empty close) and stop taking frames.
      When :attr:`failed` is set (the client broke the protocol: it may
      still be sending, the rest of an oversized frame say), a FIN follows
      the close frame and what the client still sends is read and dropped
      until its own FIN, for at most ``ws_close_timeout``, as Node's ws
      does: closing with the client's bytes unread resets the connection,
      and a proxy in between can then lose the close frame. Otherwise (an
      answer to the client's close) the connection closes.

    Args:
        deflate: the connection's :class:`Deflate`, or None.
        max_payload: the server's ``max_http_buffer_size``.
    """

    __slots__ = ('deflate', 'max_size', 'frag_op', 'frag', 'frag_size',
                 'frag_compressed', 'failed')

    def __init__(self, deflate: Optional[Deflate], max_payload: int) -> None:
        self.deflate = deflate
        # the largest frame or message taken (the engine then decides
        # about a packet a little over maxPayload); bounded all the same
        self.max_size = max_payload + SIZE_SLACK
        self.frag_op = 0              # opcode of the message being joined
        self.frag: Optional[List[bytes]] = None
        self.frag_size = 0
        self.frag_compressed = False
        self.failed = False           # closed for a protocol violation

    def _deliver(self, data: Union[str, bytes]) -> bool:
        raise NotImplementedError

    def _pong(self, payload: bytes) -> None:
        raise NotImplementedError

    def _send_close(self, code: Optional[int]) -> None:
        raise NotImplementedError

    def receive(self, frames: List[Tuple[int, bool, int, bytes]],
                error: int) -> Optional[int]:
        """Take the frames of one ``parse_frames`` call, in order.

        Args:
            frames: ``parse_frames``' list of ``(opcode, fin, rsv,
                payload)``.
            error: ``parse_frames``' error (0, or the close code of a
                violation that follows the frames).

        Returns:
            None when every frame was taken (and ``error``, if any, failed
            the connection). Else the number of frames taken when
            ``_deliver`` said to stop or the connection was failed or
            closed: if the adapter carries on later (a handler it waited
            for has ended), it passes the rest, ``frames[n:]``, and the
            same ``error`` to this method again.
        """
        for i, (op, fin, rsv, payload) in enumerate(frames):
            # the common case first: one whole uncompressed text frame
            # (opcode 1 as a literal: this runs once per message)
            if op == 1 and fin and not rsv and not self.frag_op:
                try:
                    text = payload.decode('utf-8')
                except UnicodeDecodeError:
                    self.fail(1007)
                    return i + 1
                if self._deliver(text):
                    return i + 1
            elif self._frame(op, fin, rsv, payload):
                return i + 1
        if error:
            self.fail(error)
        return None

    def fail(self, code: int) -> bool:
        """Close the connection for a protocol violation (``code``).

        Returns:
            True (stop reading), for the callers' convenience.
        """
        self.failed = True
        self._send_close(code)
        return True

    def _frame(self, op: int, fin: bool, rsv: int, payload: bytes) -> bool:
        """Any frame but a whole uncompressed text one; True: stop."""
        if rsv and not (rsv == 4 and self.deflate is not None and
                        op in (OP_TEXT, OP_BINARY)):
            return self.fail(1002)
        if op >= OP_CLOSE:
            if op == OP_CLOSE:
                return self._close_frame(payload)
            if op == OP_PING:
                self._pong(payload)
            return False
        if op == OP_CONT:
            frag = self.frag
            if frag is None:          # no message to continue
                return self.fail(1002)
            self.frag_size += len(payload)
            if self.frag_size > self.max_size:
                return self.fail(1009)
            frag.append(payload)
            if not fin:
                return False
            data = b''.join(frag)
            op = self.frag_op
            compressed = self.frag_compressed
            self.frag_op = 0
            self.frag = None
            return self._message(op, data, compressed)
        if self.frag_op:
            return self.fail(1002)
        if not fin:
            self.frag_op = op
            self.frag = [payload]
            self.frag_size = len(payload)
            self.frag_compressed = bool(rsv)
            return False
        return self._message(op, payload, bool(rsv))

    def _message(self, op: int, data: bytes, compressed: bool) -> bool:
        if compressed:
            assert self.deflate is not None     # RSV1 is refused without it
            try:
                inflated = self.deflate.inflate(data, self.max_size)
            except ValueError:
                return self.fail(1007)
            if inflated is None:
                return self.fail(1009)
            data = inflated
        if op == OP_TEXT:
            try:
                text = data.decode('utf-8')
            except UnicodeDecodeError:
                return self.fail(1007)
            return self._deliver(text)
        return self._deliver(data)

    def _close_frame(self, payload: bytes) -> bool:
        if len(payload) == 1:
            return self.fail(1002)
        if not payload:
            self._send_close(None)
            return True
        code = int.from_bytes(payload[:2], 'big')
        if not valid_close_code(code):
            return self.fail(1002)
        try:
            payload[2:].decode('utf-8')
        except UnicodeDecodeError:
            return self.fail(1007)
        self._send_close(code)
        return True


# the compiled twin's names, when it is there (setup.py's TWINS: this
# source built by Cython with the attribute types of
# src_pyx/twins/engineio_fast/protocol/_websocket_c.pxd, so its classes
# are extension types)
_TWIN = _accel.adopt_twin(globals())
