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
        _packet_init(self, packet_type, data, encoded_packet)

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
        _packet_decode(self, encoded_packet)


cdef int _packet_decode(PacketCore self, object encoded_packet) except -1:
    cdef tuple t
    if PyUnicode_CheckExact(encoded_packet):
        t = _value_span(encoded_packet, 0,
                        PyUnicode_GET_LENGTH(encoded_packet), None, self)
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
    return 0


cdef int _packet_init(PacketCore self, object packet_type, object data,
                      object encoded_packet) except -1:
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
        if _own_method(type(self), _DECODE):
            _packet_decode(self, encoded_packet)
        else:
            self.decode(encoded_packet)
    return 0


# Calling a Python subclass of a compiled class goes through type.__call__
# with the keywords in a dict (about 150 ns more than calling PacketCore,
# whose own vectorcall Cython makes; a heap type does not inherit it).
# fast_construction() gives such a subclass (engineio_fast.packet.Packet)
# a vectorcall of its own doing what type.__call__ does for it while its
# __new__ and __init__ are PacketCore's: anything else (a replaced
# __init__, an unknown or repeated argument) goes to type.__call__.
cdef extern from *:
    """
    typedef PyObject *(*__efast_vcfunc)(PyObject *, PyObject *const *,
                                        size_t, PyObject *);
    static void __efast_set_vectorcall(PyObject *t, __efast_vcfunc f) {
        ((PyTypeObject *)t)->tp_vectorcall = f;
    }
    static int __efast_same_slots(PyObject *t, PyObject *base) {
        return ((PyTypeObject *)t)->tp_init == ((PyTypeObject *)base)->tp_init
            && ((PyTypeObject *)t)->tp_new == ((PyTypeObject *)base)->tp_new;
    }
    static PyObject *__efast_new(PyObject *t, PyObject *no_args) {
        return ((PyTypeObject *)t)->tp_new((PyTypeObject *)t, no_args, NULL);
    }
    """
    ctypedef void *_vcfunc "__efast_vcfunc"
    void _set_vectorcall "__efast_set_vectorcall"(object t, _vcfunc f)
    bint _same_slots "__efast_same_slots"(object t, object base)
    object _tp_new "__efast_new"(object t, object no_args)
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)


cdef object _slow_call(object cls, PyObject **args, Py_ssize_t nargs,
                       PyObject *kwnames):
    cdef list pos = [<object>args[i] for i in range(nargs)]
    cdef dict kw = {}
    cdef tuple names
    if kwnames != NULL:
        names = <tuple>kwnames
        for i in range(len(names)):
            kw[names[i]] = <object>args[nargs + i]
    return type.__call__(cls, *pos, **kw)


cdef object _packet_call(PyObject *t, PyObject **args, size_t nargsf,
                         PyObject *kwnames):
    cdef object cls = <object>t
    cdef Py_ssize_t nargs = PyVectorcall_NARGS(nargsf)
    cdef Py_ssize_t i
    cdef int given = 0
    cdef tuple names
    if nargs > 3 or not _same_slots(cls, PacketCore):
        return _slow_call(cls, args, nargs, kwnames)
    packet_type = <object>args[0] if nargs > 0 else _NOOP
    data = <object>args[1] if nargs > 1 else None
    encoded_packet = <object>args[2] if nargs > 2 else None
    if kwnames != NULL:
        names = <tuple>kwnames
        given = (1 << nargs) - 1
        for i in range(len(names)):
            name = names[i]
            if name == 'data' and not given & 2:
                data = <object>args[nargs + i]
                given |= 2
            elif name == 'packet_type' and not given & 1:
                packet_type = <object>args[nargs + i]
                given |= 1
            elif name == 'encoded_packet' and not given & 4:
                encoded_packet = <object>args[nargs + i]
                given |= 4
            else:
                return _slow_call(cls, args, nargs, kwnames)
    cdef PacketCore pkt = <PacketCore>_tp_new(cls, ())
    _packet_init(pkt, packet_type, data, encoded_packet)
    return pkt


def fast_construction(cls):
    """Give ``cls``, a Python subclass of :class:`PacketCore` that keeps
    its ``__new__`` and ``__init__``, construction as fast as
    PacketCore's own (not inherited by its subclasses). Returns whether it
    was given."""
    if not isinstance(cls, type) or not issubclass(cls, PacketCore) or \
            cls is PacketCore or not _same_slots(cls, PacketCore):
        return False
    _set_vectorcall(cls, <_vcfunc>_packet_call)
    return True


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


# the types whose encode (or decode) is PacketCore's own: a payload then
# encodes their packets, and construction decodes, without the Python
# call. Looked up once per type and version of it: CPython gives a type a
# new version tag (0 until then) whenever it or a base is changed, so
# ``Packet.decode = f`` later is seen at the next packet. On 3.9 a change
# only clears the tag's valid flag (the number stays until the next
# look-up): there a tag without that flag counts as none (3.13 no longer
# sets the flag at all; from 3.10 a change zeroes the tag itself).
cdef extern from *:
    """
    static unsigned int __efast_type_tag(PyObject *t) {
    #if PY_VERSION_HEX < 0x030A0000
        if (!PyType_HasFeature((PyTypeObject *)t,
                               Py_TPFLAGS_VALID_VERSION_TAG))
            return 0;
    #endif
        return ((PyTypeObject *)t)->tp_version_tag;
    }
    """
    unsigned int _type_tag "__efast_type_tag"(object t)

cdef enum:
    _ENCODE = 1
    _DECODE = 2
cdef dict _own_methods = {}


cdef bint _own_method(type cls, int which):
    cdef tuple seen = _own_methods.get(cls)
    cdef unsigned int tag = _type_tag(cls)
    cdef int known
    if seen is not None and tag != 0 and <unsigned int>seen[0] == tag:
        return (<int>seen[1] & which) != 0
    known = 0
    if issubclass(cls, PacketCore):
        if getattr(cls, 'encode', None) is PacketCore.encode:
            known |= _ENCODE
        if getattr(cls, 'decode', None) is PacketCore.decode:
            known |= _DECODE
    tag = _type_tag(cls)      # the lookups above gave it one if it had none
    if tag != 0 and (seen is not None or len(_own_methods) < 256):
        _own_methods[cls] = (tag, known)
    return (known & which) != 0


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
        if _own_method(type(pkt), _ENCODE):
            parts.append(_packet_encode(<PacketCore>pkt, True))
        else:
            parts.append(pkt.encode(b64=True))
    return _join_items(parts)
