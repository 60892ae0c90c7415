"""The sync Server's websocket (WsConn) on a real Werkzeug server on
127.0.0.1, for what its wiring to the shared protocol pieces
(protocol.websocket: the handshake, MessageAssembly) decides: the 101 and
permessage-deflate both ways, the drafts' version 8, and the frames of one
read taken in order up to a violation or a close.

Every server kind: test_sync_modes.py (handshake refusals, deflate)."""

import json
import zlib

import pytest

import engineio_fast as engineio

from ..io.builtin_helpers import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawConn,
    RawWs,
    Recorder,
    frame,
    request,
)
from ..support import WerkzeugServer

pytestmark = pytest.mark.timeout(60)
WAIT = 5.0
EIO_WS = '/engine.io/?EIO=4&transport=websocket'
DEFLATE_ANSWER = ('permessage-deflate; server_no_context_takeover; '
                  'client_no_context_takeover')


@pytest.fixture
def serve():
    started = []

    def start(**options):
        options.setdefault('async_mode', 'threading')
        eio = engineio.Server(**options)
        eio.rec = Recorder()

        @eio.on('message')
        def message(sid, data):
            eio.rec.add('message', sid, data)
            eio.send(sid, data)

        @eio.on('disconnect')
        def disconnect(sid, reason):
            eio.rec.add('disconnect', sid, reason)

        s = WerkzeugServer(eio)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def deflated(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def test_rfc_example_key_and_version_8(serve):
    srv = serve()
    for version in ('13', '8'):
        with RawConn(srv.port) as c:
            c.send(request('GET', EIO_WS, [
                ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
                ('Sec-WebSocket-Version', version)]))
            r = c.read_response(head_only=True)
            assert r.status == 101
            assert r.headers['sec-websocket-accept'] == \
                's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
            assert 'sec-websocket-extensions' not in r.headers
            ws = RawWs.__new__(RawWs)
            ws.sock, ws.buf = c.sock, c.buf
            ws.open_packet()
            ws.send_text('4v' + version)
            assert ws.recv_text() == '4v' + version


def test_permessage_deflate_on_the_wire(serve):
    srv = serve(per_message_deflate=True, max_http_buffer_size=10000)
    offer = [('Sec-WebSocket-Extensions',
              'permessage-deflate; client_max_window_bits')]
    with RawWs(srv.port, headers=offer) as ws:
        assert ws.handshake.headers['sec-websocket-extensions'] == \
            DEFLATE_ANSWER
        sid = ws.open_packet()['sid']
        big = ('4' + 'abcdefgh' * 1000).encode()
        ws.send_frame(OP_TEXT, deflated(big), rsv=4)       # compressed by us
        op, fin, rsv, payload = ws.recv_frame()
        assert (op, fin, rsv) == (OP_TEXT, True, 4)         # and by it
        assert len(payload) < len(big) // 20
        assert zlib.decompressobj(-15).decompress(
            payload + b'\x00\x00\xff\xff') == big
        blob = bytes(range(256)) * 8
        ws.send_frame(OP_BINARY, deflated(blob), rsv=4)
        op, fin, rsv, payload = ws.recv_frame()
        assert (op, rsv) == (OP_BINARY, 4)
        ws.send_text('4tiny')                  # under the threshold: plain
        assert ws.recv_frame() == (OP_TEXT, True, 0, b'4tiny')
        # inflating past max_http_buffer_size: 1009
        ws.send_frame(OP_TEXT, deflated(b'4' + b'\0' * 50000), rsv=4)
        assert ws.expect_close() == 1009
    assert srv.eio.rec.reason(sid) == 'transport error'


def test_permessage_deflate_declined_or_off(serve):
    srv = serve(per_message_deflate=True)
    offer = [('Sec-WebSocket-Extensions',
              'permessage-deflate; server_max_window_bits=10')]
    with RawWs(srv.port, headers=offer) as ws:
        assert 'sec-websocket-extensions' not in ws.handshake.headers
        ws.open_packet()
        ws.send_text('4' + 'y' * 5000)
        assert ws.recv_frame()[2] == 0
        ws.send_frame(OP_TEXT, deflated(b'4x'), rsv=4)    # not negotiated
        assert ws.expect_close() == 1002
    srv = serve()
    offer = [('Sec-WebSocket-Extensions', 'permessage-deflate')]
    with RawWs(srv.port, headers=offer) as ws:
        assert 'sec-websocket-extensions' not in ws.handshake.headers


def test_frames_of_one_read_up_to_a_violation(serve):
    """async_handlers=False: the messages before the violation are
    answered before the close frame, as by the JavaScript server."""
    srv = serve(async_handlers=False)
    with RawWs(srv.port) as ws:
        sid = ws.open_packet()['sid']
        ws.send(frame(OP_TEXT, '4a') + frame(OP_PING, b'p') +
                frame(OP_TEXT, b'4\xe2', fin=False) + frame(0, b'\x82\xac') +
                frame(OP_TEXT, '4x', mask=False) + frame(OP_TEXT, '4never'))
        assert [ws.recv_frame() for _ in range(3)] == [
            (OP_TEXT, True, 0, b'4a'), (OP_PONG, True, 0, b'p'),
            (OP_TEXT, True, 0, '4€'.encode())]
        assert ws.expect_close() == 1002
    assert srv.eio.rec.reason(sid) == 'transport error'
    assert [e[2] for e in srv.eio.rec.of('message')] == ['a', '€']


def test_nothing_taken_after_a_close_frame(serve):
    srv = serve(async_handlers=False)
    with RawWs(srv.port) as ws:
        sid = ws.open_packet()['sid']
        ws.send(frame(OP_TEXT, '4a') +
                frame(OP_CLOSE, (4001).to_bytes(2, 'big')) +
                frame(OP_TEXT, '4after') + frame(OP_PING, b'p'))
        assert ws.recv_text() == '4a'
        op, _, _, payload = ws.recv_frame()
        assert (op, payload) == (OP_CLOSE, (4001).to_bytes(2, 'big'))
        assert ws.closed_within(WAIT)
    assert srv.eio.rec.reason(sid) == 'transport close'
    assert [e[2] for e in srv.eio.rec.of('message')] == ['a']


def test_upgrade_without_connection_header_is_a_plain_request(serve):
    srv = serve()
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_WS, [
            ('Upgrade', 'websocket'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]))
        r = c.read_response()
    assert r.status == 400 and json.loads(r.body)['code'] == 3
