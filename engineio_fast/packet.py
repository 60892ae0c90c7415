"""Engine.IO packets, compatible with python-engineio's ``engineio.packet``.

The encoding and decoding work is done by the codec kernels selected in
:mod:`engineio_fast._accel` (compiled when available, else pure Python).
"""

from typing import Any, Union

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

# One encoder reused for every packet: json.dumps(obj, separators=...)
# builds a new JSONEncoder per call, about a third of its cost for a small
# dict. Used while Packet.json is the default module.
_compact_dumps = _json.JSONEncoder(separators=(',', ':')).encode


class Packet:
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

    The ``json`` class attribute is the JSON module used to encode dict and
    list data and to decode text data; it defaults to
    :mod:`engineio_fast.json` and can be replaced (``Packet.json = ...``)
    as with python-engineio.
    """

    json: Any = _json

    def __init__(self, packet_type: int = NOOP, data: Any = None,
                 encoded_packet: Union[None, str, bytes, bytearray,
                                       memoryview] = None) -> None:
        self.packet_type = packet_type
        self.data = data
        self.encode_cache: Union[None, str, bytes] = None
        self.binary = isinstance(data, binary_types)
        if self.binary and self.packet_type != MESSAGE:
            raise ValueError('Binary packets can only be of type MESSAGE')
        if encoded_packet is not None:
            self.decode(encoded_packet)

    def _dumps(self, data: Any) -> str:
        if self.json is _json:
            return _compact_dumps(data)
        return self.json.dumps(data, separators=(',', ':'))

    def encode(self, b64: bool = False) -> Union[str, bytes]:
        """Encode the packet for transmission.

        As in python-engineio, the first encoding is cached and returned by
        every later call, even if ``data`` or ``b64`` changed since (encoding
        once for many recipients is a common pattern).

        Args:
            b64: Encode binary data as ``b`` + base64 text (for polling)
                instead of raw bytes (for a binary websocket frame).

        Returns:
            The encoded packet: a str, or bytes for binary data when ``b64``
            is false.

        Raises:
            ValueError: binary data in a packet that is not a message, or a
                packet type outside 0-6.
        """
        if self.encode_cache is not None:
            return self.encode_cache
        encoded = _accel.active.encode_value(self.packet_type, self.data, b64,
                                             self._dumps)
        self.encode_cache = encoded
        return encoded

    def decode(self, encoded_packet: Union[str, bytes, bytearray,
                                           memoryview]) -> None:
        """Decode a transmitted packet into this object.

        Text data that is valid JSON and does not start with a digit is
        decoded (``4{"a":1}`` gives a dict, ``4true`` True); other text is
        kept as a str (``4123`` gives ``"123"``). ``b`` + base64 text and
        bytes-like input give bytes.

        Args:
            encoded_packet: A str (text frame or payload part) or bytes-like
                object (binary frame).

        Raises:
            ValueError: The packet is empty, its type is not a digit 0-6, or
                its base64 data is invalid.
        """
        ptype, data, binary = _accel.active.decode_value(encoded_packet,
                                                         self.json.loads)
        self.packet_type = ptype
        self.data = data
        self.binary = binary
