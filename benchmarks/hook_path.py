"""In-process cost of the paths python-socketio's admin instrumentation
hooks (``sio.instrument()``), with and without the hooks.

What it times, per operation, with no sockets (the Python/Cython work
without system calls, as ``ws_frame_path.py`` does for websocket frames):

- ``poll-builtin``: one polling round trip through the built-in server's
  :class:`HttpProtocol` on a transport that only counts bytes: a POST
  carrying one message, whose echo handler queues the answer, then the GET
  that takes it (the request bytes are fed to ``data_received``);
- ``poll-wsgi``: the same round trip through the sync ``Server``'s WSGI
  entry (threading mode, ``async_handlers=False``), with plain environ
  dicts;
- ``ws-builtin`` and ``ws-wsgi``: as ``ws_frame_path.py``: a batch of
  masked client frames through the connection object, echoed.

``--hooks`` runs the same cases with every hook python-socketio installs
replaced by a counting wrapper of the same shape (class-level
``handle_post_request``, ``_websocket_handler`` and ``_send_ping`` on
``engineio_fast.socket.Socket``/``async_socket.AsyncSocket``, ``ws.send``
and ``ws.wait`` on the websocket object, ``eio._ok`` on the server), to
show what instrumentation costs. Without it, nothing is replaced: the
figures are the plain paths every server runs.

Run from the repository root after ``python setup.py build_ext --inplace``::

    python benchmarks/hook_path.py [--rounds 7] [--hooks]

Each figure is the best of ``--rounds`` runs, in microseconds per
operation (a round trip, or a message).
"""

import argparse
import asyncio
import functools
import io
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
from engineio_fast.adapters.builtin.http_protocol import (  # noqa: E402
    HttpProtocol,
)
from engineio_fast.adapters.wsgi import handler as wsgi_handler  # noqa: E402
from engineio_fast.protocol.http import Request  # noqa: E402

MESSAGE = 'x' * 31
FRAME_TEXT = '4' + MESSAGE


class CountingTransport:
    """Enough of an asyncio transport for the built-in protocols: counts
    the bytes written and keeps the protocol it is switched to (also
    benchmarks/connect_path.py's)."""

    def __init__(self):
        self.written = 0
        self.last = b''
        self.protocol = None
        self.closed = False

    def write(self, data):
        self.written += len(data)
        self.last = data

    def get_extra_info(self, name, default=None):
        return ('127.0.0.1', 5000)

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def close(self):
        self.closed = True

    def abort(self):
        self.closed = True

    def set_protocol(self, proto):
        self.protocol = proto


def masked_frame(text):
    data = text.encode()
    key = b'\x01\x02\x03\x04'
    body = bytes(b ^ key[i & 3] for i, b in enumerate(data))
    return struct.pack('!BB', 0x81, 0x80 | len(data)) + key + body


# the Counts of --hooks (None: nothing replaced)
COUNTS = None


def async_echo():
    eio = engineio.AsyncServer(async_handlers=False)

    @eio.on('message')
    async def message(sid, data):
        await eio.send(sid, data)

    if COUNTS is not None:
        replace_ok(COUNTS, eio)
    return eio


def sync_echo():
    eio = engineio.Server(async_mode='threading', async_handlers=False)

    @eio.on('message')
    def message(sid, data):
        eio.send(sid, data)

    if COUNTS is not None:
        replace_ok(COUNTS, eio)
    return eio


def bench_poll_builtin(count):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_poll_builtin(loop, count))
    finally:
        loop.close()


async def _poll_builtin(loop, count):
    eio = async_echo()
    ctx = ServerContext(eio, None, loop)
    transport = CountingTransport()
    proto = HttpProtocol(ctx)
    proto.connection_made(transport)
    proto.data_received(b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1'
                        b'\r\nHost: x\r\n\r\n')
    body = transport.last.split(b'\r\n\r\n', 1)[1]
    sid = body.split(b'"sid":"', 1)[1].split(b'"', 1)[0]
    url = b'/engine.io/?EIO=4&transport=polling&sid=' + sid
    post = (b'POST ' + url + b' HTTP/1.1\r\nHost: x\r\nContent-Type: '
            b'text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n'
            % len(FRAME_TEXT) + FRAME_TEXT.encode())
    get = b'GET ' + url + b' HTTP/1.1\r\nHost: x\r\n\r\n'
    start = time.perf_counter()
    for _ in range(count):
        proto.data_received(post)
        proto.data_received(get)
    elapsed = time.perf_counter() - start
    assert transport.last.endswith(FRAME_TEXT.encode()), transport.last
    await eio.shutdown()
    return elapsed / count


def _environ(method, query, body=b''):
    return {'REQUEST_METHOD': method, 'QUERY_STRING': query,
            'wsgi.input': io.BytesIO(body), 'CONTENT_LENGTH': str(len(body)),
            'wsgi.url_scheme': 'http', 'HTTP_HOST': 'x',
            'SERVER_NAME': 'x', 'SERVER_PORT': '80',
            'PATH_INFO': '/engine.io/'}


def bench_poll_wsgi(count):
    eio = sync_echo()
    app = engineio.WSGIApp(eio)

    def start_response(status, headers, exc_info=None):
        pass

    first = b''.join(app(_environ('GET', 'EIO=4&transport=polling'),
                         start_response))
    sid = first.split(b'"sid":"', 1)[1].split(b'"', 1)[0].decode()
    query = 'EIO=4&transport=polling&sid=' + sid
    data = FRAME_TEXT.encode()
    out = b''
    start = time.perf_counter()
    for _ in range(count):
        app(_environ('POST', query, data), start_response)
        out = b''.join(app(_environ('GET', query), start_response))
    elapsed = time.perf_counter() - start
    assert out == data, out
    eio.shutdown()
    return elapsed / count


def ws_request():
    return Request('GET', {'EIO': '4', 'transport': 'websocket'},
                   {'upgrade': 'websocket'}, 'http', None, True, {})


def bench_ws_builtin(batch, count):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    eio = async_echo()
    ctx = ServerContext(eio, None, loop)
    engine = ctx.engine
    req = ws_request()
    out = engine.handle_http(req, loop.time())
    out = engine.connect_done(out, req, (True, None), loop.time())
    transport = CountingTransport()
    proto = ws_protocol.WsProtocol(ctx, transport, out.link, None)
    proto.start(b'')
    data = masked_frame(FRAME_TEXT) * batch
    start = time.perf_counter()
    for _ in range(count):
        proto.data_received(data)
        # the answers leave in a callback after the reads (one loop turn)
        loop.call_soon(loop.stop)
        loop.run_forever()
    elapsed = time.perf_counter() - start
    assert transport.written >= count * batch * 34, transport.written
    loop.close()
    return elapsed / (count * batch)


class FeedSocket:
    """``recv`` hands out ``count`` batches then end of stream."""

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


def bench_ws_wsgi(batch, count):
    eio = sync_echo()
    engine = eio._engine
    req = ws_request()
    out = engine.handle_http(req, time.monotonic())
    out = engine.connect_done(out, req, (True, None), time.monotonic())
    sock = FeedSocket(masked_frame(FRAME_TEXT) * batch, count)
    hijack = wsgi_handler._Hijack(sock, sock.recv, None)
    eio._ws_close_timeout = 0
    conn = wsgi_handler.WsConn(eio.driver, out.link, hijack, None)
    start = time.perf_counter()
    conn.run()
    elapsed = time.perf_counter() - start
    assert sock.written >= count * batch * 34, sock.written
    return elapsed / (count * batch)


class Counts:
    """What the counting wrappers saw (python-socketio's EventBuffer
    keeps the same totals)."""

    def __init__(self):
        self.totals = {}

    def push(self, name, count=1):
        self.totals[name] = self.totals.get(name, 0) + count


def install_hooks(counts):
    """Replace what python-socketio's admin instrumentation replaces on the
    socket classes, with wrappers of the same shape that only count."""
    from engineio_fast.async_socket import AsyncSocket
    from engineio_fast.socket import Socket

    for cls, is_async in ((Socket, False), (AsyncSocket, True)):
        real_post = cls.handle_post_request
        real_ws = cls._websocket_handler

        if is_async:
            async def post(sock, environ, real_post=real_post):
                ret = await real_post(sock, environ)
                counts.push('packetsIn')
                counts.push('bytesIn', int(environ.get('CONTENT_LENGTH', 0)))
                return ret

            async def ws_handler(sock, ws, real_ws=real_ws):
                real_send, real_wait = ws.send, ws.wait

                async def send(data):
                    counts.push('packetsOut')
                    counts.push('bytesOut', len(data))
                    return await real_send(data)

                async def wait():
                    ret = await real_wait()
                    counts.push('packetsIn')
                    counts.push('bytesIn', len(ret or ''))
                    return ret

                ws.send, ws.wait = send, wait
                return await real_ws(sock, ws)
        else:
            def post(sock, environ, real_post=real_post):
                ret = real_post(sock, environ)
                counts.push('packetsIn')
                counts.push('bytesIn', int(environ.get('CONTENT_LENGTH', 0)))
                return ret

            def ws_handler(sock, ws, real_ws=real_ws):
                real_send, real_wait = ws.send, ws.wait

                def send(data, *args, **kwargs):
                    counts.push('packetsOut')
                    counts.push('bytesOut', len(data))
                    return real_send(data, *args, **kwargs)

                def wait():
                    ret = real_wait()
                    counts.push('packetsIn')
                    counts.push('bytesIn', len(ret or ''))
                    return ret

                ws.send, ws.wait = send, wait
                return real_ws(sock, ws)

        cls.handle_post_request = functools.partialmethod(post)
        cls._websocket_handler = functools.partialmethod(ws_handler)


def replace_ok(counts, eio):
    """Wrap ``eio._ok`` as python-socketio does."""
    real_ok = eio._ok

    def ok(packets=None, headers=None, jsonp_index=None):
        ret = real_ok(packets=packets, headers=headers,
                      jsonp_index=jsonp_index)
        counts.push('packetsOut')
        counts.push('bytesOut', len(ret['response']))
        return ret

    eio._ok = ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=4000,
                        help='round trips or frame batches per run')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--hooks', action='store_true',
                        help='with counting hooks installed')
    args = parser.parse_args()
    kernels = 'compiled' if _accel.active is _accel.compiled else 'pure'
    if args.hooks:
        global COUNTS
        COUNTS = Counts()
        install_hooks(COUNTS)
    print('kernels: %s, hooks: %s' % (kernels, 'on' if args.hooks
                                      else 'off'))
    cases = [
        ('poll-builtin', lambda: bench_poll_builtin(args.count)),
        ('poll-wsgi', lambda: bench_poll_wsgi(args.count)),
        ('ws-builtin', lambda: bench_ws_builtin(args.batch, args.count)),
        ('ws-wsgi', lambda: bench_ws_wsgi(args.batch, args.count)),
    ]
    for name, run in cases:
        best = min(run() for _ in range(args.rounds))
        print('%-14s %.3f us/op' % (name, best * 1e6))
    if args.hooks:
        print('counted:', COUNTS.totals)


if __name__ == '__main__':
    main()
