"""Fuzz targets: each ``check_<name>(data: bytes)`` returns quietly for any
input or raises AssertionError (a divergence or a broken invariant); any
other exception escaping a target is a bug too.

Run by atheris (tests/fuzz/run.py: coverage-guided, new inputs kept in a
corpus) and replayed from the corpus in the repository by
tests/fuzz/test_corpus.py on every test run. The compiled kernels are
compared with their pure twins on every input (``packet``, ``payload``,
``frames``, ``sio``); the others drive the pure-Python layers that have no
twin (the built-in server's HTTP and websocket handling with its
permessage-deflate, and query parsing) and check their invariants.
"""

import asyncio
import json
from urllib.parse import unquote_plus

import engineio_fast
from engineio_fast import _accel
from engineio_fast.adapters.builtin.context import ServerContext
from engineio_fast.adapters.builtin.http_protocol import HttpProtocol
from engineio_fast.packet import Packet
from engineio_fast.protocol import websocket as _ws
from engineio_fast.protocol.http import parse_query
from tests.kernels.kernel_helpers import outcome

PURE = _accel.pure
COMPILED = _accel.compiled          # None on a pure install
MAX_PAYLOAD = 4096


def _text(data):
    return data.decode('utf-8', 'surrogatepass') if _valid(data) else \
        data.decode('latin-1')


def _valid(data):
    try:
        data.decode('utf-8', 'surrogatepass')
        return True
    except UnicodeDecodeError:
        return False


def _same(name, *args):
    """The pure twin's outcome, checked against the compiled one."""
    expected = outcome(getattr(PURE, name), *args)
    if COMPILED is not None:
        got = outcome(getattr(COMPILED, name), *args)
        assert got == expected, (name, args, got, expected)
    return expected


# -- kernels, compiled against pure -----------------------------------------

def check_packet(data):
    """One encoded packet, as bytes (binary) and as text."""
    _same('decode_packet', data)
    text = _text(data)
    _same('decode_packet', text)
    _same('decode_value', text, json.loads)
    _same('b64decode', text)


def check_payload(data):
    """A polling payload: split, decoded, and as Packet objects."""
    text = _text(data)
    if not text:
        return
    split = _same('split_payload', text)
    _same('decode_payload', text)
    def packets(kernels):
        return [(p.packet_type, p.data, p.binary)
                for p in kernels.decode_packets(text, Packet)]

    expected = outcome(packets, PURE)
    if COMPILED is not None:
        assert outcome(packets, COMPILED) == expected, (text, expected)
    if split[0] == 'ok':
        # the separator never survives inside a packet
        assert all('\x1e' not in p for p in split[1][1]), split


def check_frames(data):
    """Websocket frames as a server and as a client reads them; then the
    messages the frames make (RFC 6455/7692 rules, permessage-deflate)."""
    if not data:
        return
    limit = data[0] * 64
    body = data[1:]
    for masked in (True, False):
        result = _same('parse_frames', body, limit, masked)
        if result[0] != 'ok':
            continue
        frames, consumed, error = PURE.parse_frames(body, limit, masked)
        assert 0 <= consumed <= len(body)
        for op, _fin, rsv, payload in frames:
            assert len(payload) <= limit and 0 <= op <= 15 and \
                0 <= rsv <= 7, (op, rsv, len(payload))
        _assemble(frames, error, limit)
    _same('parse_frame_header', body)


class _Assembly(_ws.MessageAssembly):
    def __init__(self, deflate, limit):
        super().__init__(deflate, limit)
        self.out = []
        self.closed = None

    def _deliver(self, data):
        assert len(data) <= self.max_size, len(data)
        self.out.append(data)
        return False

    def _pong(self, payload):
        assert len(payload) <= 125

    def _send_close(self, code):
        assert code is None or _ws.valid_close_code(code), code
        self.closed = code


def _assemble(frames, error, limit):
    for deflate in (None, _ws.Deflate(True)):
        asm = _Assembly(deflate, limit)
        taken = asm.receive(frames, error)
        assert taken is None or 0 < taken <= len(frames)
        if error:
            assert asm.closed is not None or taken is not None


def check_sio(data):
    """A Socket.IO packet's head and payload."""
    text = _text(data)
    head = _same('sio_read_head', text)
    if head[0] == 'ok':
        ptype, attachments, _ns, _id, start = PURE.sio_read_head(text)
        assert 0 <= start <= len(text)
        if start < len(text):
            try:
                payload = json.loads(text[start:])
            except ValueError:
                return
            _same('sio_check_payload', ptype, payload, attachments)


# -- the layers without a twin -----------------------------------------------

def check_query(data):
    """The query string parser against the standard library's decoding."""
    text = _text(data)
    got = parse_query(text)
    expected = {}
    for part in text.split('&'):
        if part:
            key, _, value = part.partition('=')
            expected.setdefault(unquote_plus(key, errors='replace'),
                                unquote_plus(value, errors='replace'))
    assert got == expected, (text, got, expected)


class _Transport(asyncio.Transport):
    """A transport that keeps what is written."""

    def __init__(self):
        super().__init__()
        self.out = []
        self.closed = False
        self.eof = False
        self.protocol = None

    def write(self, data):
        self.out.append(bytes(data))

    def close(self):
        self.closed = True

    def abort(self):
        self.closed = True

    def can_write_eof(self):
        # a TCP transport's (the server half-closes a websocket it fails)
        return True

    def write_eof(self):
        self.eof = True

    def is_closing(self):
        return self.closed

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def set_protocol(self, protocol):
        self.protocol = protocol

    def get_protocol(self):
        return self.protocol

    def get_write_buffer_size(self):
        return 0

    def get_extra_info(self, name, default=None):
        return ('127.0.0.1', 5000) if name in ('peername', 'sockname') \
            else default


_HTTP = {}


def _http_server():
    if not _HTTP:
        loop = asyncio.new_event_loop()
        errors = []
        loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        eio = engineio_fast.AsyncServer(max_http_buffer_size=MAX_PAYLOAD,
                                        cors_allowed_origins='*',
                                        http_compression=True,
                                        compression_threshold=16)

        @eio.on('message')
        async def message(sid, data):
            await eio.send(sid, data)

        ctx = ServerContext(eio, None, loop, per_message_deflate=True,
                            limits={'max_request_line': 512,
                                    'max_header_bytes': 2048,
                                    'max_headers': 20})
        _HTTP.update(loop=loop, errors=errors, ctx=ctx, eio=eio)
    return _HTTP


def check_http(data):
    """Bytes as a client sends them to the built-in server, in two reads
    (the first byte says where the second starts): whatever they are, every
    byte written back is whole HTTP/1.1 responses or, after a 101,
    websocket frames; nothing escapes to the loop."""
    s = _http_server()
    loop, ctx = s['loop'], s['ctx']
    cut = data[0] if data else 0
    chunks = (data[1:1 + cut], data[1 + cut:])

    async def feed():
        transport = _Transport()
        protocol = HttpProtocol(ctx)
        transport.protocol = protocol
        protocol.connection_made(transport)
        for chunk in chunks:
            if chunk and not transport.closed:
                transport.protocol.data_received(chunk)
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        transport.protocol.connection_lost(None)
        await asyncio.sleep(0)
        return transport

    transport = loop.run_until_complete(feed())
    ctx.engine.close_all(now=loop.time())
    ctx.engine.tick(loop.time() + 3600)
    assert not s['errors'], s['errors']
    written = b''.join(transport.out)
    _check_responses(written)


def _check_responses(written):
    while written:
        assert written.startswith(b'HTTP/1.1 '), written[:80]
        head, sep, rest = written.partition(b'\r\n\r\n')
        assert sep, written[:200]
        status = int(head[9:12])
        if status == 101:
            return                  # websocket frames follow
        length = None
        chunked = False
        for line in head.split(b'\r\n')[1:]:
            name, _, value = line.partition(b':')
            name = name.strip().lower()
            if name == b'content-length':
                length = int(value)
            elif name == b'transfer-encoding':
                chunked = b'chunked' in value.lower()
        if status == 100:
            written = rest
            continue
        if chunked:
            return                  # the ASGI bridge's (not reached here)
        assert length is not None, head
        assert len(rest) >= length, (head, len(rest))
        written = rest[length:]


TARGETS = {
    'packet': check_packet,
    'payload': check_payload,
    'frames': check_frames,
    'sio': check_sio,
    'query': check_query,
    'http': check_http,
}
