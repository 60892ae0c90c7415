"""When the built-in server's websocket protocol writes what handlers
answered to a read (adapters/builtin/ws_protocol.py), with a transport that
keeps each ``write``: a read that is exactly one message is answered before
``data_received`` returns; a read of several messages is answered in one
write after the loop turn (so the answers to a burst, or to many clients'
reads in one turn, leave together). Both kernels run this file (CI runs the
suite twice)."""

import asyncio
import json

import engineio_fast
from engineio_fast.adapters.builtin.context import ServerContext
from engineio_fast.adapters.builtin.http_protocol import HttpProtocol
from tests.fuzz.targets import _Transport
from tests.protocol.ws_frames import frame

OP_TEXT = 0x1

UPGRADE = (b'GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n'
           b'Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'
           b'Sec-WebSocket-Version: 13\r\n'
           b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')


def masked(text):
    # a client's text frame
    return frame(OP_TEXT, text)


def unmasked(text):
    # the server's text frame
    return frame(OP_TEXT, text, mask=False)


def run(scenario):
    loop = asyncio.new_event_loop()
    errors = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    try:
        eio = engineio_fast.AsyncServer()
        got = []

        @eio.on('message')
        async def message(sid, data):
            got.append(data)
            await eio.send(sid, 'echo:' + data)

        async def main():
            ctx = ServerContext(eio, None, loop)
            transport = _Transport()
            proto = HttpProtocol(ctx)
            transport.protocol = proto
            proto.connection_made(transport)
            proto.data_received(UPGRADE)
            await asyncio.sleep(0)
            head = b''.join(transport.out)
            assert head.startswith(b'HTTP/1.1 101 '), head[:40]
            sid = json.loads(head.partition(b'\r\n\r\n')[2][3:])['sid']
            transport.out.clear()
            await scenario(transport, got)
            await eio.disconnect(sid)
            await asyncio.sleep(0)

        loop.run_until_complete(main())
    finally:
        loop.close()
    assert not errors, errors


def test_a_read_of_one_message_is_answered_in_that_read():
    async def scenario(transport, got):
        for i in range(3):
            transport.protocol.data_received(masked('4m%d' % i))
            # no loop turn: the answer is already written, alone
            assert transport.out == [unmasked('4echo:m%d' % i)]
            transport.out.clear()
            await asyncio.sleep(0)
            assert transport.out == []       # and nothing after it
        assert got == ['m0', 'm1', 'm2']
    run(scenario)


def test_a_read_of_several_messages_is_answered_in_one_write():
    async def scenario(transport, got):
        transport.protocol.data_received(
            masked('4a') + masked('4b') + masked('4c'))
        assert got == ['a', 'b', 'c']
        assert transport.out == []           # not yet: after the loop turn
        await asyncio.sleep(0)
        assert transport.out == [unmasked('4echo:a') + unmasked('4echo:b')
                                 + unmasked('4echo:c')]
    run(scenario)


def test_a_message_and_a_cut_frame_wait_for_the_loop_turn():
    # a read that ends in the middle of the next frame is not "one message"
    async def scenario(transport, got):
        second = masked('4second')
        transport.protocol.data_received(masked('4first') + second[:3])
        assert got == ['first'] and transport.out == []
        await asyncio.sleep(0)
        assert transport.out == [unmasked('4echo:first')]
        transport.out.clear()
        transport.protocol.data_received(second[3:])
        await asyncio.sleep(0)
        assert got == ['first', 'second']
        assert b''.join(transport.out) == unmasked('4echo:second')
    run(scenario)
