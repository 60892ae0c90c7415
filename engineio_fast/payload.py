"""Engine.IO polling payloads, compatible with ``engineio.payload``.

Unlike python-engineio, which refuses a payload of more than 16 packets
(``max_decode_packets``), the bound here is on the payload's size in bytes
(``max_payload_bytes``): any number of packets within it is accepted.
"""

import urllib.parse
from typing import List, Optional, Union

from . import _accel
from .exceptions import ContentTooLongError
from .packet import Packet

_BINARY = (bytes, bytearray, memoryview)

#: an encoded payload as :meth:`Payload.decode` takes it
Encoded = Union[str, bytes, bytearray, memoryview]


def _byte_size(encoded_payload: Encoded) -> int:
    if isinstance(encoded_payload, memoryview):
        return encoded_payload.nbytes
    if isinstance(encoded_payload, _BINARY):
        return len(encoded_payload)
    if encoded_payload.isascii():
        return len(encoded_payload)
    return len(encoded_payload.encode('utf-8', 'surrogatepass'))


class Payload:
    """Engine.IO payload: the packets of one polling request or response.

    Args:
        packets: A list of :class:`~engineio_fast.packet.Packet` objects.
        encoded_payload: When given, the payload is decoded from it and
            ``packets`` is replaced by the decoded packets.

    Raises:
        ValueError: ``encoded_payload`` is not a valid payload.
        ContentTooLongError: ``encoded_payload`` is longer than
            ``max_payload_bytes``.
    """

    max_payload_bytes = 1000000

    def __init__(self, packets: Optional[List[Packet]] = None,
                 encoded_payload: Optional[Encoded] = None) -> None:
        self.packets: List[Packet] = packets or []
        if encoded_payload is not None:
            self.decode(encoded_payload)

    def encode(self, jsonp_index: Union[None, int, str] = None) -> str:
        """Encode the payload for transmission.

        Packets are joined with the record separator ``\\x1e``; binary
        packets are sent as ``b`` + base64.

        Args:
            jsonp_index: For a JSONP poll, the index of the callback: the
                payload is returned as ``___eio[N]("...");`` with the
                payload escaped as a JavaScript string.

        Returns:
            The encoded payload (a str).

        Raises:
            ValueError: A packet cannot be encoded, or ``jsonp_index`` is
                not an integer.
        """
        kernels = _accel.active
        encoded = kernels.encode_packets(self.packets)
        if jsonp_index is not None:
            encoded = kernels.jsonp_wrap(int(jsonp_index), encoded)
        return encoded

    def decode(self, encoded_payload: Encoded) -> None:
        """Decode a transmitted payload into ``packets``.

        An empty payload gives no packets. A JSONP form body (``d=...``) is
        URL-decoded first.

        Args:
            encoded_payload: The payload, a str or UTF-8 bytes.

        Raises:
            ContentTooLongError: The payload is longer than
                ``max_payload_bytes`` bytes.
            ValueError: The payload is not UTF-8, or one of its packets is
                invalid.
        """
        self.packets = []
        if _byte_size(encoded_payload) > self.max_payload_bytes:
            raise ContentTooLongError('payload is larger than %d bytes'
                                      % self.max_payload_bytes)
        if isinstance(encoded_payload, _BINARY):
            try:
                encoded_payload = bytes(encoded_payload).decode('utf-8')
            except UnicodeDecodeError:
                raise ValueError('payload is not valid UTF-8') from None
        if not encoded_payload:
            return
        if encoded_payload.startswith('d='):
            encoded_payload = urllib.parse.parse_qs(
                encoded_payload, keep_blank_values=True).get('d', [''])[0]
            if not encoded_payload:
                return
        self.packets = _accel.active.decode_packets(encoded_payload, Packet)
