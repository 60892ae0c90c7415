"""In-process cost of the websocket receive path, per message.

What it times: the bytes of a batch of masked client frames handed to the
connection object of each server, through frame parsing, message assembly
(the whole-text-frame fast path with its UTF-8 check), the engine and an
echo handler, to the echo frames written back. No sockets, so the figure
is the Python/Cython work per message without system calls:

- ``builtin``: :class:`WsProtocol.data_received` of the built-in server
  (an ``AsyncServer`` whose ``message`` handler awaits ``send``), the
  echoes collected by a transport that only counts bytes;
- ``builtin-assembly``: the same with a ``_deliver`` that drops the
  message (parsing and assembly alone);
- ``wsgi``: :meth:`WsConn.run` of the sync ``Server`` (threading mode,
  ``async_handlers=False`` so the handler runs in the reading thread) on a
  socket stand-in whose ``recv`` returns the batches and whose ``send``
  takes everything.

Run from the repository root after ``python setup.py build_ext --inplace``
(``ENGINEIO_FAST_NO_EXTENSIONS=1`` in front for the pure kernels)::

    python benchmarks/ws_frame_path.py [--batch 16] [--rounds 7]

Each figure is the best of ``--rounds`` runs (the least disturbed one on a
shared machine), in microseconds per message.
"""

import argparse
import asyncio
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import engineio_fast as engineio  # noqa: E402
from engineio_fast import _accel  # noqa: E402
from engineio_fast.adapters.builtin import ws_protocol  # noqa: E402
from engineio_fast.adapters.builtin.context import ServerContext  # noqa: E402
from engineio_fast.adapters.wsgi import handler as wsgi_handler  # noqa: E402
from engineio_fast.protocol.http import Request  # noqa: E402

MESSAGE = '4' + 'x' * 31          # 32 bytes of text, as the load suite


def masked_frame(text):
    data = text.encode()
    key = b'\x01\x02\x03\x04'
    body = bytes(b ^ key[i & 3] for i, b in enumerate(data))
    return struct.pack('!BB', 0x81, 0x80 | len(data)) + key + body


def ws_request():
    return Request('GET', {'EIO': '4', 'transport': 'websocket'},
                   {'upgrade': 'websocket'}, 'http', None, True, {})


class CountingTransport:
    """Enough of an asyncio transport for WsProtocol: counts bytes."""

    def __init__(self):
        self.written = 0

    def write(self, data):
        self.written += len(data)

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def close(self):
        pass

    def abort(self):
        pass


class DroppingWsProtocol(ws_protocol.WsProtocol):
    """Parsing and assembly only: every message is dropped."""

    __slots__ = ()

    def _deliver(self, data):
        return False


def bench_builtin(batch, count, cls):
    loop = asyncio.new_event_loop()
    eio = engineio.AsyncServer()

    @eio.on('message')
    async def message(sid, data):
        await eio.send(sid, data)

    ctx = ServerContext(eio, None, loop)
    engine = ctx.engine
    req = ws_request()
    out = engine.handle_http(req, loop.time())
    engine.connect_done(out, req, (True, None), loop.time())
    transport = CountingTransport()
    proto = cls(ctx, transport, out.link, None)
    proto.start(b'')
    data = masked_frame(MESSAGE) * batch
    start = time.perf_counter()
    for _ in range(count):
        proto.data_received(data)
        # one loop turn per read, as the server has (a callback a handler
        # schedules runs in it)
        loop.call_soon(loop.stop)
        loop.run_forever()
    elapsed = time.perf_counter() - start
    if cls is ws_protocol.WsProtocol:
        assert transport.written >= count * batch * 34, transport.written
    loop.close()
    return elapsed / (count * batch)


class FeedSocket:
    """A socket stand-in for WsConn: ``recv`` hands out ``count`` batches
    then end of stream; ``send`` takes everything."""

    def __init__(self, data, count):
        self.data = data
        self.left = count
        self.written = 0

    def fileno(self):
        return -1

    def gettimeout(self):
        return None

    def recv(self, n):
        if self.left <= 0:
            return b''
        self.left -= 1
        return self.data

    def send(self, data, flags=0):
        self.written += len(data)
        return len(data)

    def sendall(self, data):
        self.written += len(data)

    def shutdown(self, how):
        pass


def bench_wsgi(batch, count):
    eio = engineio.Server(async_mode='threading', async_handlers=False)

    @eio.on('message')
    def message(sid, data):
        eio.send(sid, data)

    engine = eio._engine
    req = ws_request()
    out = engine.handle_http(req, time.monotonic())
    engine.connect_done(out, req, (True, None), time.monotonic())
    sock = FeedSocket(masked_frame(MESSAGE) * batch, count)
    hijack = wsgi_handler._Hijack(sock, sock.recv, None)
    eio._ws_close_timeout = 0
    conn = wsgi_handler.WsConn(eio.driver, out.link, hijack, None)
    start = time.perf_counter()
    conn.run()
    elapsed = time.perf_counter() - start
    assert sock.written >= count * batch * 34, sock.written
    return elapsed / (count * batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=16,
                        help='frames per read (default 16)')
    parser.add_argument('--count', type=int, default=4000,
                        help='reads per run (default 4000)')
    parser.add_argument('--rounds', type=int, default=7)
    args = parser.parse_args()
    kernels = 'compiled' if _accel.active is _accel.compiled else 'pure'
    print('kernels: %s, %d frames of %d bytes per read' % (
        kernels, args.batch, len(MESSAGE)))
    cases = [
        ('builtin', lambda: bench_builtin(args.batch, args.count,
                                          ws_protocol.WsProtocol)),
        ('builtin-assembly', lambda: bench_builtin(args.batch, args.count,
                                                   DroppingWsProtocol)),
        ('wsgi', lambda: bench_wsgi(args.batch, args.count)),
    ]
    for name, run in cases:
        best = min(run() for _ in range(args.rounds))
        print('%-18s %.3f us/message' % (name, best * 1e6))


if __name__ == '__main__':
    main()
