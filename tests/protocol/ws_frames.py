"""Client websocket frames as raw bytes (masked or not, any RSV bits or
opcode), for tests that feed the websocket machinery bytes a well-behaved
client never sends. Standard library only: the wheel's protocol tests run it
in a venv that has just pytest and hypothesis."""

import os
import struct


def frame(op, payload=b'', fin=True, rsv=0, mask=True):
    """A client frame; ``rsv`` is the 3 RSV bits as an int (4 = RSV1)."""
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack('!BB', b0, mbit | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, mbit | 126, n)
    else:
        head = struct.pack('!BBQ', b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) \
        if n < 4096 else _xor(payload, key)
    return head + key + masked


def _xor(payload, key):
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], 'big')
    return (int.from_bytes(payload, 'big') ^ k).to_bytes(n, 'big')
