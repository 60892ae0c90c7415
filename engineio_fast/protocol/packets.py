"""Engine.IO v4 packet types: the one set of constants.

Every module that names a packet type imports it from here (python-engineio's
``engineio.packet`` re-exports them; the codec kernels, which are C or
stand-alone code below the protocol, spell the message type as ``4`` and a
test holds them to :data:`MESSAGE`).
"""

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = range(7)

#: the name of each packet type, indexed by type
NAMES = ('OPEN', 'CLOSE', 'PING', 'PONG', 'MESSAGE', 'UPGRADE', 'NOOP')

#: the probe exchange of the websocket upgrade and its completion
PROBE = '2probe'
PROBE_REPLY = '3probe'
UPGRADE_PACKET = '5'
CLOSE_PACKET = '1'
