"""Engine.IO v4 packet types: the one set of constants.

Every module that names a packet type imports it from here (python-engineio's
``engineio.packet`` re-exports them; the codec kernels, which are C or
stand-alone code below the protocol, spell the message type as ``4`` and a
test holds them to :data:`MESSAGE`). The type aliases of what packets carry
live here too, for the same reason.
"""

from typing import Any, Dict, List, Union

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = range(7)

#: the name of each packet type, indexed by type
NAMES = ('OPEN', 'CLOSE', 'PING', 'PONG', 'MESSAGE', 'UPGRADE', 'NOOP')

#: the probe exchange of the websocket upgrade and its completion
PROBE = '2probe'
PROBE_REPLY = '3probe'
UPGRADE_PACKET = '5'
CLOSE_PACKET = '1'

#: binary message data as the API takes it
BytesLike = Union[bytes, bytearray, memoryview]

#: the data of a message an application sends: text, binary, or a dict or
#: list (sent as JSON)
Data = Union[str, bytes, bytearray, memoryview, Dict[str, Any], List[Any]]

#: an outgoing packet, encoded: a text packet (str) or a binary message
#: (bytes); the items of session and client queues
Item = Union[str, bytes]
