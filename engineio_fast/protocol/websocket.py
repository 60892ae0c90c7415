"""The sans-I/O part of RFC 6455 shared by the built-in asyncio server and
the WSGI (threading, eventlet, gevent) websocket: close codes, the
handshake key, permessage-deflate, and the rules that turn parsed frames
into messages (fragmentation, control frames, UTF-8, sizes).

Frames themselves are parsed and built by the compiled kernels
(``parse_frames``/``build_frames``/``build_frame``).
"""

import base64
import hashlib
import zlib

from .. import _accel

_K = _accel.active
_build_frames = _K.build_frames
_build_frame = _K.build_frame

_WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

OP_CONT, OP_TEXT, OP_BINARY = 0, 1, 2
OP_CLOSE, OP_PING, OP_PONG = 8, 9, 10


def valid_close_code(code):
    """Whether a peer may send ``code`` in a close frame (RFC 6455 7.4)."""
    return (1000 <= code <= 1014 and code not in (1004, 1005, 1006)) or \
        3000 <= code <= 4999


def deflate_offered(header):
    """Whether a ``Sec-WebSocket-Extensions`` request header holds a
    permessage-deflate offer this server can accept as it answers
    (``server_no_context_takeover; client_no_context_takeover``, a 15-bit
    server window): an offer with ``server_max_window_bits`` (which the
    answer would have to carry) or an unknown parameter is declined, as
    RFC 7692 7.1 requires."""
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
    """permessage-deflate with no context takeover in either direction.

    Args:
        options: True, or a dict with ``threshold`` (smallest message to
            compress, default 1024 bytes, as the JavaScript server) and
            ``level`` (zlib level, default 6).
    """

    response_header = (b'permessage-deflate; server_no_context_takeover; '
                       b'client_no_context_takeover')

    def __init__(self, options):
        options = options if isinstance(options, dict) else {}
        self.threshold = int(options.get('threshold', 1024))
        self.level = int(options.get('level', 6))

    def inflate(self, data, limit):
        """Decompress a message; None if it inflates past ``limit``."""
        d = zlib.decompressobj(-15)
        try:
            out = d.decompress(data + b'\x00\x00\xff\xff', limit + 1)
        except zlib.error:
            raise ValueError('bad deflate data') from None
        if len(out) > limit or d.unconsumed_tail:
            return None
        return out

    def frames(self, items):
        """Frames for ``items``, compressing the large ones."""
        out = []
        small = []
        for item in items:
            data = item.encode('utf-8') if item.__class__ is str else item
            if len(data) < self.threshold:
                small.append(item)
                continue
            if small:
                out.append(_build_frames(small))
                small = []
            c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
            body = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
            out.append(_build_frame(OP_TEXT if item.__class__ is str
                                    else OP_BINARY, body[:-4], True, True))
        if small:
            out.append(_build_frames(small))
        return b''.join(out)


def accept_key(key):
    """The ``Sec-WebSocket-Accept`` value (bytes) for a client's key."""
    return base64.b64encode(hashlib.sha1(
        key.encode('ascii') + _WS_GUID).digest())


def valid_key(key):
    """Whether ``key`` is a base64 nonce of 16 bytes (RFC 6455 4.2.1)."""
    try:
        return len(base64.b64decode(key.encode('ascii'), validate=True)) == 16
    except (ValueError, UnicodeEncodeError):
        return False


class MessageAssembly:
    """Frames to messages: the rules of RFC 6455 section 5 for one
    connection. A subclass provides ``deflate`` (a :class:`Deflate` or
    None), ``max_size`` and the actions ``fail(code)``,
    ``_deliver(data)``, ``_pong(payload)`` and ``_send_close(code)``, and
    initialises ``frag_op = 0``, ``frag = None``, ``frag_size = 0``,
    ``frag_compressed = False``.
    """

    __slots__ = ()

    def _frame(self, op, fin, rsv, payload):
        if rsv:
            if not (rsv == 4 and self.deflate is not None and
                    op in (OP_TEXT, OP_BINARY)):
                return self.fail(1002)
        if op >= OP_CLOSE:
            if op == OP_CLOSE:
                return self._close_frame(payload)
            if op == OP_PING:
                self._pong(payload)
            return
        if op == OP_CONT:
            if not self.frag_op:
                return self.fail(1002)
            self.frag_size += len(payload)
            if self.frag_size > self.max_size:
                return self.fail(1009)
            self.frag.append(payload)
            if fin:
                data = b''.join(self.frag)
                op = self.frag_op
                compressed = self.frag_compressed
                self.frag_op = 0
                self.frag = None
                self._message(op, data, compressed)
            return
        if self.frag_op:
            return self.fail(1002)
        if not fin:
            self.frag_op = op
            self.frag = [payload]
            self.frag_size = len(payload)
            self.frag_compressed = bool(rsv)
            return
        self._message(op, payload, rsv)

    def _message(self, op, data, compressed):
        if compressed:
            try:
                data = self.deflate.inflate(data, self.max_size)
            except ValueError:
                return self.fail(1007)
            if data is None:
                return self.fail(1009)
        if op == OP_TEXT:
            try:
                data = data.decode('utf-8')
            except UnicodeDecodeError:
                return self.fail(1007)
        self._deliver(data)

    def _close_frame(self, payload):
        code = 1000
        if len(payload) == 1:
            return self.fail(1002)
        if len(payload) >= 2:
            code = int.from_bytes(payload[:2], 'big')
            if not valid_close_code(code):
                return self.fail(1002)
            try:
                payload[2:].decode('utf-8')
            except UnicodeDecodeError:
                return self.fail(1007)
        self._send_close(code if len(payload) >= 2 else None)
