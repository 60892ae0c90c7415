"""What the scripts of benchmarks/cluster/ share: a free port, waiting for
a server to listen, stopping it, a raw Engine.IO websocket client that counts the
broadcasts it receives (``4B...``) and queues the latency probes
(``4L...``), and the send(sid) latency measurement."""

import asyncio
import json
import socket
import statistics
import subprocess
import time

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15.0):
    """Until something listens on ``port`` (SystemExit when ``proc``, the
    server, exits first, or after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit('a server exited early')
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit('a server did not listen on %d' % port)


def stop(proc, grace=10.0):
    """SIGTERM ``proc``; SIGKILL it if it is still there after ``grace``
    seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Client:
    """A raw Engine.IO websocket client counting broadcasts."""

    def __init__(self, port):
        self.port = port
        self.count = 0
        self.inbox = asyncio.Queue()
        self.sid = None
        self.slot = None

    async def open(self):
        self.ws = await websockets.connect(
            'ws://127.0.0.1:%d/engine.io/?EIO=4&transport=websocket'
            % self.port, max_queue=None)
        opened = await asyncio.wait_for(self.ws.recv(), 10)
        self.sid = json.loads(opened[1:])['sid']
        self.slot = self.sid[5]     # the worker that owns it
        self.task = asyncio.ensure_future(self.read())

    async def read(self):
        async for msg in self.ws:
            if msg == '2':
                await self.ws.send('3')
            elif msg.startswith('4B'):
                self.count += 1
            elif msg.startswith('4L'):
                self.inbox.put_nowait(msg)

    async def send(self, text):
        await self.ws.send('4' + text)

    async def close(self):
        self.task.cancel()
        await self.ws.close()


async def latency(sender, target, count):
    """``count`` probes: ``sender`` asks the server to send(sid) to
    ``target`` (``lat SID I``), one at a time; (p50, p99) in µs."""
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        await sender.send('lat %s %d' % (target.sid, i))
        msg = await asyncio.wait_for(target.inbox.get(), 10)
        out.append(time.perf_counter() - t0)
        assert msg == '4L%d' % i, msg
    out.sort()
    return (statistics.median(out) * 1e6,
            out[max(0, int(len(out) * 0.99) - 1)] * 1e6)
