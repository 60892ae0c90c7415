# Batch WebSocket framing for the built-in server: the compiled twin of
# parse_frames / build_frames in engineio_fast/_pure/frames.py. Included
# after wsframe.pxi, whose _xor_mask and _header_into it reuses.
#
# Why batches: a read from the socket often holds several frames and a
# loop iteration often has several messages to send. One call per batch
# keeps the per-frame cost to C work plus the objects the caller needs
# (one bytes object and one tuple per frame in, one bytes object per batch
# out), with no Python call per frame.

from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.list cimport PyList_CheckExact, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_CheckExact
from cpython.unicode cimport PyUnicode_AsUTF8String


cdef inline bint _is_flag(object value):
    # The flag types the server passes; anything else (whose truth test
    # could run Python code or raise) goes to the pure twin.
    return value is True or value is False or PyLong_CheckExact(value)


cdef tuple _parse_frames(const unsigned char *p, Py_ssize_t n,
                         long long limit, bint want_mask):
    cdef list frames = []
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t head
    cdef uint64_t length
    cdef unsigned char b0, b1, opcode
    cdef bint fin
    cdef int error = 0
    cdef int i
    cdef const unsigned char *key = NULL
    cdef bytes payload
    while n - pos >= 2:
        b0 = p[pos]
        b1 = p[pos + 1]
        opcode = b0 & 0x0F
        fin = (b0 & 0x80) != 0
        length = b1 & 0x7F
        # Everything checkable from the first two bytes is checked before
        # waiting for more, so a bad frame is refused as early as possible.
        if (((b1 & 0x80) != 0) != want_mask or (3 <= opcode <= 7)
                or opcode >= 11 or (opcode >= 8 and (not fin or length > 125))):
            error = 1002
            break
        head = pos + 2
        if length == 126:
            if n - head < 2:
                break
            length = (<uint64_t>p[head] << 8) | p[head + 1]
            if length < 126:
                error = 1002
                break
            head += 2
        elif length == 127:
            if n - head < 8:
                break
            length = 0
            for i in range(8):
                length = (length << 8) | p[head + i]
            if (length >> 63) or length < 0x10000:
                error = 1002
                break
            head += 8
        # From the header alone: a huge declared length is never buffered.
        if limit < 0 or length > <uint64_t>limit:
            error = 1009
            break
        if want_mask:
            if n - head < 4:
                break
            key = p + head
            head += 4
        if <uint64_t>(n - head) < length:
            break
        if length == 0:
            payload = b''
        elif want_mask:
            # Unmask straight into the new bytes object: no intermediate.
            payload = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>length)
            _xor_mask(p + head, <unsigned char *>PyBytes_AS_STRING(payload),
                      <Py_ssize_t>length, key)
        else:
            payload = PyBytes_FromStringAndSize(<const char *>p + head,
                                                <Py_ssize_t>length)
        frames.append((opcode, fin, (b0 >> 4) & 7, payload))
        pos = head + <Py_ssize_t>length
    return (frames, pos, error)


def parse_frames(buf, max_payload, masked):
    """Parse every complete frame at the start of ``buf``.

    Returns ``(frames, consumed, error)``; see the pure twin for the rules.
    """
    cdef Py_buffer view
    cdef int overflow = 0
    cdef long long limit
    if not (PyLong_CheckExact(max_payload) and _is_flag(masked)):
        return _pure_frames.parse_frames(buf, max_payload, masked)
    limit = PyLong_AsLongLongAndOverflow(max_payload, &overflow)
    # Beyond long long: above every legal length (< 2**63), or below 0.
    if overflow > 0:
        limit = 0x7FFFFFFFFFFFFFFF
    elif overflow < 0:
        limit = -1
    cdef bint want_mask = masked
    if not _acquire(buf, &view):
        return _pure_frames.parse_frames(buf, max_payload, masked)
    try:
        return _parse_frames(<const unsigned char *>view.buf, view.len,
                             limit, want_mask)
    finally:
        PyBuffer_Release(&view)


cdef inline Py_ssize_t _frame_size(Py_ssize_t size, bint want_mask) noexcept:
    # Header (2, 4 or 10 bytes, plus 4 for the key) and payload.
    cdef Py_ssize_t head = 2 if size < 126 else (4 if size < 0x10000 else 10)
    return head + (4 if want_mask else 0) + size


def build_frames(items, masked=False):
    """Build one final frame per item (str: text, bytes-like: binary),
    concatenated; masked with keys from one ``os.urandom`` call when
    ``masked``. See the pure twin for the rules."""
    cdef Py_buffer view
    cdef Py_ssize_t count, i, size, total = 0, pos = 0, enc_i = 0
    cdef const unsigned char *src
    cdef const unsigned char *keyp = NULL
    cdef const unsigned char *key = NULL
    cdef unsigned char *dst
    cdef long opcode
    cdef bint held
    cdef object item
    cdef bytes out
    if not ((PyList_CheckExact(items) or PyTuple_CheckExact(items))
            and _is_flag(masked)):
        return _pure_frames.build_frames(items, masked)
    cdef bint want_mask = masked
    count = len(items)
    keys = None
    if want_mask:
        # Drawn first, as in the pure twin, so the same os.urandom call
        # happens whichever twin finishes the work.
        keys = os.urandom(4 * count)
        if not (PyBytes_CheckExact(keys)
                and PyBytes_GET_SIZE(keys) == 4 * count):
            raise ValueError('os.urandom returned an unexpected value')
        keyp = <const unsigned char *>PyBytes_AS_STRING(keys)
        if len(items) != count:
            # os.urandom was replaced by code that changed the list.
            return _pure_frames._build_frames(items, keys)
    # Pass 1: sizes, so the result is one allocation written once. Any
    # item without a C path sends the whole call to the pure twin (before
    # anything observable happened here), so errors come from the spec.
    encoded = []    # UTF-8 of the non-ASCII str items, in order
    for i in range(count):
        item = items[i]
        if PyUnicode_CheckExact(item):
            if PyUnicode_IS_ASCII(item):
                size = PyUnicode_GET_LENGTH(item)
            else:
                enc = PyUnicode_AsUTF8String(item)
                encoded.append(enc)
                size = PyBytes_GET_SIZE(enc)
        elif PyBytes_CheckExact(item):
            size = PyBytes_GET_SIZE(item)
        elif PyByteArray_CheckExact(item):
            size = PyByteArray_GET_SIZE(item)
        elif type(item) is memoryview and _acquire(item, &view):
            size = view.len
            PyBuffer_Release(&view)
        else:
            return _pure_frames._build_frames(items, keys)
        total += _frame_size(size, want_mask)
    out = PyBytes_FromStringAndSize(NULL, total)
    dst = <unsigned char *>PyBytes_AS_STRING(out)
    # Pass 2: no Python code runs between the passes, so every item still
    # has the size measured above; the bound check below only guards the
    # copy against that reasoning ever being wrong.
    for i in range(count):
        item = items[i]
        held = False
        if PyUnicode_CheckExact(item):
            opcode = 1
            if PyUnicode_IS_ASCII(item):
                src = <const unsigned char *>PyUnicode_1BYTE_DATA(item)
                size = PyUnicode_GET_LENGTH(item)
            else:
                if enc_i >= len(encoded):
                    raise RuntimeError('frame items changed while building')
                enc = encoded[enc_i]
                enc_i += 1
                src = <const unsigned char *>PyBytes_AS_STRING(enc)
                size = PyBytes_GET_SIZE(enc)
        else:
            opcode = 2
            if PyBytes_CheckExact(item):
                src = <const unsigned char *>PyBytes_AS_STRING(item)
                size = PyBytes_GET_SIZE(item)
            elif PyByteArray_CheckExact(item):
                src = <const unsigned char *>PyByteArray_AS_STRING(item)
                size = PyByteArray_GET_SIZE(item)
            elif type(item) is memoryview and _acquire(item, &view):
                held = True
                src = <const unsigned char *>view.buf
                size = view.len
            else:
                raise RuntimeError('frame items changed while building')
        try:
            if _frame_size(size, want_mask) > total - pos:
                raise RuntimeError('frame items changed while building')
            if want_mask:
                key = keyp + 4 * i
            pos += _header_into(dst + pos, opcode, <unsigned long long>size,
                                True, False, key)
            if want_mask:
                _xor_mask(src, dst + pos, size, key)
            else:
                memcpy(dst + pos, src, size)
            pos += size
        finally:
            if held:
                PyBuffer_Release(&view)
    if pos != total:
        raise RuntimeError('frame items changed while building')
    return out
