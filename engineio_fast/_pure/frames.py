"""Batch WebSocket framing: the pure spec (compiled twin:
src_pyx/frames.pxi).

``parse_frames`` and ``build_frames`` work on a whole buffer or a whole list
of messages at a time and apply the RFC 6455 framing rules that need no
connection state (mask bit, reserved opcodes, control frame limits, minimal
lengths, a size limit); RSV bits, UTF-8 and fragment sequencing stay with
the caller.
"""

import os
import struct

from .wsframe import apply_mask

_U16 = struct.Struct('!H')
_U64 = struct.Struct('!Q')
_HEAD16 = struct.Struct('!BBH')
_HEAD64 = struct.Struct('!BBQ')

#: Close codes returned by ``parse_frames``.
PROTOCOL_ERROR = 1002
MESSAGE_TOO_BIG = 1009


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
