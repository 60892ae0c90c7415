"""Engine.IO packets, compatible with python-engineio's ``engineio.packet``.

The encoding and decoding work is done by the codec kernels selected in
:mod:`engineio_fast._accel` (compiled when available, else pure Python).
"""

from typing import TYPE_CHECKING, Any, Union

from . import _accel
from . import json as _json

# python-engineio's names (``X as X``: re-exported, also to type checkers)
from .protocol.packets import CLOSE as CLOSE
from .protocol.packets import MESSAGE as MESSAGE
from .protocol.packets import NAMES as NAMES
from .protocol.packets import NOOP as NOOP
from .protocol.packets import OPEN as OPEN
from .protocol.packets import PING as PING
from .protocol.packets import PONG as PONG
from .protocol.packets import UPGRADE as UPGRADE

packet_names = list(NAMES)

binary_types = (bytes, bytearray)

# json.dumps(obj, separators=...) builds a new JSONEncoder per call, about
# a third of its cost for a small dict: engineio_fast.json's compact_dumps
# does not. Used while Packet.json is the default module.
_compact_dumps = _json.compact_dumps


_PacketCore: Any = _accel.active.PacketCore


class Packet(_PacketCore):
    """Engine.IO packet.

    Args:
        packet_type: The packet type, one of ``OPEN`` ... ``NOOP``.
        data: The packet's data: a str, bytes-like (message packets only),
            a dict or list (sent as JSON), None, or anything else (sent as
            its ``str()``).
        encoded_packet: When given, the packet is decoded from it (a str
            from a text frame or payload, bytes from a binary frame) and
            ``packet_type``/``data`` are replaced by the decoded values.

    Raises:
        ValueError: ``data`` is binary and ``packet_type`` is not
            ``MESSAGE``, or ``encoded_packet`` is not a valid packet.
        TypeError: ``encoded_packet`` is neither a str nor bytes-like.

    The ``json`` class attribute is the JSON module used to encode dict and
    list data and to decode text data; it defaults to
    :mod:`engineio_fast.json` and can be replaced (``Packet.json = ...``)
    as with python-engineio.

    Construction, ``encode`` and ``decode`` run in the kernels
    (``PacketCore`` in ``src_pyx/packets.pxi``, the pure twin
    ``engineio_fast/_pure/packets.py``); a subclass may override any of
    them, and instances take other attributes as usual.

    ``encode(b64=False)`` returns the packet encoded: a str, or bytes for
    binary data when ``b64`` is false (``b`` + base64 text when it is true,
    for polling). As in python-engineio, the first encoding is cached in
    ``encode_cache`` and returned by every later call, even if ``data`` or
    ``b64`` changed since (encoding once for many recipients is a common
    pattern). It raises ValueError for binary data in a packet that is not
    a message, or a packet type outside 0-6.

    ``decode(encoded_packet)`` decodes a transmitted packet into this
    object. Text data that is valid JSON and does not start with a digit is
    decoded (``4{"a":1}`` gives a dict, ``4true`` True); other text is kept
    as a str (``4123`` gives ``"123"``). ``b`` + base64 text and bytes-like
    input give bytes. It raises ValueError when the packet is empty, its
    type is not a digit 0-6, or its base64 data is invalid.
    """

    json: Any = _json

    if TYPE_CHECKING:
        packet_type: int
        data: Any
        encode_cache: Union[None, str, bytes]
        binary: bool

        def __init__(self, packet_type: int = NOOP, data: Any = None,
                     encoded_packet: Union[None, str, bytes, bytearray,
                                           memoryview] = None) -> None: ...

        def encode(self, b64: bool = False) -> Union[str, bytes]: ...

        def decode(self, encoded_packet: Union[str, bytes, bytearray,
                                               memoryview]) -> None: ...

    def _dumps(self, data: Any) -> str:
        if self.json is _json:
            return _compact_dumps(data)
        return self.json.dumps(data, separators=(',', ':'))


# construction at PacketCore's own speed while Packet keeps PacketCore's
# __new__ and __init__ (compiled kernels; see src_pyx/packets.pxi)
_accel.active.fast_construction(Packet)
