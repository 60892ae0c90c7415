"""A deliberately misbehaving Engine.IO server for the client's bad-input tests.

Raw asyncio on 127.0.0.1 (port 0) in a background thread; no HTTP or websocket library, so it
can send what no real server would. The misbehaviour is chosen per request by the ``case``
query parameter (the client keeps the connect URL's query string on every request)::

    server = BadServer(ping_interval=300, ping_timeout=200).start()
    client.connect(server.url + '/?case=silent', transports=['polling'])
    ...
    server.stop()

Cases (P: polling, W: websocket):

``garbage_bytes``  P  the first poll after the handshake answers bytes that are not UTF-8
``garbage_text``   P  the first poll answers text that is not a payload
``unknown``        PW the first poll (first frame after open) carries a packet of type 9,
                      then a message 'after'; then the session goes on normally
``oversized``      PW the first poll (first frame after open) is one message of
                      ``OVERSIZED`` bytes; then the session goes on normally
``badopen``        PW the open packet is not JSON: ``0{not json``
``notopen``        PW the handshake answers a message packet instead of the open packet
``get500``         P  the first poll after the handshake answers 500
``post500``        P  every POST answers 500 (polls go on normally, with pings)
``silent``         PW the handshake succeeds, then nothing ever again: polls are never
                      answered, no frame is ever sent (client frames are read and dropped)
``truncated``      W  after open, a frame header announcing 1000 bytes, 10 bytes, then the TCP
                      connection is closed
``connect_silent`` PW the TCP connection is accepted, the request is never answered
``normal``         PW a plain session: a ping every ping_interval, messages are not echoed

Any other value behaves like ``normal``. ``requests`` lists (case, method, has_sid,
transport) of every request seen, for assertions.
"""

import asyncio
import base64
import hashlib
import json
import struct
import threading
import urllib.parse
import uuid

OVERSIZED = 5 * 1024 * 1024 + 1  # over aiohttp's (4 MiB) and websockets' (1 MiB) default limits
WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
MAX_HEAD = 64 * 1024


class _Session:
    def __init__(self, sid, case):
        self.sid = sid
        self.case = case
        self.outbox = asyncio.Queue()
        self.polls = 0
        self.closed = False


class BadServer:
    def __init__(self, ping_interval=300, ping_timeout=200):
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.sessions = {}
        self.requests = []
        self.loop = None
        self.thread = None
        self.server = None
        self.port = None
        self.url = None
        self._tasks = set()
        self._started = threading.Event()
        self._error = None

    # -- lifecycle
    def start(self, timeout=10.0):
        self.thread = threading.Thread(target=self._run, daemon=True, name='bad-server')
        self.thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError('bad server did not start')
        if self._error is not None:
            raise RuntimeError(f'bad server did not start: {self._error!r}')
        return self

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._accept, '127.0.0.1', 0, limit=MAX_HEAD))
            self.port = self.server.sockets[0].getsockname()[1]
            self.url = f'http://127.0.0.1:{self.port}'
        except BaseException as exc:
            self._error = exc
            self._started.set()
            self.loop.close()
            return
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def stop(self, timeout=10.0):
        if self.loop is None or self.thread is None:
            return

        async def shutdown():
            self.server.close()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=3)
            await asyncio.wait_for(self.server.wait_closed(), 3)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout)
        except Exception:  # stop the loop regardless
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        self.thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- HTTP
    async def _accept(self, reader, writer):
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                asyncio.CancelledError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve_connection(self, reader, writer):
        while True:
            head = await reader.readuntil(b'\r\n\r\n')
            lines = head.decode('latin-1').split('\r\n')
            method, target, _version = lines[0].split(' ', 2)
            headers = {}
            for line in lines[1:]:
                if ':' in line:
                    name, value = line.split(':', 1)
                    headers[name.strip().lower()] = value.strip()
            body = await self._read_body(reader, headers)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
            case = query.get('case', ['normal'])[0]
            sid = query.get('sid', [None])[0]
            transport = query.get('transport', ['polling'])[0]
            self.requests.append((case, method, sid is not None, transport))
            if case == 'connect_silent':
                await asyncio.Event().wait()  # never answer; cancelled at stop()
            if headers.get('upgrade', '').lower() == 'websocket':
                await self._websocket(case, sid, headers, reader, writer)
                return
            status, payload = await self._polling(case, method, sid, body)
            writer.write(b'HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\n'
                         b'Content-Length: %d\r\n\r\n' % (status, b'OK' if status == 200
                                                         else b'Error', len(payload)) + payload)
            await writer.drain()

    async def _read_body(self, reader, headers):
        if 'content-length' in headers:
            return await reader.readexactly(int(headers['content-length']))
        if headers.get('transfer-encoding', '').lower() == 'chunked':
            body = b''
            while True:
                size = int((await reader.readuntil(b'\r\n')).split(b';')[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    return body
                body += chunk[:-2]
        return b''

    def _open_packet(self, sid):
        return '0' + json.dumps({'sid': sid, 'upgrades': [], 'pingInterval': self.ping_interval,
                                 'pingTimeout': self.ping_timeout, 'maxPayload': 1000000})

    def _new_session(self, case):
        sid = uuid.uuid4().hex[:20]
        session = self.sessions[sid] = _Session(sid, case)
        return session

    async def _polling(self, case, method, sid, body):
        """(status, body bytes) of one polling request."""
        if sid is None:  # handshake
            if method != 'GET':
                return 400, b'bad handshake'
            if case == 'badopen':
                return 200, b'0{not json'
            if case == 'notopen':
                return 200, b'4hello'
            session = self._new_session(case)
            return 200, self._open_packet(session.sid).encode()
        session = self.sessions.get(sid)
        if session is None:
            return 400, b'{"code":1,"message":"Session ID unknown"}'
        if method == 'POST':
            if case == 'post500':
                return 500, b'boom'
            packets = body.decode('utf-8', 'replace').split('\x1e')
            if any(p == '1' for p in packets):
                session.closed = True
                session.outbox.put_nowait('6')  # release a pending poll
            return 200, b'ok'
        session.polls += 1
        first = session.polls == 1
        if first and case == 'garbage_bytes':
            return 200, b'\xff\xfe\x00\x9f garbage \xc3'
        if first and case == 'garbage_text':
            return 200, b'xyz: this is not an engine.io payload'
        if first and case == 'unknown':
            return 200, b'9unknown\x1e4after'
        if first and case == 'oversized':
            return 200, b'4' + b'x' * OVERSIZED
        if first and case == 'get500':
            return 500, b'boom'
        if case == 'silent':
            await asyncio.Event().wait()  # never answered
        if session.closed:
            return 400, b'{"code":1,"message":"Session ID unknown"}'
        try:
            packet = await asyncio.wait_for(session.outbox.get(), self.ping_interval / 1000)
        except asyncio.TimeoutError:
            packet = '2'
        return 200, packet.encode()

    # -- websocket
    async def _websocket(self, case, sid, headers, reader, writer):
        key = headers.get('sec-websocket-key', '')
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        writer.write(('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                      f'Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n').encode())
        if case == 'badopen':
            await self._send_frame(writer, '0{not json')
        elif case == 'notopen':
            await self._send_frame(writer, '4hello')
        else:
            session = self._new_session(case)
            await self._send_frame(writer, self._open_packet(session.sid))
            if case == 'truncated':
                writer.write(struct.pack('!BBH', 0x81, 126, 1000) + b'4' * 10)
                await writer.drain()
                writer.close()
                return
            if case == 'unknown':
                await self._send_frame(writer, '9unknown')
                await self._send_frame(writer, '4after')
            elif case == 'oversized':
                await self._send_frame(writer, b'4' + b'x' * OVERSIZED)
        pinger = None
        if case not in ('silent', 'badopen', 'notopen'):
            pinger = asyncio.ensure_future(self._ping_forever(writer))
        try:
            while True:
                opcode, _payload = await self._read_frame(reader)
                if opcode == 0x8:
                    if case != 'silent':
                        await self._send_frame(writer, b'\x03\xe8', opcode=0x8)
                    return
                if opcode == 0x9 and case != 'silent':
                    await self._send_frame(writer, _payload, opcode=0xA)
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _ping_forever(self, writer):
        try:
            while True:
                await asyncio.sleep(self.ping_interval / 1000)
                await self._send_frame(writer, '2')
        except (ConnectionError, RuntimeError):
            pass

    @staticmethod
    async def _send_frame(writer, data, opcode=None):
        if isinstance(data, str):
            data = data.encode()
            opcode = opcode or 0x1
        elif opcode is None:
            opcode = 0x1  # engine.io text packets given as bytes ('4xxx')
        n = len(data)
        if n < 126:
            head = struct.pack('!BB', 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack('!BBH', 0x80 | opcode, 126, n)
        else:
            head = struct.pack('!BBQ', 0x80 | opcode, 127, n)
        writer.write(head + data)
        await writer.drain()

    @staticmethod
    async def _read_frame(reader):
        b1, b2 = await reader.readexactly(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack('!H', await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack('!Q', await reader.readexactly(8))[0]
        mask = await reader.readexactly(4) if b2 & 0x80 else None
        payload = await reader.readexactly(n)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return b1 & 0x0F, payload
