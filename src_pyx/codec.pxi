# Packet and payload codec: the compiled twin of engineio_fast/_pure/codec.py
# (included by _speedups.pyx). Same results and exception classes as the
# pure twin for every input; see that module for the contract.

KIND_NONE = 0
KIND_TEXT = 1
KIND_JSON = 2
KIND_BINARY = 3
SEPARATOR = '\x1e'

cdef enum:
    _KIND_NONE = 0
    _KIND_TEXT = 1
    _KIND_JSON = 2
    _KIND_BINARY = 3
    _MESSAGE = 4     # protocol/packets.py MESSAGE (a test checks)
    _RS = 0x1e

cdef const char *_B64 = (
    b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
cdef const char *_B64URL = (
    b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')

# Reverse table for the standard alphabet; 0xFF marks "not base64". A 256
# entry table (instead of range tests) keeps the decode loop branch-light.
cdef unsigned char _B64DEC[256]


cdef void _init_b64dec():
    cdef int i
    for i in range(256):
        _B64DEC[i] = 0xFF
    for i in range(64):
        _B64DEC[<unsigned char>_B64[i]] = <unsigned char>i


_init_b64dec()

# Type digits and no-data packets as ready-made objects: ping/pong/noop
# packets are the most frequent and then cost no allocation at all.
# The builtin itself, not Cython's inlined chr(), which coerces floats to a
# C integer where the pure twin's chr() raises TypeError.
_py_chr = chr

cdef tuple _DIGITS = tuple([chr(48 + i) for i in range(7)])
cdef tuple _NO_DATA = tuple([(i, None, KIND_NONE) for i in range(7)])
# decode_value's no-data result: '' as python-engineio gives it.
cdef tuple _NO_VALUE = tuple([(i, '', False) for i in range(7)])


cdef inline bint _json_start(unsigned int c) noexcept:
    # Same set as the pure twin's _JSON_START: a character a JSON document
    # accepted by json.loads can start with, digits excluded.
    return (c == 0x7b or c == 0x5b or c == 0x22 or c == 0x74 or c == 0x66
            or c == 0x6e or c == 0x4e or c == 0x49 or c == 0x2d
            or c == 0x20 or c == 0x09 or c == 0x0a or c == 0x0d)


cdef void _b64_encode_into(const unsigned char *src, Py_ssize_t n,
                           Py_UCS1 *dst, const char *alphabet) noexcept:
    cdef Py_ssize_t i = 0
    cdef unsigned int v
    while i + 3 <= n:
        v = (<unsigned int>src[i] << 16) | (<unsigned int>src[i + 1] << 8) \
            | src[i + 2]
        dst[0] = alphabet[v >> 18]
        dst[1] = alphabet[(v >> 12) & 63]
        dst[2] = alphabet[(v >> 6) & 63]
        dst[3] = alphabet[v & 63]
        dst += 4
        i += 3
    if n - i == 1:
        v = <unsigned int>src[i] << 16
        dst[0] = alphabet[v >> 18]
        dst[1] = alphabet[(v >> 12) & 63]
        dst[2] = 61
        dst[3] = 61
    elif n - i == 2:
        v = (<unsigned int>src[i] << 16) | (<unsigned int>src[i + 1] << 8)
        dst[0] = alphabet[v >> 18]
        dst[1] = alphabet[(v >> 12) & 63]
        dst[2] = alphabet[(v >> 6) & 63]
        dst[3] = 61


cdef str _b64_str(const unsigned char *src, Py_ssize_t n, bint prefix,
                  const char *alphabet):
    # Write straight into a fresh ASCII str: binascii would build a bytes
    # object that then has to be decoded and concatenated with the 'b'.
    cdef Py_ssize_t k = 1 if prefix else 0
    cdef str s = PyUnicode_New(k + ((n + 2) // 3) * 4, 127)
    cdef Py_UCS1 *dst = PyUnicode_1BYTE_DATA(s)
    if prefix:
        dst[0] = 98
    _b64_encode_into(src, n, dst + k, alphabet)
    return s


cdef inline int _b64val(unsigned int c) noexcept:
    if c > 127:
        return -1
    cdef unsigned char v = _B64DEC[c]
    return -1 if v == 0xFF else v


cdef bytes _b64decode_span(str s, Py_ssize_t start, Py_ssize_t end):
    # Strict base64 as binascii.a2b_base64(strict_mode=True) accepts it:
    # length a multiple of 4, only the alphabet, and '=' only as the last
    # one or two characters. Decoded from the str's own storage, so no
    # ASCII bytes copy of the text is made first.
    cdef Py_ssize_t n = end - start
    if n == 0:
        return b''
    if n & 3:
        raise ValueError('invalid base64 data')
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    cdef int pad = 0
    if PyUnicode_READ(kind, data, end - 1) == 61:
        pad = 2 if PyUnicode_READ(kind, data, end - 2) == 61 else 1
    cdef bytes out = PyBytes_FromStringAndSize(NULL, (n // 4) * 3 - pad)
    cdef unsigned char *dst = <unsigned char *>PyBytes_AS_STRING(out)
    cdef Py_ssize_t full = n - (4 if pad else 0)
    cdef Py_ssize_t i
    cdef const Py_UCS1 *p
    cdef int a, b, c, d
    cdef unsigned int acc
    if kind == 1:
        # The common case (every ASCII str is kind 1): a tight loop over
        # bytes; characters >= 128 map to 0xFF in the table.
        p = <const Py_UCS1 *>data + start
        i = 0
        while i < full:
            a = _B64DEC[p[i]]
            b = _B64DEC[p[i + 1]]
            c = _B64DEC[p[i + 2]]
            d = _B64DEC[p[i + 3]]
            if (a | b | c | d) & 0x80:
                raise ValueError('invalid base64 data')
            acc = (<unsigned int>a << 18) | (<unsigned int>b << 12) \
                | (<unsigned int>c << 6) | <unsigned int>d
            dst[0] = (acc >> 16) & 0xFF
            dst[1] = (acc >> 8) & 0xFF
            dst[2] = acc & 0xFF
            dst += 3
            i += 4
    else:
        i = 0
        while i < full:
            a = _b64val(PyUnicode_READ(kind, data, start + i))
            b = _b64val(PyUnicode_READ(kind, data, start + i + 1))
            c = _b64val(PyUnicode_READ(kind, data, start + i + 2))
            d = _b64val(PyUnicode_READ(kind, data, start + i + 3))
            if a < 0 or b < 0 or c < 0 or d < 0:
                raise ValueError('invalid base64 data')
            acc = (<unsigned int>a << 18) | (<unsigned int>b << 12) \
                | (<unsigned int>c << 6) | <unsigned int>d
            dst[0] = (acc >> 16) & 0xFF
            dst[1] = (acc >> 8) & 0xFF
            dst[2] = acc & 0xFF
            dst += 3
            i += 4
    if pad:
        a = _b64val(PyUnicode_READ(kind, data, end - 4))
        b = _b64val(PyUnicode_READ(kind, data, end - 3))
        if a < 0 or b < 0:
            raise ValueError('invalid base64 data')
        dst[0] = ((a << 2) | (b >> 4)) & 0xFF
        if pad == 1:
            c = _b64val(PyUnicode_READ(kind, data, end - 2))
            if c < 0:
                raise ValueError('invalid base64 data')
            dst[1] = ((b << 4) | (c >> 2)) & 0xFF
    return out


cdef inline object _as_bytes(object encoded):
    # bytes(b) returns b itself for exact bytes; skip the call.
    if PyBytes_CheckExact(encoded):
        return encoded
    return bytes(encoded)


cdef tuple _decode_span(str s, Py_ssize_t start, Py_ssize_t end):
    # decode_packet on s[start:end] without creating that slice: only the
    # data part (after the type digit) becomes a new str.
    if end == start:
        raise ValueError('empty packet')
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    cdef unsigned int first = PyUnicode_READ(kind, data, start)
    if first == 98:
        return (_MESSAGE, _b64decode_span(s, start + 1, end), _KIND_BINARY)
    if first < 48 or first > 54:
        raise ValueError('invalid packet type')
    cdef long ptype = first - 48
    if end - start == 1:
        return <tuple>_NO_DATA[ptype]
    cdef str value = PyUnicode_Substring(s, start + 1, end)
    if _json_start(PyUnicode_READ(kind, data, start + 1)):
        return (ptype, value, _KIND_JSON)
    return (ptype, value, _KIND_TEXT)


def decode_packet(encoded):
    """Decode one packet (str from text, bytes-like from binary frames)."""
    if PyUnicode_CheckExact(encoded):
        return _decode_span(encoded, 0, PyUnicode_GET_LENGTH(encoded))
    if isinstance(encoded, str):
        return _pure_codec.decode_packet(encoded)
    return (_MESSAGE, _as_bytes(encoded), _KIND_BINARY)


cdef object _encode_text(object packet_type, object data):
    cdef long pt
    if PyLong_CheckExact(packet_type) and 0 <= packet_type <= 6:
        pt = packet_type
        if data is None:
            return _DIGITS[pt]
        if PyUnicode_CheckExact(data):
            return <str>_DIGITS[pt] + <str>data
    # Generic path, written exactly as the pure twin so that floats, bools,
    # str subclasses and bad types behave (and fail) the same way.
    if packet_type < 0 or packet_type > 6:
        raise ValueError('invalid packet type')
    if data is None:
        return _py_chr(48 + packet_type)
    return _py_chr(48 + packet_type) + data


def encode_text(packet_type, data):
    """Encode a text packet: the type digit followed by ``data`` (a str)."""
    return _encode_text(packet_type, data)


cdef object _b64encode(object data):
    cdef Py_buffer view
    if not _acquire(data, &view):
        return _pure_codec.b64encode(data)
    try:
        return _b64_str(<const unsigned char *>view.buf, view.len, True,
                        _B64)
    finally:
        PyBuffer_Release(&view)


def b64encode(data):
    """``b`` + standard base64 of ``data`` (bytes-like), as a str."""
    return _b64encode(data)


def b64decode(text):
    """Decode standard base64 text (no ``b`` prefix); ValueError if bad."""
    if PyUnicode_CheckExact(text):
        return _b64decode_span(text, 0, PyUnicode_GET_LENGTH(text))
    return _pure_codec.b64decode(text)


cdef tuple _value_span(str s, Py_ssize_t start, Py_ssize_t end, loads,
                       owner=None):
    # _decode_span followed by the JSON rule, with no intermediate tuple.
    # loads None: owner.json.loads, looked up only for JSON data (a
    # Packet's decode: most packets are not JSON).
    if end == start:
        raise ValueError('empty packet')
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    cdef unsigned int first = PyUnicode_READ(kind, data, start)
    if first == 98:
        return (_MESSAGE, _b64decode_span(s, start + 1, end), True)
    if first < 48 or first > 54:
        raise ValueError('invalid packet type')
    cdef long ptype = first - 48
    if end - start == 1:
        return <tuple>_NO_VALUE[ptype]
    cdef str value = PyUnicode_Substring(s, start + 1, end)
    if _json_start(PyUnicode_READ(kind, data, start + 1)):
        if loads is None:
            loads = owner.json.loads
        if loads is _ejson_loads:
            return (ptype, _scan_json(value), False)
        try:
            return (ptype, loads(value), False)
        except (ValueError, RecursionError):
            return (ptype, value, False)
    return (ptype, value, False)


# engineio_fast.json.loads (Packet.json's default) is its decoder's
# decode(): whitespace, the value (scan_once), whitespace, the end. Done
# here without its Python frames and regular expressions.
from engineio_fast import json as _ejson
cdef object _ejson_loads = _ejson.loads
cdef object _ejson_scan = _ejson.scan_once


cdef inline bint _json_ws(unsigned int c) noexcept:
    return c == 0x20 or c == 0x09 or c == 0x0a or c == 0x0d


cdef object _scan_json(str text):
    # the JSON value ``text`` holds, or ``text`` itself when it holds
    # none (what _value_span does with loads' ValueError)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t end
    while i < n and _json_ws(PyUnicode_READ(kind, data, i)):
        i += 1
    try:
        value, end = _ejson_scan(text, i)
    except (StopIteration, ValueError, RecursionError):
        return text
    while end < n and _json_ws(PyUnicode_READ(kind, data, end)):
        end += 1
    return value if end == n else text


def decode_value(encoded, loads):
    """Decode one packet to ``(packet_type, value, is_binary)``."""
    if PyUnicode_CheckExact(encoded):
        return _value_span(encoded, 0, PyUnicode_GET_LENGTH(encoded), loads)
    if isinstance(encoded, str):
        return _pure_codec.decode_value(encoded, loads)
    return (_MESSAGE, _as_bytes(encoded), True)


def encode_value(packet_type, data, b64, dumps):
    """Encode a packet from its API-level data."""
    # C-level calls to the helpers below: calling the module's own def
    # functions would go through a global lookup and the Python call
    # protocol on every packet.
    if PyUnicode_CheckExact(data) or data is None:
        return _encode_text(packet_type, data)
    if (isinstance(data, bytes) or isinstance(data, bytearray)
            or isinstance(data, memoryview)):
        if packet_type != _MESSAGE:
            raise ValueError('binary packets can only be of type MESSAGE')
        return _b64encode(data) if b64 else _as_bytes(data)
    if isinstance(data, str):
        return _encode_text(packet_type, data)
    if isinstance(data, dict) or isinstance(data, list):
        return _encode_text(packet_type, dumps(data))
    return _encode_text(packet_type, str(data))


cdef str _join_items(list parts):
    # encoded packets (str, or bytes sent as b + base64) joined with the
    # record separator; bytes are replaced in the list as they are encoded
    cdef Py_ssize_t i
    for i in range(len(parts)):
        if not isinstance(parts[i], str):
            parts[i] = _b64encode(parts[i])
    return PyUnicode_Join(SEPARATOR, parts)


def encode_payload(items):
    """Encode queued packets (str and bytes) for a polling response."""
    return _join_items(list(items))


def split_payload(body):
    """Split a polling payload (str) into encoded packets."""
    if PyUnicode_CheckExact(body):
        if PyUnicode_GET_LENGTH(body) == 0:
            raise ValueError('empty payload')
        return (<str>body).split(SEPARATOR)
    return _pure_codec.split_payload(body)


def decode_payload(body):
    """Decode a whole polling payload into a list of decoded packets."""
    if not PyUnicode_CheckExact(body):
        if isinstance(body, str):
            return _pure_codec.decode_payload(body)
        try:
            if PyBytes_CheckExact(body):
                body = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(body),
                                            len(<bytes>body), NULL)
            else:
                body = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ValueError('payload is not valid UTF-8') from None
    cdef str s = body
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    if n == 0:
        raise ValueError('empty payload')
    cdef list out = []
    cdef Py_ssize_t start = 0
    cdef Py_ssize_t pos
    while True:
        # FindChar is memchr-fast and lets each packet be decoded in place
        # instead of first materialising a list of split strings.
        pos = PyUnicode_FindChar(s, _RS, start, n, 1)
        if pos < 0:
            out.append(_decode_span(s, start, n))
            return out
        out.append(_decode_span(s, start, pos))
        start = pos + 1


def join_payload(encoded_packets):
    """Join already-encoded text packets (str) with the record separator."""
    return PyUnicode_Join(SEPARATOR, encoded_packets)


cdef str _js_escape(str s):
    # One pass to size the result (and find its real max char, so the new
    # str is in canonical PEP 393 form), one pass to write it; a payload
    # with nothing to escape is returned as is, like str.replace does.
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    cdef int kind = PyUnicode_KIND(s)
    cdef void *data = PyUnicode_DATA(s)
    cdef Py_ssize_t i, j, extra = 0
    cdef unsigned int c, maxc = 127
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if c == 0x5c or c == 0x22 or c == 0x0a or c == 0x0d:
            extra += 1
        elif c == 0x2028 or c == 0x2029:
            extra += 5
        elif c == 0x3c and i + 1 < n and PyUnicode_READ(kind, data,
                                                        i + 1) == 0x2f:
            extra += 1
        elif c > maxc:
            maxc = c
    if extra == 0:
        return s
    cdef str out = PyUnicode_New(n + extra, maxc)
    cdef int okind = PyUnicode_KIND(out)
    cdef void *odata = PyUnicode_DATA(out)
    j = 0
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if c == 0x5c or c == 0x22:
            PyUnicode_WRITE(okind, odata, j, 0x5c)
            PyUnicode_WRITE(okind, odata, j + 1, c)
            j += 2
        elif c == 0x0a or c == 0x0d:
            PyUnicode_WRITE(okind, odata, j, 0x5c)
            PyUnicode_WRITE(okind, odata, j + 1, 0x6e if c == 0x0a else 0x72)
            j += 2
        elif c == 0x2028 or c == 0x2029:
            PyUnicode_WRITE(okind, odata, j, 0x5c)
            PyUnicode_WRITE(okind, odata, j + 1, 0x75)
            PyUnicode_WRITE(okind, odata, j + 2, 0x32)
            PyUnicode_WRITE(okind, odata, j + 3, 0x30)
            PyUnicode_WRITE(okind, odata, j + 4, 0x32)
            PyUnicode_WRITE(okind, odata, j + 5, 0x38 if c == 0x2028 else 0x39)
            j += 6
        elif c == 0x3c and i + 1 < n and PyUnicode_READ(kind, data,
                                                        i + 1) == 0x2f:
            PyUnicode_WRITE(okind, odata, j, 0x3c)
            PyUnicode_WRITE(okind, odata, j + 1, 0x5c)
            j += 2
        else:
            PyUnicode_WRITE(okind, odata, j, c)
            j += 1
    return out


def jsonp_wrap(index, payload):
    """Wrap a payload for a JSONP poll: ``___eio[index]("...");``."""
    if not PyUnicode_CheckExact(payload):
        return _pure_codec.jsonp_wrap(index, payload)
    return '___eio[%d]("%s");' % (index, _js_escape(payload))
