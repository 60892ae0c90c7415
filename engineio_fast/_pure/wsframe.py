"""WebSocket (RFC 6455) frame header codec and masking: the pure spec.

The single-frame functions do byte-level work only and leave protocol
decisions to the caller. The batch functions for the built-in server,
``parse_frames`` and ``build_frames``, also apply the RFC 6455 framing
rules that need no connection state (mask bit, reserved opcodes, control
frame limits, minimal lengths, a size limit); RSV bits, UTF-8 and
fragment sequencing stay with the caller.
"""

import os
import struct

_U16 = struct.Struct('!H')
_U64 = struct.Struct('!Q')
_HEAD16 = struct.Struct('!BBH')
_HEAD64 = struct.Struct('!BBQ')

#: Close codes returned by ``parse_frames``.
PROTOCOL_ERROR = 1002
MESSAGE_TOO_BIG = 1009


def parse_frame_header(buf):
    """Parse the frame header at the start of ``buf`` (bytes-like).

    Returns None when ``buf`` holds less than a whole header, else
    ``(fin, rsv, opcode, mask, payload_len, header_len)`` where ``fin`` is a
    bool, ``rsv`` the three RSV bits as an int 0-7, ``mask`` the 4-byte
    masking key (bytes) or None. A 64-bit length with its top bit set is
    invalid (ValueError); so is a length not in its minimal encoding.
    """
    n = len(buf)
    if n < 2:
        return None
    b0 = buf[0]
    b1 = buf[1]
    length = b1 & 0x7F
    pos = 2
    if length == 126:
        if n < 4:
            return None
        length = _U16.unpack_from(buf, 2)[0]
        if length < 126:
            raise ValueError('non-minimal frame length')
        pos = 4
    elif length == 127:
        if n < 10:
            return None
        length = _U64.unpack_from(buf, 2)[0]
        if length >> 63:
            raise ValueError('frame length has its top bit set')
        if length < 0x10000:
            raise ValueError('non-minimal frame length')
        pos = 10
    mask = None
    if b1 & 0x80:
        if n < pos + 4:
            return None
        mask = bytes(buf[pos:pos + 4])
        pos += 4
    return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, mask, length, pos


def build_frame_header(opcode, length, fin=True, rsv1=False, mask=None):
    """Build a frame header for a payload of ``length`` bytes."""
    if opcode < 0 or opcode > 15:
        raise ValueError('invalid opcode')
    if length < 0 or length >> 63:
        raise ValueError('invalid frame length')
    if mask is not None and len(mask) != 4:
        raise ValueError('mask must be 4 bytes')
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mbit = 0x80 if mask is not None else 0
    if length < 126:
        head = bytes((b0, mbit | length))
    elif length < 0x10000:
        head = bytes((b0, mbit | 126)) + _U16.pack(length)
    else:
        head = bytes((b0, mbit | 127)) + _U64.pack(length)
    if mask is not None:
        head += bytes(mask)
    return head


def apply_mask(data, mask):
    """XOR ``data`` with the repeating 4-byte ``mask`` (masks and unmasks)."""
    if len(mask) != 4:
        raise ValueError('mask must be 4 bytes')
    n = len(data)
    if n == 0:
        return b''
    key = int.from_bytes(bytes(mask) * ((n + 3) // 4), 'little')
    out = int.from_bytes(data, 'little') ^ key
    return out.to_bytes(((n + 3) // 4) * 4, 'little')[:n]


def build_frame(opcode, payload, fin=True, rsv1=False, mask=None):
    """Build a whole frame: header plus payload (masked when ``mask``)."""
    head = build_frame_header(opcode, len(payload), fin, rsv1, mask)
    if mask is not None:
        return head + apply_mask(payload, mask)
    return head + bytes(payload)


def parse_frames(buf, max_payload, masked):
    """Parse every complete frame at the start of ``buf``.

    Args:
        buf: bytes-like data as received (zero, one or many frames; the
            last one may be incomplete).
        max_payload: the largest payload length accepted; a frame declaring
            more is refused from its header alone, before its payload
            arrives.
        masked: True when every frame must be masked (a server reading a
            client), False when none may be (a client reading a server).

    Returns:
        ``(frames, consumed, error)``: ``frames`` a list of
        ``(opcode, fin, rsv, payload)`` (``fin`` a bool, ``rsv`` the RSV bits
        as an int 0-7, ``payload`` unmasked bytes), ``consumed`` the number
        of bytes those frames took from the start of ``buf``, and ``error``
        0 or the close code of the first violation, where parsing stopped:
        1002 for a wrong mask bit, a reserved opcode, a fragmented or
        oversized (> 125) control frame, a non-minimal length or a 64-bit
        length with its top bit set; 1009 for a payload longer than
        ``max_payload``. A violation is reported as soon as the bytes that
        show it are in ``buf``. An incomplete trailing frame is left
        unconsumed without error.
    """
    masked = bool(masked)
    frames = []
    pos = 0
    error = 0
    with memoryview(buf) as raw, raw.cast('B') as view:
        n = len(view)
        while n - pos >= 2:
            b0 = view[pos]
            b1 = view[pos + 1]
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            if (bool(b1 & 0x80) is not masked or 3 <= opcode <= 7
                    or opcode >= 11
                    or (opcode >= 8 and (not b0 & 0x80 or length > 125))):
                error = PROTOCOL_ERROR
                break
            head = pos + 2
            if length == 126:
                if n - head < 2:
                    break
                length = _U16.unpack_from(view, head)[0]
                if length < 126:
                    error = PROTOCOL_ERROR
                    break
                head += 2
            elif length == 127:
                if n - head < 8:
                    break
                length = _U64.unpack_from(view, head)[0]
                if length >> 63 or length < 0x10000:
                    error = PROTOCOL_ERROR
                    break
                head += 8
            if length > max_payload:
                error = MESSAGE_TOO_BIG
                break
            if masked:
                if n - head < 4:
                    break
                key = bytes(view[head:head + 4])
                head += 4
            end = head + length
            if end > n:
                break
            if masked:
                payload = apply_mask(view[head:end], key)
            else:
                payload = bytes(view[head:end])
            frames.append((opcode, bool(b0 & 0x80), (b0 >> 4) & 7, payload))
            pos = end
    return frames, pos, error


def build_frames(items, masked=False):
    """Build one final frame per item, all concatenated.

    Args:
        items: a list of messages: a ``str`` becomes a text frame (its UTF-8
            encoding), bytes/bytearray/memoryview a binary frame.
        masked: False for a server (unmasked frames); True for a client:
            each frame gets its own 4-byte key, all taken from one
            ``os.urandom(4 * len(items))`` call.

    Returns:
        bytes: the frames (fin set, RSV bits clear) back to back.

    Raises:
        TypeError: an item is neither ``str`` nor bytes-like.
        UnicodeEncodeError: a ``str`` item holds a lone surrogate.
    """
    keys = None
    if masked:
        keys = os.urandom(4 * len(items))
        if type(keys) is not bytes or len(keys) != 4 * len(items):
            raise ValueError('os.urandom returned an unexpected value')
    return _build_frames(items, keys)


def _frame_head(b0, mbit, n):
    if n < 126:
        return bytes((b0, mbit | n))
    if n < 0x10000:
        return _HEAD16.pack(b0, mbit | 126, n)
    return _HEAD64.pack(b0, mbit | 127, n)


def _build_frames(items, keys):
    """``build_frames`` after the masking keys are drawn (None: unmasked)."""
    parts = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            b0 = 0x81
            data = str.encode(item, 'utf-8')
        elif isinstance(item, (bytes, bytearray, memoryview)):
            b0 = 0x82
            data = item if type(item) is bytes else bytes(item)
        else:
            raise TypeError('a frame is built from str or bytes-like, not '
                            + type(item).__name__)
        if keys is None:
            parts.append(_frame_head(b0, 0, len(data)))
            parts.append(data)
        else:
            key = keys[4 * i:4 * i + 4]
            parts.append(_frame_head(b0, 0x80, len(data)))
            parts.append(key)
            parts.append(apply_mask(data, key))
    return b''.join(parts)
