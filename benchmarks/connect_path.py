"""In-process cost of one websocket connection on the built-in server, and
of one message with one in flight (the load suite's S3 and a C=1 echo).

What it times, with no sockets (the Python/Cython work without system
calls, as ``hook_path.py`` does for polling and ``ws_frame_path.py`` for
batches of frames), on an ``AsyncServer`` with the load suite's handlers
(``connect`` and ``disconnect`` that note the sid, ``message`` that awaits
``send`` of an echo):

- ``connect``: a fresh :class:`HttpProtocol` given a transport that only
  counts bytes, the bytes of a client's websocket upgrade request
  (``GET /engine.io/?EIO=4&transport=websocket`` with the headers a
  browser sends) fed to ``data_received``: the handshake, the engine's
  connect, the connect handler, the switch to :class:`WsProtocol` and the
  write of the 101 with the open packet; one loop turn; then a masked
  client close frame fed to the :class:`WsProtocol` (the close answered,
  the session ended, the disconnect handler run) and one loop turn;
- ``message``: one masked 32-byte text frame fed to an open
  connection's :class:`WsProtocol`, then one loop turn (the echo leaves in
  a callback of that turn), as a client with one message in flight.

Run from the repository root after ``python setup.py build_ext --inplace``
(``ENGINEIO_FAST_NO_EXTENSIONS=1`` in front for the pure kernels), or with
``PYTHONPATH=<tree>`` to time another checkout's build::

    python benchmarks/connect_path.py [--count 3000] [--rounds 7]

Each figure is the best of ``--rounds`` runs (the least disturbed one on a
shared machine), in microseconds per connection or per message.
"""

import argparse
import asyncio
import os
import struct
import sys
import time

if not os.environ.get('PYTHONPATH'):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))

from hook_path import CountingTransport  # noqa: E402  (this folder)

import engineio_fast as engineio  # noqa: E402
from benchmarks.load.apps.common import build  # noqa: E402
from engineio_fast import _accel  # noqa: E402
from engineio_fast.adapters.builtin.context import ServerContext  # noqa: E402
from engineio_fast.adapters.builtin.http_protocol import (  # noqa: E402
    HttpProtocol,
)

MESSAGE = '4' + 'x' * 31          # 32 bytes of text, as the load suite

UPGRADE = (b'GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n'
           b'Host: 127.0.0.1:8000\r\n'
           b'Connection: Upgrade\r\n'
           b'Upgrade: websocket\r\n'
           b'Sec-WebSocket-Version: 13\r\n'
           b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
           b'Sec-WebSocket-Extensions: permessage-deflate; '
           b'client_max_window_bits\r\n'
           b'\r\n')


def masked_frame(opcode, data):
    key = b'\x01\x02\x03\x04'
    body = bytes(b ^ key[i & 3] for i, b in enumerate(data))
    return struct.pack('!BB', 0x80 | opcode, 0x80 | len(data)) + key + body


CLOSE = masked_frame(8, (1000).to_bytes(2, 'big'))


def run(bench, count):
    # the protocols' callbacks run inside the loop, as in the server
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(bench(loop, count))
    finally:
        loop.close()


async def open_ws(ctx):
    transport = CountingTransport()
    proto = HttpProtocol(ctx)
    proto.connection_made(transport)
    proto.data_received(UPGRADE)
    await asyncio.sleep(0)            # one loop turn
    return transport


async def bench_connect(loop, count):
    eio, _ = build(engineio)     # the load suite's app
    ctx = ServerContext(eio, None, loop)
    start = time.perf_counter()
    for _ in range(count):
        transport = await open_ws(ctx)
        transport.protocol.data_received(CLOSE)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - start
    # the last one: the 101 and the open packet went out, then the close;
    # no session is left
    assert transport.closed and transport.written > 200, transport.written
    assert not eio.sockets and not ctx.ws_conns, ctx.ws_conns
    await eio.shutdown()
    return elapsed / count


async def bench_message(loop, count):
    eio, _ = build(engineio)
    ctx = ServerContext(eio, None, loop)
    transport = await open_ws(ctx)
    proto = transport.protocol
    frame = masked_frame(1, MESSAGE.encode())
    before = transport.written
    start = time.perf_counter()
    for _ in range(count):
        proto.data_received(frame)
        await asyncio.sleep(0)        # the echo leaves in this turn
    elapsed = time.perf_counter() - start
    assert transport.written - before == count * (len(MESSAGE) + 2), \
        transport.written - before
    proto.data_received(CLOSE)
    await asyncio.sleep(0)
    await eio.shutdown()
    return elapsed / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=3000,
                        help='connections (and 10x messages) per run')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--cases', nargs='+', default=['connect', 'message'],
                        choices=['connect', 'message'])
    args = parser.parse_args()
    kernels = 'compiled' if _accel.active is _accel.compiled else 'pure'
    print('kernels: %s, %s' % (kernels, engineio.__file__))
    cases = {'connect': lambda: run(bench_connect, args.count),
             'message': lambda: run(bench_message, args.count * 10)}
    for name in args.cases:
        best = min(cases[name]() for _ in range(args.rounds))
        print('%-10s %.3f us' % (name, best * 1e6))


if __name__ == '__main__':
    main()
