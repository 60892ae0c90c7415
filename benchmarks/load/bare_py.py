"""The "floor" target: the least a Python server on uvloop + httptools does
for the load suite's Engine.IO-shaped scenarios (websocket echo and
connect, polling echo in both patterns, polling handshakes), so the
built-in server's server CPU per operation can be read against what Python
on this event loop and HTTP parser costs on the same machine in the same
run. Not a product and not a conforming Engine.IO server: no heartbeats,
no upgrades, no limits, no CORS, no checks (masks are applied; that is
all). Usage: python benchmarks/load/bare_py.py --port PORT
"""

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import struct

import httptools
import uvloop

GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
HEAD = (b'HTTP/1.1 %s\r\nContent-Type: text/plain; charset=UTF-8\r\n'
        b'Content-Length: %d\r\n\r\n')
_ids = itertools.count(1)
sessions = {}


def open_packet(upgrades):
    sid = 'barepy%016x' % next(_ids)
    return sid, ('0' + json.dumps({'sid': sid, 'upgrades': upgrades, 'pingInterval': 25000,
                                   'pingTimeout': 20000, 'maxPayload': 1000000})).encode()


def response(status, body):
    return HEAD % (status, len(body)) + body


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack('!BBH', 0x80 | opcode, 126, n) + payload
    return struct.pack('!BBQ', 0x80 | opcode, 127, n) + payload


def unmask(payload, mask):
    if mask == b'\0\0\0\0':
        return payload
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], 'little')
    return (int.from_bytes(payload, 'little') ^ key).to_bytes(n, 'little')


class Session:
    __slots__ = ('queue', 'parked')

    def __init__(self):
        self.queue = []
        self.parked = None


class Conn(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.parser = httptools.HttpRequestParser(self)
        self.ws = False
        self.buf = b''

    def data_received(self, data):
        if self.ws:
            return self.frames(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgrade(data[exc.args[0]:])

    def connection_lost(self, exc):
        self.parser = None

    # HTTP (httptools callbacks)
    def on_message_begin(self):
        self.url = b''
        self.key = None
        self.body = b''

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        if len(name) == 17 and name.lower() == b'sec-websocket-key':
            self.key = value

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        if self.parser.should_upgrade():
            return
        query = self.url.partition(b'?')[2]
        sid = None
        for part in query.split(b'&'):
            if part.startswith(b'sid='):
                sid = part[4:].decode()
        if sid is None:
            sid, pkt = open_packet(['websocket'])
            sessions[sid] = Session()
            return self.t.write(response(b'200 OK', pkt))
        s = sessions.get(sid)
        if s is None:
            return self.t.write(response(b'400 Bad Request', b'{"code":1,"message":"Session ID unknown"}'))
        if self.parser.get_method() == b'POST':
            for pkt in self.body.split(b'\x1e'):
                if pkt[:1] == b'4':
                    s.queue.append(pkt)
                elif pkt[:1] == b'1':
                    sessions.pop(sid, None)
                    s.queue.append(b'6')
            self.t.write(response(b'200 OK', b'ok'))
            if s.parked is not None and s.queue:
                c, s.parked = s.parked, None
                c.t.write(response(b'200 OK', b'\x1e'.join(s.queue)))
                s.queue = []
        elif s.queue:
            self.t.write(response(b'200 OK', b'\x1e'.join(s.queue)))
            s.queue = []
        else:
            s.parked = self

    # websocket
    def upgrade(self, rest):
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        _, pkt = open_packet([])
        self.ws = True
        self.t.write(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                     b'Sec-WebSocket-Accept: ' + accept + b'\r\n\r\n' + frame(1, pkt))
        if rest:
            self.frames(rest)

    def frames(self, data):
        buf = self.buf + data if self.buf else data
        out = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            opcode = buf[pos] & 0x0f
            n = buf[pos + 1] & 0x7f
            off = pos + 2
            if n == 126:
                if end - pos < 4:
                    break
                n = struct.unpack_from('!H', buf, off)[0]
                off += 2
            elif n == 127:
                if end - pos < 10:
                    break
                n = struct.unpack_from('!Q', buf, off)[0]
                off += 8
            if end < off + 4 + n:
                break
            payload = unmask(buf[off + 4:off + 4 + n], buf[off:off + 4])
            pos = off + 4 + n
            if opcode == 8:
                out.append(frame(8, payload))
                self.t.write(b''.join(out))
                self.t.close()
                self.buf = b''
                return
            if opcode == 9:
                out.append(frame(10, payload))
            elif opcode in (1, 2):
                out.append(frame(opcode, payload))
        self.buf = buf[pos:]
        if out:
            self.t.write(b''.join(out) if len(out) > 1 else out[0])


async def main(port):
    server = await asyncio.get_running_loop().create_server(Conn, '127.0.0.1', port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--port', type=int, required=True)
    uvloop.run(main(ap.parse_args().port))
