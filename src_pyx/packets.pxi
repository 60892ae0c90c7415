# The public Packet and Payload objects' work: the compiled twin of
# engineio_fast/_pure/packets.py (included by _speedups.pyx after
# codec.pxi, whose C helpers it calls). Same attributes, results and
# exception classes as the pure twin; see that module for the contract.

cdef enum:
    _NOOP = 6


cdef class PacketCore:
    """An Engine.IO packet: ``packet_type``, ``data``, ``binary`` and
    ``encode_cache``, as python-engineio's ``Packet`` has them."""

    cdef public object packet_type
    cdef public object data
    cdef public object encode_cache
    cdef public object binary

    def __init__(self, packet_type=_NOOP, data=None, encoded_packet=None):
        self.packet_type = packet_type
        self.data = data
        self.encode_cache = None
        cdef bint binary
        if PyUnicode_CheckExact(data) or data is None:
            binary = False
        else:
            binary = isinstance(data, bytes) or isinstance(data, bytearray)
        self.binary = binary
        if binary and packet_type != _MESSAGE:
            raise ValueError('Binary packets can only be of type MESSAGE')
        if encoded_packet is not None:
            self.decode(encoded_packet)

    def _dumps(self, data):
        """``data`` (a dict or list) as compact JSON, with ``self.json``."""
        return self.json.dumps(data, separators=(',', ':'))

    def encode(self, b64=False):
        """The packet encoded (str, or bytes for binary data unless
        ``b64``); the first result is cached and returned by every later
        call (python-engineio's rule)."""
        return _packet_encode(self, b64)

    def decode(self, encoded_packet):
        """Decode ``encoded_packet`` (a str, or bytes-like for a binary
        message) into this packet.

        Raises:
            TypeError: ``encoded_packet`` is neither.
            ValueError: it is not a valid packet.
        """
        cdef tuple t
        if PyUnicode_CheckExact(encoded_packet):
            t = _value_span(encoded_packet, 0,
                            PyUnicode_GET_LENGTH(encoded_packet), None,
                            self)
        elif (isinstance(encoded_packet, str)
              or isinstance(encoded_packet, bytes)
              or isinstance(encoded_packet, bytearray)
              or isinstance(encoded_packet, memoryview)):
            t = decode_value(encoded_packet, self.json.loads)
        else:
            raise TypeError('encoded_packet must be str or bytes-like, not '
                            + type(encoded_packet).__name__)
        self.packet_type = t[0]
        self.data = t[1]
        self.binary = t[2]


cdef object _packet_encode(PacketCore pkt, object b64):
    cached = pkt.encode_cache
    if cached is not None:
        return cached
    data = pkt.data
    if PyUnicode_CheckExact(data) or data is None:
        encoded = _encode_text(pkt.packet_type, data)
    elif PyBytes_CheckExact(data) and pkt.packet_type == _MESSAGE:
        encoded = _b64encode(data) if b64 else data
    elif PyDict_CheckExact(data) or PyList_CheckExact(data):
        encoded = _encode_text(pkt.packet_type, pkt._dumps(data))
    else:
        encoded = encode_value(pkt.packet_type, data, b64, pkt._dumps)
    pkt.encode_cache = encoded
    return encoded


# the types whose encode is PacketCore's own (a payload then encodes their
# packets without the Python call); one lookup per type, not per packet
cdef dict _own_encode = {}


cdef bint _plain_encode(type cls):
    cdef object known = _own_encode.get(cls)
    if known is None:
        known = issubclass(cls, PacketCore) and \
            getattr(cls, 'encode', None) is PacketCore.encode
        if len(_own_encode) < 256:
            _own_encode[cls] = known
    return known is True


def decode_packets(body, cls):
    """The packets of a payload (``body``, a non-empty str) as instances of
    ``cls`` (a :class:`PacketCore` subclass), made without calling its
    ``__init__``; JSON data is read with ``cls.json.loads``."""
    if not PyUnicode_CheckExact(body) or not issubclass(cls, PacketCore):
        return _pure_packets.decode_packets(body, cls)
    cdef str s = body
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    if n == 0:
        raise ValueError('empty payload')
    loads = cls.json.loads
    new = cls.__new__
    cdef list out = []
    cdef Py_ssize_t start = 0
    cdef Py_ssize_t pos, end
    cdef PacketCore pkt
    cdef tuple t
    while True:
        pos = PyUnicode_FindChar(s, _RS, start, n, 1)
        end = n if pos < 0 else pos
        t = _value_span(s, start, end, loads, None)
        pkt = new(cls)
        pkt.packet_type = t[0]
        pkt.data = t[1]
        pkt.binary = t[2]
        pkt.encode_cache = None
        out.append(pkt)
        if pos < 0:
            return out
        start = pos + 1


def encode_packets(packets):
    """A payload of ``packets`` (each encoded with ``encode(b64=True)``)."""
    cdef list parts = []
    for pkt in packets:
        if _plain_encode(type(pkt)):
            parts.append(_packet_encode(<PacketCore>pkt, True))
        else:
            parts.append(pkt.encode(b64=True))
    return _join_items(parts)
