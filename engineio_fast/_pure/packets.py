"""The work of the public ``Packet`` and ``Payload`` objects (issue 15:
python-socketio and applications build one per message, so the object is
part of the cost, not only the codec under it).

:class:`PacketCore` is the base of :class:`engineio_fast.packet.Packet`:
construction, ``encode`` (with python-engineio's encode cache) and
``decode``. The subclass supplies the ``json`` class attribute (what
``Packet.json = ...`` replaces) and may override ``_dumps``, ``encode`` and
``decode`` as python-engineio's users do. :func:`decode_packets` and
:func:`encode_packets` are a payload's loop over its packets.

This module is the spec; ``src_pyx/packets.pxi`` is its compiled twin
(a ``cdef class`` whose instances a Python subclass still gives a
``__dict__``).
"""

from typing import Any

from .codec import decode_value, encode_payload, encode_value, split_payload

_MESSAGE = 4
_NOOP = 6
_BINARY_DATA = (bytes, bytearray)
_ENCODED = (str, bytes, bytearray, memoryview)


class PacketCore:
    """An Engine.IO packet: ``packet_type``, ``data``, ``binary`` and
    ``encode_cache``, as python-engineio's ``Packet`` has them."""

    #: set by the subclass (the JSON module: ``dumps`` and ``loads``)
    json: Any

    def __init__(self, packet_type=_NOOP, data=None, encoded_packet=None):
        self.packet_type = packet_type
        self.data = data
        self.encode_cache = None
        self.binary = binary = isinstance(data, _BINARY_DATA)
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
        cached = self.encode_cache
        if cached is not None:
            return cached
        encoded = encode_value(self.packet_type, self.data, b64, self._dumps)
        self.encode_cache = encoded
        return encoded

    def decode(self, encoded_packet):
        """Decode ``encoded_packet`` (a str, or bytes-like for a binary
        message) into this packet.

        Raises:
            TypeError: ``encoded_packet`` is neither.
            ValueError: it is not a valid packet.
        """
        if not isinstance(encoded_packet, _ENCODED):
            raise TypeError('encoded_packet must be str or bytes-like, not '
                            + type(encoded_packet).__name__)
        self.packet_type, self.data, self.binary = decode_value(
            encoded_packet, self.json.loads)


def fast_construction(cls):
    """Whether ``cls`` (a subclass of :class:`PacketCore`) was given a
    faster construction: never here, a Python class is already called as
    fast as Python calls classes (the compiled twin speeds up a Python
    subclass of its compiled ``PacketCore``)."""
    return False


def decode_packets(body, cls):
    """The packets of a payload (``body``, a non-empty str) as instances of
    ``cls`` (a :class:`PacketCore` subclass), made without calling its
    ``__init__``; JSON data is read with ``cls.json.loads``."""
    loads = cls.json.loads
    new = cls.__new__
    packets = []
    for encoded in split_payload(body):
        pkt = new(cls)
        pkt.packet_type, pkt.data, pkt.binary = decode_value(encoded, loads)
        pkt.encode_cache = None
        packets.append(pkt)
    return packets


def encode_packets(packets):
    """A payload of ``packets`` (each encoded with ``encode(b64=True)``)."""
    return encode_payload([pkt.encode(b64=True) for pkt in packets])
