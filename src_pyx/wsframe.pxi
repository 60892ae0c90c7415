# WebSocket (RFC 6455) frame header codec and masking: the compiled twin of
# engineio_fast/_pure/wsframe.py. Byte-level work only, as in the twin.
# The batch kernels of the same module (parse_frames, build_frames) are in
# frames.pxi, included right after this file.

from libc.stdint cimport uint64_t


cdef inline void _xor_mask(const unsigned char *src, unsigned char *dst,
                           Py_ssize_t n, const unsigned char *mask) noexcept:
    # 8 bytes per step: the key is the 4-byte mask written twice, loaded
    # and stored through memcpy so unaligned buffers are fine on every
    # platform (compilers turn these memcpys into plain loads/stores, and
    # often vectorise the loop). Byte order does not matter: byte i of the
    # word always meets mask[i % 4] because every step starts at a multiple
    # of 4.
    cdef unsigned char key8[8]
    cdef uint64_t key, word
    cdef Py_ssize_t i = 0
    memcpy(key8, mask, 4)
    memcpy(key8 + 4, mask, 4)
    memcpy(&key, key8, 8)
    while i + 8 <= n:
        memcpy(&word, src + i, 8)
        word ^= key
        memcpy(dst + i, &word, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ mask[i & 3]
        i += 1


cdef inline bint _is_mask(object mask) noexcept:
    return PyBytes_CheckExact(mask) and len(<bytes>mask) == 4


def parse_frame_header(buf):
    """Parse the frame header at the start of ``buf`` (bytes-like).

    Returns None when ``buf`` holds less than a whole header, else
    ``(fin, rsv, opcode, mask, payload_len, header_len)``; ValueError for a
    64-bit length with its top bit set or a non-minimal length.
    """
    cdef Py_buffer view
    if not _acquire(buf, &view):
        return _pure_wsframe.parse_frame_header(buf)
    cdef const unsigned char *p = <const unsigned char *>view.buf
    cdef Py_ssize_t n = view.len
    cdef unsigned char b0, b1
    cdef uint64_t length
    cdef Py_ssize_t pos = 2
    cdef int i
    try:
        if n < 2:
            return None
        b0 = p[0]
        b1 = p[1]
        length = b1 & 0x7F
        if length == 126:
            if n < 4:
                return None
            length = (<uint64_t>p[2] << 8) | p[3]
            if length < 126:
                raise ValueError('non-minimal frame length')
            pos = 4
        elif length == 127:
            if n < 10:
                return None
            length = 0
            for i in range(8):
                length = (length << 8) | p[2 + i]
            if length >> 63:
                raise ValueError('frame length has its top bit set')
            if length < 0x10000:
                raise ValueError('non-minimal frame length')
            pos = 10
        mask = None
        if b1 & 0x80:
            if n < pos + 4:
                return None
            mask = PyBytes_FromStringAndSize(<const char *>p + pos, 4)
            pos += 4
        return (bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, mask, length,
                pos)
    finally:
        PyBuffer_Release(&view)


cdef Py_ssize_t _header_into(unsigned char *out, long opcode,
                             unsigned long long length, bint fin, bint rsv1,
                             const unsigned char *mask) noexcept:
    # Writes at most 14 bytes; returns how many.
    cdef int i
    cdef Py_ssize_t pos
    cdef unsigned char mbit = 0x80 if mask != NULL else 0
    out[0] = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        out[1] = mbit | <unsigned char>length
        pos = 2
    elif length < 0x10000:
        out[1] = mbit | 126
        out[2] = (length >> 8) & 0xFF
        out[3] = length & 0xFF
        pos = 4
    else:
        out[1] = mbit | 127
        for i in range(8):
            out[2 + i] = (length >> (56 - 8 * i)) & 0xFF
        pos = 10
    if mask != NULL:
        memcpy(out + pos, mask, 4)
        pos += 4
    return pos


def build_frame_header(opcode, length, fin=True, rsv1=False, mask=None):
    """Build a frame header for a payload of ``length`` bytes."""
    cdef unsigned char out[14]
    cdef int overflow = 0
    cdef long long n
    cdef Py_ssize_t size
    if not (PyLong_CheckExact(opcode) and PyLong_CheckExact(length)
            and (mask is None or PyBytes_CheckExact(mask))):
        return _pure_wsframe.build_frame_header(opcode, length, fin, rsv1,
                                                mask)
    if opcode < 0 or opcode > 15:
        raise ValueError('invalid opcode')
    n = PyLong_AsLongLongAndOverflow(length, &overflow)
    if overflow or n < 0:
        raise ValueError('invalid frame length')
    if mask is not None and len(<bytes>mask) != 4:
        raise ValueError('mask must be 4 bytes')
    cdef const unsigned char *key = NULL
    if mask is not None:
        key = <const unsigned char *>PyBytes_AS_STRING(mask)
    # Truthiness is taken after the checks, in the pure twin's order.
    size = _header_into(out, <long>opcode, <unsigned long long>n, bool(fin),
                        bool(rsv1), key)
    return PyBytes_FromStringAndSize(<const char *>out, size)


def apply_mask(data, mask):
    """XOR ``data`` with the repeating 4-byte ``mask`` (masks and unmasks)."""
    cdef Py_buffer view
    if not _is_mask(mask) or not _acquire(data, &view):
        return _pure_wsframe.apply_mask(data, mask)
    cdef bytes out
    try:
        if view.len == 0:
            return b''
        out = PyBytes_FromStringAndSize(NULL, view.len)
        _xor_mask(<const unsigned char *>view.buf,
                  <unsigned char *>PyBytes_AS_STRING(out), view.len,
                  <const unsigned char *>PyBytes_AS_STRING(mask))
        return out
    finally:
        PyBuffer_Release(&view)


def build_frame(opcode, payload, fin=True, rsv1=False, mask=None):
    """Build a whole frame: header plus payload (masked when ``mask``)."""
    cdef Py_buffer view
    cdef unsigned char head[14]
    cdef Py_ssize_t hlen
    cdef const unsigned char *key = NULL
    cdef bytes out
    cdef unsigned char *dst
    # Fast path only when nothing can run Python code between reading the
    # payload and copying it (bool flags, exact types), so the one-copy
    # result cannot differ from the pure twin's header + payload.
    if not (PyLong_CheckExact(opcode) and type(fin) is bool
            and type(rsv1) is bool
            and (mask is None or PyBytes_CheckExact(mask))
            and _acquire(payload, &view)):
        return _pure_wsframe.build_frame(opcode, payload, fin, rsv1, mask)
    try:
        if opcode < 0 or opcode > 15:
            raise ValueError('invalid opcode')
        if mask is not None:
            if len(<bytes>mask) != 4:
                raise ValueError('mask must be 4 bytes')
            key = <const unsigned char *>PyBytes_AS_STRING(mask)
        hlen = _header_into(head, <long>opcode,
                            <unsigned long long>view.len, fin is True,
                            rsv1 is True, key)
        # One allocation for header and payload instead of three objects.
        out = PyBytes_FromStringAndSize(NULL, hlen + view.len)
        dst = <unsigned char *>PyBytes_AS_STRING(out)
        memcpy(dst, head, hlen)
        if key != NULL:
            _xor_mask(<const unsigned char *>view.buf, dst + hlen, view.len,
                      key)
        else:
            memcpy(dst + hlen, view.buf, view.len)
        return out
    finally:
        PyBuffer_Release(&view)
