"""A python-socketio ``Packet`` class on engineio_fast's compiled Socket.IO
kernels (``sio_*`` in ``engineio_fast/_pure/sio.py`` and its compiled
twin): the same packets, the same bytes, the same attributes as
python-socketio's own, encoded and decoded faster, and decoding refuses
what socket.io-parser refuses
(:class:`engineio_fast.protocol.sio_packets.InvalidPacket`).

With ``engineio_fast.install()`` a python-socketio server on engineio_fast
that uses python-socketio's default serializer gets it (one of the
accelerations of :mod:`engineio_fast.sio_accel`, off with
``ENGINEIO_FAST_SOCKETIO_ACCEL=0``). Without the switch it is
python-socketio's documented ``serializer=`` option::

    import socketio
    from engineio_fast.sio_packet import packet_class
    sio = socketio.AsyncServer(serializer=packet_class())

It subclasses python-socketio's ``socketio.packet.Packet`` (made on first
use, so importing engineio_fast does not import socketio), keeping its
constructor, ``add_attachment``, ``json`` (python-socketio's ``json=``
option still applies) and ``uses_binary_events``; ``encode``, ``decode``,
``data_is_binary``, ``deconstruct_binary`` and ``reconstruct_binary`` run
on the kernels. A subclass of it may override any of them.
"""

import json as _std_json
from typing import Any, Dict, List, Optional

from . import _accel
from . import json as _our_json
from .protocol.sio_packets import loads_for, read_text

BINARY_EVENT = 5
BINARY_ACK = 6

_classes: Dict[Any, Any] = {}
_compact = _std_json.JSONEncoder(separators=(',', ':')).encode


def packet_class(base: Optional[Any] = None,
                 kernels: Optional[Any] = None) -> Any:
    """The accelerated subclass of ``base`` (python-socketio's
    ``socketio.packet.Packet`` by default), made once per base, on
    ``kernels`` (the active ones by default; the tests pass both)."""
    if base is None:
        from socketio import packet as sio_packet
        base = sio_packet.Packet
    k = kernels if kernels is not None else _accel.active
    cls = _classes.get((base, k.name))
    if cls is None:
        cls = _classes[base, k.name] = _make(base, k)
    return cls


def fast_classes() -> Any:
    """The classes :func:`packet_class` made (a view)."""
    return _classes.values()


def _make(base: Any, k: Any) -> Any:
    encode_head = k.sio_encode_head
    is_binary = k.sio_is_binary
    deconstruct = k.sio_deconstruct
    reconstruct = k.sio_reconstruct

    class Packet(base):
        __doc__ = ('python-socketio\'s Packet on engineio_fast\'s '
                   'Socket.IO kernels (engineio_fast.sio_packet).')

        def encode(self) -> Any:
            ptype = self.packet_type
            if ptype == BINARY_EVENT or ptype == BINARY_ACK:
                data, attachments = self.deconstruct_binary(self.data)
                out = encode_head(ptype, len(attachments), self.namespace,
                                  self.id)
            else:
                data = self.data
                attachments = None
                out = encode_head(ptype, None, self.namespace, self.id)
            if data is not None:
                json = self.json
                if json is _our_json or json is _std_json:
                    out += _compact(data)
                else:
                    out += json.dumps(data, separators=(',', ':'))
            if attachments is not None:
                return [out] + attachments
            return out

        def decode(self, encoded_packet: Any) -> int:
            if encoded_packet.__class__ is not str:
                return base.decode(self, encoded_packet)
            ptype, attachments, namespace, ack, payload = read_text(
                encoded_packet, loads_for(self.json), k)
            self.packet_type = ptype
            self.namespace = namespace
            self.data = payload
            if ack is not None:
                self.id = ack
            return attachments

        @classmethod
        def data_is_binary(cls, data: Any) -> bool:
            return is_binary(data)

        @classmethod
        def deconstruct_binary(cls, data: Any) -> Any:
            return deconstruct(data)

        @classmethod
        def reconstruct_binary(cls, data: Any, attachments: List[Any]) -> Any:
            return reconstruct(data, attachments)

    Packet.__qualname__ = Packet.__name__ = 'Packet'
    Packet.__module__ = __name__
    return Packet
