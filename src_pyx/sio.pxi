# Socket.IO packet kernels: the compiled twin of engineio_fast/_pure/sio.py
# (the spec: same values, same exception classes). Exact str, list, dict,
# bytes and bytearray take the C paths; anything else (subclasses included)
# goes to the pure twin, which uses isinstance() as python-socketio does.

from engineio_fast._pure import sio as _pure_sio

InvalidPacket = _pure_sio.InvalidPacket
cdef object _SioInvalid = _pure_sio.InvalidPacket
cdef frozenset _SIO_RESERVED = _pure_sio.RESERVED_EVENTS
cdef Py_ssize_t _SIO_MAX_ATTACHMENTS = _pure_sio.MAX_ATTACHMENTS
cdef Py_ssize_t _SIO_MAX_ID_DIGITS = _pure_sio.MAX_ID_DIGITS
cdef str _SIO_PLACEHOLDER = '_placeholder'
cdef str _SIO_NUM = 'num'


def sio_read_head(data):
    if not PyUnicode_CheckExact(data):
        return _pure_sio.sio_read_head(data)
    cdef Py_ssize_t end = PyUnicode_GET_LENGTH(data)
    cdef int kind = PyUnicode_KIND(data)
    cdef void *buf = PyUnicode_DATA(data)
    cdef Py_ssize_t i, k, dash, start, stop, query
    cdef unsigned int c
    cdef int ptype, attachments = 0
    if end == 0:
        raise _SioInvalid('unknown packet type')
    c = PyUnicode_READ(kind, buf, 0)
    if c < 48 or c > 54:
        raise _SioInvalid('unknown packet type')
    ptype = c - 48
    i = 1
    if ptype == 5 or ptype == 6:
        dash = -1
        k = 1
        while k < end and k < 4:
            if PyUnicode_READ(kind, buf, k) == 45:     # '-'
                dash = k
                break
            k += 1
        if dash < 2:
            raise _SioInvalid('illegal attachments')
        for k in range(1, dash):
            c = PyUnicode_READ(kind, buf, k)
            if c < 48 or c > 57:
                raise _SioInvalid('illegal attachments')
            attachments = attachments * 10 + <int>(c - 48)
        if attachments < 1:
            raise _SioInvalid('illegal attachments')
        if attachments > _SIO_MAX_ATTACHMENTS:
            raise _SioInvalid('too many attachments')
        i = dash + 1
    namespace = None
    if i < end and PyUnicode_READ(kind, buf, i) == 47:     # '/'
        stop = PyUnicode_FindChar(data, 44, i, end, 1)     # ','
        if stop < 0:
            stop = end
        query = PyUnicode_FindChar(data, 63, i, stop, 1)   # '?'
        namespace = PyUnicode_Substring(data, i, stop if query < 0
                                        else query)
        i = stop + 1 if stop < end else end
    ack = None
    start = i
    while i < end:
        c = PyUnicode_READ(kind, buf, i)
        if c < 48 or c > 57:
            break
        i += 1
    if i > start:
        if i - start > _SIO_MAX_ID_DIGITS:
            raise _SioInvalid('ack id too long')
        ack = int(PyUnicode_Substring(data, start, i))
    return ptype, attachments, namespace, ack, i


cdef int _sio_placeholders(object value, long attachments) except -1:
    cdef object num
    if type(value) is list:
        for item in <list>value:
            _sio_placeholders(item, attachments)
    elif type(value) is dict:
        if (<dict>value).get(_SIO_PLACEHOLDER) is True:
            num = (<dict>value).get(_SIO_NUM)
            if type(num) is not int or not 0 <= num < attachments:
                raise _SioInvalid('illegal attachments')
        else:
            for item in (<dict>value).values():
                _sio_placeholders(item, attachments)
    return 0


def sio_check_payload(int packet_type, payload, int attachments):
    cdef object cls = type(payload)
    cdef object name
    if packet_type == 2 or packet_type == 5:
        if cls is not list or not payload:
            raise _SioInvalid('invalid payload')
        name = (<list>payload)[0]
        if type(name) is str:
            if name in _SIO_RESERVED:
                raise _SioInvalid('invalid payload')
        elif type(name) is not int and type(name) is not float:
            raise _SioInvalid('invalid payload')
    elif packet_type == 3 or packet_type == 6:
        if cls is not list:
            raise _SioInvalid('invalid payload')
    elif packet_type == 0:
        if cls is not dict:
            raise _SioInvalid('invalid payload')
    elif packet_type == 4:
        if cls is not str and cls is not dict:
            raise _SioInvalid('invalid payload')
    else:
        raise _SioInvalid('invalid payload')
    if attachments:
        # recursion: the payload came from json, whose own nesting limit
        # (the interpreter's recursion limit) is far below C's stack
        _sio_placeholders(payload, attachments)


def sio_encode_head(packet_type, attachments, namespace, ack):
    if type(packet_type) is not int or \
            (attachments is not None and type(attachments) is not int) or \
            (namespace is not None and type(namespace) is not str) or \
            (ack is not None and type(ack) is not int):
        return _pure_sio.sio_encode_head(packet_type, attachments,
                                         namespace, ack)
    cdef list parts = [str(packet_type)]
    if attachments is not None:
        parts.append(str(attachments))
        parts.append('-')
    if namespace is not None and namespace != '/':
        parts.append(namespace)
        parts.append(',')
    if ack is not None:
        parts.append(str(ack))
    if len(parts) == 1:
        return parts[0]
    return ''.join(parts)


cdef int _sio_is_binary(object data) except -1:
    cdef object cls = type(data)
    if cls is bytes or cls is bytearray:
        return 1
    if cls is list:
        for item in <list>data:
            if _sio_is_binary(item):
                return 1
        return 0
    if cls is dict:
        for item in (<dict>data).values():
            if _sio_is_binary(item):
                return 1
        return 0
    if cls is str or cls is int or cls is float or data is None or \
            cls is bool:
        return 0
    return 1 if _pure_sio.sio_is_binary(data) else 0


def sio_is_binary(data):
    return _sio_is_binary(data) == 1


cdef object _sio_deconstruct(object data, list attachments):
    cdef object cls = type(data)
    if cls is bytes or cls is bytearray:
        attachments.append(data)
        return {_SIO_PLACEHOLDER: True, _SIO_NUM: len(attachments) - 1}
    if cls is list:
        return [_sio_deconstruct(item, attachments) for item in <list>data]
    if cls is dict:
        return {key: _sio_deconstruct(value, attachments)
                for key, value in (<dict>data).items()}
    if cls is str or cls is int or cls is float or data is None or \
            cls is bool:
        return data
    return _pure_sio._sio_deconstruct(data, attachments)


def sio_deconstruct(data):
    cdef list attachments = []
    return _sio_deconstruct(data, attachments), attachments


def sio_reconstruct(data, attachments):
    cdef object cls = type(data)
    if cls is list:
        return [sio_reconstruct(item, attachments) for item in <list>data]
    if cls is dict:
        if (<dict>data).get(_SIO_PLACEHOLDER) and _SIO_NUM in <dict>data:
            return attachments[(<dict>data)[_SIO_NUM]]
        return {key: sio_reconstruct(value, attachments)
                for key, value in (<dict>data).items()}
    if cls is str or cls is int or cls is float or data is None or \
            cls is bool:
        return data
    return _pure_sio.sio_reconstruct(data, attachments)
