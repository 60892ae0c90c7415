"""WebSocket (RFC 6455) frame header codec and masking: the pure spec
(compiled twin: src_pyx/wsframe.pxi).

These single-frame functions do byte-level work only and leave protocol
decisions to the caller. The batch kernels are in :mod:`.frames`.
"""

import struct

_U16 = struct.Struct('!H')
_U64 = struct.Struct('!Q')


def _octets(data):
    """``data`` as a sequence of byte values whose length is its byte
    count: a buffer of wider items (``memoryview(...).cast('H')``,
    ``array('I')``) is read as its bytes, not its items (the compiled twin
    reads every buffer as bytes). TypeError for what is not bytes-like."""
    if data.__class__ is bytes or data.__class__ is bytearray:
        return data
    view = memoryview(data)
    if view.ndim == 1 and view.format == 'B':
        return view
    return view.tobytes()


def parse_frame_header(buf):
    """Parse the frame header at the start of ``buf`` (bytes-like).

    Returns None when ``buf`` holds less than a whole header, else
    ``(fin, rsv, opcode, mask, payload_len, header_len)`` where ``fin`` is a
    bool, ``rsv`` the three RSV bits as an int 0-7, ``mask`` the 4-byte
    masking key (bytes) or None. A 64-bit length with its top bit set is
    invalid (ValueError); so is a length not in its minimal encoding.
    """
    buf = _octets(buf)
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
    data = _octets(data)
    n = len(data)
    if n == 0:
        return b''
    key = int.from_bytes(bytes(mask) * ((n + 3) // 4), 'little')
    out = int.from_bytes(data, 'little') ^ key
    return out.to_bytes(((n + 3) // 4) * 4, 'little')[:n]


def build_frame(opcode, payload, fin=True, rsv1=False, mask=None):
    """Build a whole frame: header plus payload (masked when ``mask``)."""
    payload = _octets(payload)
    head = build_frame_header(opcode, len(payload), fin, rsv1, mask)
    if mask is not None:
        return head + apply_mask(payload, mask)
    return head + bytes(payload)
