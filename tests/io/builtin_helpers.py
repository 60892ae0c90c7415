"""Raw-socket helpers for the built-in server tests: an HTTP/1.1 response
reader and a websocket client that can write any frame (masked or not,
reserved bits, bad opcodes) — bytes a well-behaved client never sends."""

import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import httpx

import engineio_fast as engineio

from .. import ports as _ports
from ..protocol.ws_frames import frame

WAIT = 5.0
WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
EIO_POLL = '/engine.io/?EIO=4&transport=polling'
EIO_WS = '/engine.io/?EIO=4&transport=websocket'


def wait_for(predicate, timeout=WAIT):
    """Poll ``predicate`` until true or ``timeout`` s passed (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Recorder:
    """Thread-safe list of handler events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []

    def add(self, *event):
        with self.lock:
            self.events.append(event)

    def of(self, name):
        with self.lock:
            return [e for e in self.events if e[0] == name]

    def reason(self, sid, timeout=WAIT):
        """The disconnect reason of ``sid`` (waits for it), or None."""
        found = []

        def check():
            found[:] = [e[2] for e in self.of('disconnect') if e[1] == sid]
            return bool(found)

        wait_for(check, timeout)
        return found[0] if found else None


def echo_server(rec=None, **options):
    """An AsyncServer that echoes every message and records events."""
    eio = engineio.AsyncServer(**options)
    rec = rec if rec is not None else Recorder()

    @eio.on('connect')
    def connect(sid, environ):
        rec.add('connect', sid, environ)

    @eio.on('message')
    async def message(sid, data):
        rec.add('message', sid, data)
        await eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    eio.rec = rec
    return eio


def polling_open(base):
    r = httpx.get(base + EIO_POLL, timeout=WAIT)
    assert r.status_code == 200, r.text
    assert r.text[0] == '0'
    return json.loads(r.text[1:])['sid']


# -- raw HTTP ------------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers     # dict, lower-case names, last wins
        self.body = body

    @property
    def text(self):
        return self.body.decode('utf-8')

    def __repr__(self):
        return '<Response %d %r %r>' % (self.status, self.headers,
                                        self.body[:80])


def connect_from(source, port, timeout=WAIT):
    """A socket connected to 127.0.0.1:``port`` from address ``source``
    (any of 127/8 is loopback: a client the server must not trust)."""
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(('127.0.0.1', port))
    return sock


class RawConn:
    """A blocking client socket with a read buffer."""

    def __init__(self, port, timeout=WAIT, sock=None):
        self.sock = sock or socket.create_connection(('127.0.0.1', port),
                                                     timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b''

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError('connection closed with %d bytes buffered'
                           % len(self.buf))
        self.buf += chunk

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until(self, marker, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError('no %r in %d bytes' % (marker, limit))
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_head(self):
        head = self.read_until(b'\r\n\r\n').decode('latin-1')
        lines = head.split('\r\n')
        _version, status, reason = (lines[0].split(' ', 2) + [''])[:3]
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(':')
                headers[name.strip().lower()] = value.strip()
        return int(status), reason, headers

    def read_response(self, head_only=False):
        """One response: status line, headers, body (Content-Length or
        chunked; neither: until EOF)."""
        status, reason, headers = self.read_head()
        if head_only or status in (100, 101, 204, 304):
            return Response(status, reason, headers, b'')
        if 'content-length' in headers:
            body = self.read_exact(int(headers['content-length']))
        elif headers.get('transfer-encoding', '').lower() == 'chunked':
            parts = []
            while True:
                size = int(self.read_until(b'\r\n')[:-2].split(b';')[0], 16)
                if size == 0:
                    self.read_until(b'\r\n')
                    break
                parts.append(self.read_exact(size))
                assert self.read_exact(2) == b'\r\n'
            body = b''.join(parts)
        else:
            body = self.read_to_eof()
        return Response(status, reason, headers, body)

    def read_to_eof(self, timeout=WAIT):
        """Everything until the peer closes; raises if it does not within
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        out = [self.buf]
        self.buf = b''
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('connection still open after %.1f s'
                                     % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            out.append(chunk)
        return b''.join(out)

    def closed_within(self, timeout):
        """True if the peer closes the connection within ``timeout``
        seconds (data before the close is discarded)."""
        try:
            self.read_to_eof(timeout)
            return True
        except AssertionError:
            return False

    def nothing_for(self, seconds):
        """True if no byte (and no close) arrives for ``seconds``."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(1)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(WAIT)
        if chunk:
            self.buf += chunk
        return False


def request(method, target, headers=(), body=b'', host='127.0.0.1'):
    """Bytes of one HTTP/1.1 request (Content-Length set when there is a
    body and no Transfer-Encoding header)."""
    lines = ['%s %s HTTP/1.1' % (method, target), 'Host: %s' % host]
    names = {n.lower() for n, _ in headers}
    for name, value in headers:
        lines.append('%s: %s' % (name, value))
    if body and 'content-length' not in names and \
            'transfer-encoding' not in names:
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


# -- raw websocket ------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY = 0, 1, 2
OP_CLOSE, OP_PING, OP_PONG = 8, 9, 10


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()
                            ).decode()


def close_code(payload):
    return int.from_bytes(payload[:2], 'big') if len(payload) >= 2 else None


class RawWs(RawConn):
    """A websocket client on a raw socket."""

    def __init__(self, port, path=EIO_WS, headers=(), timeout=WAIT,
                 sock=None):
        super().__init__(port, timeout, sock=sock)
        self.key = base64.b64encode(os.urandom(16)).decode()
        hdrs = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                ('Sec-WebSocket-Key', self.key),
                ('Sec-WebSocket-Version', '13')] + list(headers)
        self.send(request('GET', path, hdrs))
        self.handshake = self.read_response(head_only=True)
        assert self.handshake.status == 101, self.handshake

    def send_frame(self, op, payload=b'', **kw):
        self.send(frame(op, payload, **kw))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def recv_frame(self):
        """``(op, fin, rsv, payload)`` of the next server frame."""
        b0, b1 = self.read_exact(2)
        assert not b1 & 0x80, 'server frames must not be masked'
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack('!H', self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack('!Q', self.read_exact(8))[0]
        return b0 & 0x0F, bool(b0 & 0x80), (b0 >> 4) & 7, self.read_exact(n)

    def recv_text(self):
        op, fin, rsv, payload = self.recv_frame()
        assert (op, fin, rsv) == (OP_TEXT, True, 0), (op, fin, rsv, payload)
        return payload.decode('utf-8')

    def open_packet(self):
        text = self.recv_text()
        assert text[0] == '0', text
        return json.loads(text[1:])

    def expect_close(self, timeout=WAIT, answer=False):
        """Read (skipping data frames) until the close frame; return its
        code; then the server must close the TCP connection. ``answer``:
        first send a close frame back, as a client does (servers that wait
        for it close only then)."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            op, _fin, _rsv, payload = self.recv_frame()
            if op == OP_CLOSE:
                break
            assert time.monotonic() < deadline, 'no close frame'
        self.sock.settimeout(WAIT)
        if answer:
            try:
                self.send_frame(OP_CLOSE, payload[:2])
            except OSError:
                pass        # some servers close without waiting for it
        assert self.closed_within(max(0.5, deadline - time.monotonic())), \
            'TCP connection left open after the close frame'
        return close_code(payload)


# -- the CLI in a subprocess ------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


free_port = _ports.free_port   # see tests/ports.py


class ServerProcess:
    """``python -m engineio_fast ARGS --port P`` (or ``-m MODULE``) in a
    subprocess, run from the repository root; output goes to files in
    ``directory``."""

    def __init__(self, args, directory, env=None, port=None,
                 module='engineio_fast'):
        self.port = port or free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.port
        self.log = os.path.join(str(directory), 'handlers.log')
        self.out_path = os.path.join(str(directory), 'stdout.txt')
        self.err_path = os.path.join(str(directory), 'stderr.txt')
        full_env = dict(os.environ, BUILTIN_APP_LOG=self.log,
                        PYTHONUNBUFFERED='1')
        full_env.update(env or {})
        self.cmd = [sys.executable, '-m', module] + list(args) + \
            ['--port', str(self.port)]
        self.out = open(self.out_path, 'wb')
        self.err = open(self.err_path, 'wb')
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=full_env,
                                     stdout=self.out, stderr=self.err)

    def wait_listening(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('server exited with %s: %s'
                                     % (self.proc.returncode, self.stderr))
            try:
                socket.create_connection(('127.0.0.1', self.port),
                                         timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError('server did not listen: %s' % self.stderr)

    @property
    def stdout(self):
        with open(self.out_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    @property
    def stderr(self):
        with open(self.err_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def handler_lines(self):
        try:
            with open(self.log) as f:
                return [line.split() for line in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()      # this process only, by its pid
            self.proc.wait(10)
        self.out.close()
        self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_cli(args, timeout=30, **kw):
    """``python -m engineio_fast ARGS`` (the command line) run to its end,
    from the repository's root; its output captured as text."""
    return subprocess.run([sys.executable, '-m', 'engineio_fast'] + args,
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kw)


def sigterm(srv):
    """Stop a :class:`ServerProcess` as a supervisor does: SIGTERM, and it
    must exit with status 0."""
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0
