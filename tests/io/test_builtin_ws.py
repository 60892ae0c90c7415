"""The built-in server's websocket side over real sockets on 127.0.0.1:
the handshake, fragmentation, control frames, the close handshake, every
protocol violation (right close code, bounded time, session freed, other
sessions untouched), permessage-deflate, echo, bursts and large
messages."""

import asyncio
import base64
import json
import os
import time
import zlib

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

import engineio_fast as engineio

from .builtin_helpers import (
    EIO_POLL,
    EIO_WS,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    WAIT,
    RawConn,
    RawWs,
    accept_for,
    echo_server,
    frame,
    polling_open,
    request,
    wait_for,
)

BAD_BOUND = 2.0     # seconds within which a violation must be answered


@pytest.fixture
def echo(builtin):
    def start(limits=None, **options):
        eio = echo_server(**options)
        srv = builtin(engineio.ASGIApp(eio), limits=limits)
        srv.eio = eio
        srv.rec = eio.rec
        return srv
    return start


def open_raw(srv, **kw):
    ws = RawWs(srv.port, **kw)
    return ws, ws.open_packet()['sid']


def roundtrip(ws, text):
    ws.send_text(text)
    return ws.recv_text()


def live_sessions(srv):
    async def get():
        return sorted(s.sid for s in srv.eio._engine.sessions.values())
    return srv.call(get())


# -- handshake -------------------------------------------------------------

def test_handshake_accept_and_open_packet(echo):
    srv = echo()
    ws = RawWs(srv.port)
    with ws:
        h = ws.handshake
        assert h.status == 101
        assert h.headers['upgrade'].lower() == 'websocket'
        assert h.headers['connection'].lower() == 'upgrade'
        assert h.headers['sec-websocket-accept'] == accept_for(ws.key)
        assert 'sec-websocket-extensions' not in h.headers
        info = ws.open_packet()
        assert info['upgrades'] == [] and info['maxPayload'] == 1000000
        assert roundtrip(ws, '4hi') == '4hi'
    # the RFC 6455 example key, answered by the server
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_WS, [
            ('Upgrade', 'websocket'), ('Connection', 'keep-alive, Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]))
        r = c.read_response(head_only=True)
        assert r.status == 101
        assert r.headers['sec-websocket-accept'] == \
            's3pPLMBiTxaQ9kYGzzhZRbK+xOo='


def test_frames_in_the_same_write_as_the_handshake(echo):
    srv = echo()
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_WS, [
            ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]) +
            frame(OP_TEXT, '4early') + frame(OP_PING, b'p'))
        assert c.read_response(head_only=True).status == 101
        ws = RawWs.__new__(RawWs)
        ws.sock, ws.buf = c.sock, c.buf
        assert ws.open_packet()['sid']
        # the pong may overtake the echo (it is written at once)
        got = sorted([ws.recv_frame(), ws.recv_frame()])
        assert got == [(OP_TEXT, True, 0, b'4early'),
                       (OP_PONG, True, 0, b'p')]


HANDSHAKE = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
             ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
             ('Sec-WebSocket-Version', '13')]
KEY_REASON = b'Missing or invalid Sec-WebSocket-Key header'
VERSION_REASON = b'Missing or invalid Sec-WebSocket-Version header'

BAD_HANDSHAKES = {
    # name: (method, header to drop, headers to add, status, body); the
    # JavaScript server's answers (see tests/protocol/test_websocket.py)
    'no-key': ('GET', 'Sec-WebSocket-Key', [], 400, KEY_REASON),
    'short-key': ('GET', 'Sec-WebSocket-Key',
                  [('Sec-WebSocket-Key', 'c2hvcnQ=')], 400, KEY_REASON),
    'bad-key': ('GET', 'Sec-WebSocket-Key',
                [('Sec-WebSocket-Key', 'not base64 at all!!!!!=')], 400,
                KEY_REASON),
    'no-version': ('GET', 'Sec-WebSocket-Version', [], 400, VERSION_REASON),
    'version-12': ('GET', 'Sec-WebSocket-Version',
                   [('Sec-WebSocket-Version', '12')], 400, VERSION_REASON),
    'upgrade-foo': ('GET', 'Upgrade', [('Upgrade', 'foo')], 400,
                    b'Invalid Upgrade header'),
    'post': ('POST', None, [], 405, b'Invalid HTTP method'),
}


@pytest.mark.parametrize('name', sorted(BAD_HANDSHAKES))
def test_bad_handshake_refused_as_the_js_server(echo, name):
    method, drop, extra, status, body = BAD_HANDSHAKES[name]
    srv = echo()
    headers = [h for h in HANDSHAKE if h[0] != drop] + extra
    with RawConn(srv.port) as c:
        c.send(request(method, EIO_WS, headers))
        r = c.read_response()
        assert (r.status, r.body) == (status, body), r
        assert r.headers['content-type'] == 'text/html'
        assert r.headers['connection'] == 'close'
        if body == VERSION_REASON:
            assert r.headers['sec-websocket-version'] == '13, 8'
        assert c.closed_within(WAIT)
    assert live_sessions(srv) == []
    assert srv.rec.of('connect') == []


def test_version_8_accepted_as_the_js_server(echo):
    srv = echo()
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_WS, [
            h for h in HANDSHAKE if h[0] != 'Sec-WebSocket-Version'] +
            [('Sec-WebSocket-Version', '8')]))
        r = c.read_response(head_only=True)
        assert r.status == 101
        assert r.headers['sec-websocket-accept'] == \
            's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
        ws = RawWs.__new__(RawWs)
        ws.sock, ws.buf = c.sock, c.buf
        assert ws.open_packet()['sid']
        assert roundtrip(ws, '4v8') == '4v8'


def test_websocket_transport_without_upgrade_and_engine_errors(echo):
    srv = echo()
    with RawConn(srv.port) as c:   # a plain GET for transport=websocket
        c.send(request('GET', EIO_WS))
        r = c.read_response()
        assert r.status == 400 and json.loads(r.body)['code'] == 3
    with RawConn(srv.port) as c:   # 'Upgrade' without 'Connection: Upgrade'
        c.send(request('GET', EIO_WS, [
            h for h in HANDSHAKE if h[0] != 'Connection']))
        r = c.read_response()
        assert r.status == 400 and json.loads(r.body)['code'] == 3
    key = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
           ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
           ('Sec-WebSocket-Version', '13')]
    with RawConn(srv.port) as c:   # an unknown sid
        c.send(request('GET', EIO_WS + '&sid=nope', key))
        r = c.read_response()
        assert r.status == 400 and json.loads(r.body)['code'] == 1
        assert c.closed_within(WAIT)
    with RawConn(srv.port) as c:   # EIO=3
        c.send(request('GET', '/engine.io/?EIO=3&transport=websocket', key))
        r = c.read_response()
        assert r.status == 400 and json.loads(r.body)['code'] == 5


def test_rejected_connect_handler(builtin):
    eio = engineio.AsyncServer()

    @eio.on('connect')
    async def connect(sid, environ):
        return {'why': 'no'}

    srv = builtin(engineio.ASGIApp(eio))
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_WS, [
            ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]))
        r = c.read_response()
        assert r.status == 401
        assert json.loads(r.body) == {'why': 'no'}


# -- frames ----------------------------------------------------------------

def test_fragmented_message_with_interleaved_ping(echo):
    srv = echo()
    with RawWs(srv.port) as ws:
        sid = ws.open_packet()['sid']
        text = '4' + 'Grüße, ' * 30 + '✓'
        data = text.encode('utf-8')
        # split inside a multi-byte character on purpose
        cut1 = data.index('ü'.encode()) + 1
        cut2 = len(data) - 2
        ws.send(frame(OP_TEXT, data[:cut1], fin=False) +
                frame(OP_PING, b'are you there') +
                frame(OP_CONT, data[cut1:cut2], fin=False))
        ws.send(frame(OP_CONT, data[cut2:], fin=True))
        assert ws.recv_frame() == (OP_PONG, True, 0, b'are you there')
        assert ws.recv_text() == text
        # binary fragmented too
        blob = os.urandom(3000)
        ws.send(frame(OP_BINARY, blob[:1000], fin=False) +
                frame(OP_CONT, blob[1000:2000], fin=False) +
                frame(OP_CONT, blob[2000:], fin=True))
        assert ws.recv_frame() == (OP_BINARY, True, 0, blob)
    msgs = [e[2] for e in srv.rec.of('message') if e[1] == sid]
    assert msgs == [text[1:], blob]


def test_control_frames(echo):
    srv = echo()
    with RawWs(srv.port) as ws:
        sid = ws.open_packet()['sid']
        ws.send_frame(OP_PING)
        assert ws.recv_frame() == (OP_PONG, True, 0, b'')
        ws.send_frame(OP_PING, b'x' * 125)
        assert ws.recv_frame() == (OP_PONG, True, 0, b'x' * 125)
        ws.send_frame(OP_PONG, b'unsolicited')     # ignored
        assert roundtrip(ws, '4after pong') == '4after pong'
    assert srv.rec.reason(sid) == 'transport close'


@pytest.mark.parametrize('payload, echoed', [
    (b'\x03\xe8bye', 1000),
    (b'\x03\xe9', 1001),
    (b'\x0f\xa0app code', 4000),
    (b'', None),
])
def test_close_handshake_echoes_code(echo, payload, echoed):
    srv = echo()
    ws, sid = open_raw(srv)
    with ws:
        ws.send_frame(OP_CLOSE, payload)
        assert ws.expect_close() == echoed
    assert srv.rec.reason(sid) == 'transport close'
    assert sid not in live_sessions(srv)


def test_engineio_close_packet_over_websocket(echo):
    srv = echo()
    ws, sid = open_raw(srv)
    with ws:
        ws.send_text('1')
        assert ws.expect_close() in (1000, None)
    assert srv.rec.reason(sid) == 'client disconnect'


def test_server_disconnect_sends_close_packet_then_close_frame(echo):
    srv = echo()
    ws, sid = open_raw(srv)
    with ws:
        srv.call(srv.eio.disconnect(sid))
        assert ws.recv_text() == '1'
        op, _, _, payload = ws.recv_frame()
        assert op == OP_CLOSE
        assert ws.closed_within(WAIT)
    assert srv.rec.reason(sid) == 'server disconnect'


MAX = 1000   # max_http_buffer_size for the violation tests

VIOLATIONS = {
    'unmasked': (frame(OP_TEXT, '4x', mask=False), 1002),
    'opcode-3': (frame(3, b'4x'), 1002),
    'opcode-7': (frame(7, b'4x'), 1002),
    'opcode-11': (frame(11, b''), 1002),
    'opcode-15': (frame(15, b''), 1002),
    'rsv1-no-extension': (frame(OP_TEXT, '4x', rsv=4), 1002),
    'rsv2': (frame(OP_TEXT, '4x', rsv=2), 1002),
    'rsv3': (frame(OP_TEXT, '4x', rsv=1), 1002),
    'rsv-on-ping': (frame(OP_PING, b'', rsv=4), 1002),
    'fragmented-ping': (frame(OP_PING, b'a', fin=False), 1002),
    'fragmented-close': (frame(OP_CLOSE, b'\x03\xe8', fin=False), 1002),
    'ping-126-bytes': (frame(OP_PING, b'p' * 126), 1002),
    'close-126-bytes': (frame(OP_CLOSE, b'\x03\xe8' + b'r' * 124), 1002),
    'continuation-first': (frame(OP_CONT, b'4x'), 1002),
    'continuation-first-unfinished': (frame(OP_CONT, b'4x', fin=False),
                                      1002),
    'data-inside-fragmented': (frame(OP_TEXT, b'4a', fin=False) +
                               frame(OP_TEXT, b'4b'), 1002),
    'binary-inside-fragmented': (frame(OP_TEXT, b'4a', fin=False) +
                                 frame(OP_BINARY, b'b', fin=False), 1002),
    'non-minimal-length': (bytes([0x81, 0x80 | 126, 0, 5]) + b'\0' * 4 +
                           b'4abcd', 1002),
    'oversized-by-header': (bytes([0x82, 0x80 | 127]) +
                            (10 ** 9).to_bytes(8, 'big'), 1009),
    'oversized-16bit-header': (bytes([0x82, 0x80 | 126]) +
                               (MAX + 200).to_bytes(2, 'big'), 1009),
    'oversized-fragmented': (frame(OP_TEXT, b'4' + b'a' * 599, fin=False) +
                             frame(OP_CONT, b'a' * 600, fin=False), 1009),
    'bad-utf8': (frame(OP_TEXT, b'4\xff\xfe'), 1007),
    'overlong-utf8': (frame(OP_TEXT, b'4\xc0\xaf'), 1007),
    'surrogate-utf8': (frame(OP_TEXT, b'4\xed\xa0\x80'), 1007),
    'bad-utf8-fragmented': (frame(OP_TEXT, b'4ok', fin=False) +
                            frame(OP_CONT, b'\xe2\x82'), 1007),
    'close-1005': (frame(OP_CLOSE, (1005).to_bytes(2, 'big')), 1002),
    'close-1006': (frame(OP_CLOSE, (1006).to_bytes(2, 'big')), 1002),
    'close-1004': (frame(OP_CLOSE, (1004).to_bytes(2, 'big')), 1002),
    'close-999': (frame(OP_CLOSE, (999).to_bytes(2, 'big')), 1002),
    'close-0': (frame(OP_CLOSE, b'\x00\x00'), 1002),
    'close-2000': (frame(OP_CLOSE, (2000).to_bytes(2, 'big')), 1002),
    'close-5000': (frame(OP_CLOSE, (5000).to_bytes(2, 'big')), 1002),
    'close-1-byte': (frame(OP_CLOSE, b'\x03'), 1002),
    'close-bad-utf8-reason': (frame(OP_CLOSE, b'\x03\xe8\xff'), 1007),
    'invalid-engineio-packet': (frame(OP_TEXT, b'9nine'), 1002),
    'empty-engineio-packet': (frame(OP_TEXT, b''), 1002),
    'engineio-payload-too-big': (frame(OP_TEXT, b'4' + b'z' * (MAX + 5)),
                                 1009),
}


@pytest.mark.parametrize('name', sorted(VIOLATIONS))
def test_protocol_violation(echo, name):
    data, code = VIOLATIONS[name]
    srv = echo(max_http_buffer_size=MAX)
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as other:
        other_sid = json.loads(other.recv(timeout=WAIT)[1:])['sid']
        ws, sid = open_raw(srv)
        with ws:
            assert roundtrip(ws, '4before') == '4before'
            start = time.monotonic()
            ws.send(data)
            assert ws.expect_close(timeout=BAD_BOUND) == code
            assert time.monotonic() - start < BAD_BOUND
        # the session is freed; a protocol error is 'transport error' (as
        # the JavaScript server reports it)
        assert srv.rec.reason(sid) == 'transport error'
        assert wait_for(lambda: sid not in live_sessions(srv))
        assert not [e for e in srv.rec.of('message')
                    if e[1] == sid and e[2] != 'before']

        async def ws_conns():
            return len(srv.server.ctx.ws_conns)
        assert wait_for(lambda: srv.call(ws_conns()) == 1)
        # the other session is untouched
        other.send('4still here')
        assert other.recv(timeout=WAIT) == '4still here'
        assert live_sessions(srv) == [other_sid]
        assert srv.rec.reason(other_sid, timeout=0) is None


def test_violation_split_across_writes(echo):
    """An oversized frame header arriving a byte at a time is refused as
    soon as the length is known, without waiting for a payload."""
    srv = echo(max_http_buffer_size=MAX)
    ws, sid = open_raw(srv)
    with ws:
        head = bytes([0x82, 0x80 | 127]) + (10 ** 9).to_bytes(8, 'big')
        for b in head:
            ws.send(bytes([b]))
        assert ws.expect_close(timeout=BAD_BOUND) == 1009
    assert srv.rec.reason(sid) == 'transport error'


def test_at_the_size_limit_is_accepted(echo):
    srv = echo(max_http_buffer_size=MAX)
    ws, sid = open_raw(srv)
    with ws:
        text = '4' + 'a' * (MAX - 1)
        assert roundtrip(ws, text) == text
        # fragmented up to the limit
        ws.send(frame(OP_TEXT, text[:500], fin=False) +
                frame(OP_CONT, text[500:], fin=True))
        assert ws.recv_text() == text


def test_answers_before_a_violation_leave_before_the_close(echo):
    """Messages taken before a protocol error in the same read get their
    answers before the close frame (the JavaScript server sends '4a',
    the pong, '4b', then the 1002 close for these bytes)."""
    srv = echo()
    ws, sid = open_raw(srv)
    with ws:
        ws.send(frame(OP_TEXT, '4a') + frame(OP_PING, b'p') +
                frame(OP_TEXT, '4b') + frame(OP_TEXT, '4x', mask=False))
        got = [ws.recv_frame() for _ in range(3)]
        # the pong is written at once; the echoes leave together after
        assert sorted(got) == [(OP_TEXT, True, 0, b'4a'),
                               (OP_TEXT, True, 0, b'4b'),
                               (OP_PONG, True, 0, b'p')]
        assert got.index((OP_TEXT, True, 0, b'4a')) < \
            got.index((OP_TEXT, True, 0, b'4b'))
        assert ws.expect_close() == 1002
    assert srv.rec.reason(sid) == 'transport error'


def test_in_order_backlog_keeps_frames_and_the_error_behind_a_handler(
        builtin):
    """async_handlers=False: a handler that suspends holds back the frames
    parsed after its message (the ping's pong too) and the protocol error
    that follows them; all are taken, in order, once it ends."""
    eio = echo_server(async_handlers=False)

    @eio.on('message')
    async def message(sid, data):
        if data == 'slow':
            await asyncio.sleep(0.3)
        await eio.send(sid, data)

    srv = builtin(engineio.ASGIApp(eio))
    ws, sid = open_raw(srv)
    with ws:
        ws.send(frame(OP_TEXT, '4slow') + frame(OP_PING, b'p') +
                frame(OP_TEXT, b'4fa', fin=False) + frame(OP_CONT, b'st') +
                frame(OP_TEXT, '4x', mask=False))
        assert ws.recv_text() == '4slow'
        assert ws.recv_frame() == (OP_PONG, True, 0, b'p')
        assert ws.recv_text() == '4fast'
        assert ws.expect_close() == 1002
    assert eio.rec.reason(sid) == 'transport error'


# -- permessage-deflate ----------------------------------------------------

def test_permessage_deflate_negotiated_when_enabled(echo):
    srv = echo(per_message_deflate=True)
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ws:
        assert 'permessage-deflate' in ws.request.headers[
            'Sec-WebSocket-Extensions']
        ext = ws.response.headers['Sec-WebSocket-Extensions']
        assert ext.startswith('permessage-deflate')
        assert ws.recv(timeout=WAIT)[0] == '0'
        big = '4' + 'compress me please ' * 20000
        ws.send(big)
        assert ws.recv(timeout=WAIT) == big
        blob = bytes(range(256)) * 1000
        ws.send(blob)
        assert ws.recv(timeout=WAIT) == blob
        ws.send('4small')
        assert ws.recv(timeout=WAIT) == '4small'


def test_permessage_deflate_on_the_wire(echo):
    srv = echo(per_message_deflate=True)
    offer = [('Sec-WebSocket-Extensions',
              'permessage-deflate; client_max_window_bits')]
    with RawWs(srv.port, headers=offer) as ws:
        assert ws.handshake.headers['sec-websocket-extensions'].startswith(
            'permessage-deflate')
        ws.open_packet()
        big = ('4' + 'abcdefgh' * 10000).encode()
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = (c.compress(big) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
        ws.send_frame(OP_TEXT, body, rsv=4)          # compressed by us
        op, fin, rsv, payload = ws.recv_frame()
        assert (op, fin, rsv) == (OP_TEXT, True, 4)  # compressed by it
        assert len(payload) < len(big) // 20
        d = zlib.decompressobj(-15)
        assert d.decompress(payload + b'\x00\x00\xff\xff') == big
        # small messages go uncompressed
        ws.send_text('4tiny')
        assert ws.recv_frame() == (OP_TEXT, True, 0, b'4tiny')
        # garbage deflate data is refused
        ws.send_frame(OP_TEXT, b'\xff\xff\xff\xff', rsv=4)
        assert ws.expect_close() == 1007


def test_permessage_deflate_bomb_refused(echo):
    srv = echo(per_message_deflate=True, max_http_buffer_size=MAX)
    offer = [('Sec-WebSocket-Extensions', 'permessage-deflate')]
    ws, sid = open_raw(srv, headers=offer)
    with ws:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = (c.compress(b'4' + b'\0' * 500000) +
                c.flush(zlib.Z_SYNC_FLUSH))[:-4]
        assert len(body) < MAX           # small on the wire
        ws.send_frame(OP_TEXT, body, rsv=4)
        assert ws.expect_close() == 1009
    assert srv.rec.reason(sid) == 'transport error'


def test_permessage_deflate_off_by_default(echo):
    srv = echo()
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ws:
        assert 'permessage-deflate' in ws.request.headers[
            'Sec-WebSocket-Extensions']
        assert 'Sec-WebSocket-Extensions' not in ws.response.headers
        assert ws.recv(timeout=WAIT)[0] == '0'
        big = '4' + 'not compressed ' * 10000
        ws.send(big)
        assert ws.recv(timeout=WAIT) == big
    offer = [('Sec-WebSocket-Extensions', 'permessage-deflate')]
    with RawWs(srv.port, headers=offer) as ws:
        assert 'sec-websocket-extensions' not in ws.handshake.headers
        ws.open_packet()
        ws.send_text('4' + 'x' * 5000)
        assert ws.recv_frame()[2] == 0     # no RSV1: not compressed
        ws.send_frame(OP_TEXT, b'\x4a\x04\x00', rsv=4)   # not negotiated
        assert ws.expect_close() == 1002


def test_permessage_deflate_offer_with_unsupported_window(echo):
    """A client asking for a smaller server window than the server uses
    must not get permessage-deflate accepted without that parameter (the
    client would fail the connection, RFC 7692 7.1.2.1)."""
    srv = echo(per_message_deflate=True)
    offer = [('Sec-WebSocket-Extensions',
              'permessage-deflate; server_max_window_bits=10')]
    with RawWs(srv.port, headers=offer) as ws:
        assert 'sec-websocket-extensions' not in ws.handshake.headers
        ws.open_packet()
        big = '4' + 'y' * 5000
        ws.send_text(big)
        op, fin, rsv, payload = ws.recv_frame()
        assert (rsv, payload) == (0, big.encode())    # not compressed
    # a second offer the server can take is used instead
    offer = [('Sec-WebSocket-Extensions',
              'permessage-deflate; server_max_window_bits=10, '
              'permessage-deflate')]
    with RawWs(srv.port, headers=offer) as ws:
        ext = ws.handshake.headers.get('sec-websocket-extensions', '')
        assert ext.startswith('permessage-deflate')
        assert 'server_max_window_bits' not in ext
        ws.open_packet()
        ws.send_text('4' + 'y' * 5000)
        assert ws.recv_frame()[2] == 4    # compressed
    # unknown parameters, or another extension only: declined
    for header in ('permessage-deflate; foo=1', 'x-webkit-deflate-frame',
                   'permessage-deflate; client_max_window_bits=99',
                   'permessage-deflate; server_no_context_takeover=1'):
        with RawWs(srv.port, headers=[('Sec-WebSocket-Extensions',
                                       header)]) as ws:
            assert 'sec-websocket-extensions' not in ws.handshake.headers
            assert ws.open_packet()['sid']
    # websockets with a limited server window still connects and works
    from websockets.extensions.permessage_deflate import (
        ClientPerMessageDeflateFactory,
    )
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT, extensions=[
            ClientPerMessageDeflateFactory(server_max_window_bits=10)],
            compression=None) as ws:
        assert ws.recv(timeout=WAIT)[0] == '0'
        ws.send('4' + 'z' * 5000)
        assert ws.recv(timeout=WAIT) == '4' + 'z' * 5000


# -- data ------------------------------------------------------------------

def test_text_and_binary_echo(echo):
    srv = echo()
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ws:
        sid = json.loads(ws.recv(timeout=WAIT)[1:])['sid']
        for msg in ('4hello', '4', '4ünïcödé ✓ 🎉', '4{"a":[1,2,{"b":null}]}'):
            ws.send(msg)
            assert ws.recv(timeout=WAIT) == msg
        for blob in (b'\x00', b'\xff' * 300, os.urandom(70000)):
            ws.send(blob)
            got = ws.recv(timeout=WAIT)
            assert isinstance(got, bytes) and got == blob
    msgs = [e[2] for e in srv.rec.of('message') if e[1] == sid]
    assert msgs[3] == {'a': [1, 2, {'b': None}]}


def test_burst_of_100_messages_in_one_write(echo):
    srv = echo()
    with RawWs(srv.port) as ws:
        ws.open_packet()
        texts = ['4msg %03d' % i for i in range(100)]
        blobs = {i: os.urandom(i + 1) for i in range(0, 100, 10)}
        burst = b''.join(frame(OP_BINARY, blobs[i]) if i in blobs
                         else frame(OP_TEXT, t) for i, t in enumerate(texts))
        ws.send(burst)           # one write
        for i, t in enumerate(texts):
            op, fin, rsv, payload = ws.recv_frame()
            if i in blobs:
                assert (op, payload) == (OP_BINARY, blobs[i])
            else:
                assert (op, payload.decode()) == (OP_TEXT, t)


def test_200kb_both_ways(echo):
    srv = echo()
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT,
                    max_size=2 ** 20) as ws:
        ws.recv(timeout=WAIT)
        text = '4' + base64.b64encode(os.urandom(150000)).decode()
        assert len(text) > 200000
        ws.send(text)
        assert ws.recv(timeout=WAIT) == text
        blob = os.urandom(200 * 1024)
        ws.send(blob)
        assert ws.recv(timeout=WAIT) == blob


def test_server_push_and_heartbeat(builtin):
    eio = echo_server(ping_interval=0.3, ping_timeout=0.5)
    srv = builtin(engineio.ASGIApp(eio))
    with RawWs(srv.port) as ws:
        info = ws.open_packet()
        assert info['pingInterval'] == 300
        sid = info['sid']
        for _ in range(3):               # answered pings keep it open
            assert ws.recv_text() == '2'
            ws.send_text('3')
        srv.call(eio.send(sid, {'pushed': True}))
        got = ws.recv_text()
        while got == '2':
            ws.send_text('3')
            got = ws.recv_text()
        assert got == '4{"pushed":true}'
        # stop answering: ping timeout closes it promptly
        start = time.monotonic()
        text = ws.recv_text()
        while text == '2':
            text = ws.recv_text()
        assert text == '1'          # the close packet, then the close frame
        ws.expect_close(timeout=WAIT)
        assert time.monotonic() - start < 0.3 + 0.5 + 2.0
    assert eio.rec.reason(sid) == 'ping timeout'


def test_upgrade_from_polling(echo):
    srv = echo()
    import httpx
    sid = polling_open(srv.url)
    srv.call(srv.eio.send(sid, 'queued before'))
    with RawConn(srv.port) as poll:
        ws = RawWs(srv.port, path=EIO_WS + '&sid=' + sid)
        with ws:
            ws.send_text('2probe')
            assert ws.recv_text() == '3probe'
            ws.send_text('5')
            poll.send(request('GET', EIO_POLL + '&sid=' + sid))
            r = poll.read_response()
            assert r.status in (200, 400)
            got = []
            if r.status == 200 and r.body != b'6':
                got.append(r.body.decode())
            srv.call(srv.eio.send(sid, 'after'))
            while len(got) < 2 and 'after' not in ''.join(got):
                got.append(ws.recv_text())
            assert '4queued before' in ''.join(got)
            assert got[-1] == '4after'
            assert roundtrip(ws, '4over ws') == '4over ws'
    r = httpx.get(srv.url + EIO_POLL + '&sid=' + sid)
    assert r.status_code == 400
    assert srv.rec.reason(sid) == 'transport close'


def test_client_vanishes_without_close(echo):
    srv = echo()
    ws, sid = open_raw(srv)
    ws.send(frame(OP_TEXT, b'4half', fin=False))
    ws.close()          # TCP gone mid-message
    assert srv.rec.reason(sid) == 'transport close'
    assert wait_for(lambda: sid not in live_sessions(srv))


def test_many_sessions_one_misbehaves_at_a_time(echo):
    srv = echo(max_http_buffer_size=MAX)
    good = [open_raw(srv) for _ in range(5)]
    try:
        for name in ('unmasked', 'opcode-3', 'bad-utf8', 'close-5000',
                     'oversized-by-header'):
            data, code = VIOLATIONS[name]
            bad, bad_sid = open_raw(srv)
            with bad:
                bad.send(data)
                assert bad.expect_close(timeout=BAD_BOUND) == code
            for ws, sid in good:
                assert roundtrip(ws, '4' + sid) == '4' + sid
        assert sorted(live_sessions(srv)) == sorted(s for _, s in good)
    finally:
        for ws, _ in good:
            ws.close()


def test_websocket_closed_by_the_peer_during_a_message_storm(echo):
    srv = echo()
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as other:
        other.recv(timeout=WAIT)
        for _ in range(5):
            ws, sid = open_raw(srv)
            ws.send(b''.join(frame(OP_TEXT, '4x%d' % i) for i in range(200)))
            ws.close()
            assert srv.rec.reason(sid) == 'transport close'
        other.send('4ok')
        assert other.recv(timeout=WAIT) == '4ok'
    with pytest.raises(ConnectionClosed):
        other.recv(timeout=WAIT)


def test_frames_cut_anywhere_across_reads(echo):
    """Whole frames and the start of the next in one read, its rest in a
    later one (the bytes a read leaves over wait for the next)."""
    srv = echo()
    ws, sid = open_raw(srv)
    with ws:
        texts = ['4first', '4second', '4third ' + 'x' * 200]
        data = b''.join(frame(OP_TEXT, t.encode()) for t in texts)
        for cut in (len(data) - 1, len(data) - 150, len(data) - 205):
            ws.send(data[:cut])
            time.sleep(0.05)   # most likely a read of its own (either way ok)
            ws.send(data[cut:])
            assert [ws.recv_text() for _ in texts] == texts
        # still open: checked before the client's close (after it, the
        # server may already have ended the session, 'transport close')
        assert srv.rec.reason(sid, timeout=0) is None
