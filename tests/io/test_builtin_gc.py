"""The built-in server leaves no reference cycle behind a connection: what a
websocket or a polling connection used is freed by reference counting when
it ends, not left to the cyclic collector (whose passes were a tenth of the
server's CPU while sessions came and went)."""

import asyncio
import base64
import collections
import gc

import pytest

import engineio_fast
from engineio_fast.adapters.builtin.serve import BuiltinServer

pytestmark = pytest.mark.timeout(60)

KEY = base64.b64encode(b'0123456789abcdef').decode()
WS = ('GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n'
      'Upgrade: websocket\r\nConnection: Upgrade\r\n'
      'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n'
      % KEY).encode()
POLL = b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n'
# a masked close frame (code 1000) with a zero key
CLOSE = bytes([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])


async def read_until(reader, marker, limit=65536):
    buf = b''
    while marker not in buf:
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        assert chunk, buf
        buf += chunk
        assert len(buf) < limit
    return buf


async def websocket_session(port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(WS)
    await read_until(reader, b'0{')
    writer.write(CLOSE)
    while await asyncio.wait_for(reader.read(4096), 5):
        pass
    writer.close()
    await writer.wait_closed()


async def polling_connection(port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(POLL)
    await read_until(reader, b'"sid"')
    writer.close()
    await writer.wait_closed()


def name_of(obj):
    """An object's class name; a bound method's is its object's."""
    if type(obj).__name__ == 'method':
        return 'method of ' + type(obj.__self__).__name__
    return type(obj).__name__


async def garbage_of(port, count):
    """What the cyclic collector would find after ``count`` websocket
    sessions and ``count`` polling connections."""
    gc.collect()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(count):
            await websocket_session(port)
            await polling_connection(port)
        await asyncio.sleep(0.2)     # the server sees the last closes
        gc.collect()
        return collections.Counter(name_of(o) for o in gc.garbage)
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()


def test_connections_leave_no_cycles():
    async def main():
        eio = engineio_fast.AsyncServer(async_mode='asgi')
        srv = BuiltinServer(eio, port=0)
        await srv.start()
        try:
            port = srv.sockets[0].getsockname()[1]
            await garbage_of(port, 5)            # warm up
            found = await garbage_of(port, 30)
        finally:
            await srv.shutdown(2)
        # nothing of the server's per connection (a few objects of the
        # test's own streams are not ours to judge)
        names = ('HttpProtocol', 'HttpRequestParser', 'WsProtocol',
                 'ParsedRequest', 'Session', 'WsLink', 'UVTransport',
                 'TCPTransport')
        ours = {name: n for name, n in found.items()
                if name.replace('method of ', '') in names}
        assert ours == {}, found
    asyncio.run(main())
