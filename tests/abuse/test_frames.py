"""Oversized websocket messages on every server mode: python-engineio's
CVE-2026-48809 class (a websocket driver that buffers whatever a client
announces or inflates). One frame over ``max_http_buffer_size``, many small
fragments that add up past it, a frame header announcing 2**62 bytes (then
nothing), and a permessage-deflate bomb: each closes its connection with
1009 (message too big) at once, the server's memory stays within a bound
after doing it again and again, and a session opened before keeps working.

Under uvicorn the websocket frames are read by uvicorn's websocket
implementation, which hands the ASGI app whole messages: the fragments of
one message are assembled by uvicorn up to its ``--ws-max-size`` (16 MiB by
default) before engineio_fast sees them, so that is the bound there (the
README says to set it to ``max_http_buffer_size``); the announced 2**62
bytes are refused by uvicorn, the rest by engineio_fast.

Each close frame is answered with one, as a client does
(``expect_close(answer=True)``), and then the server must close the TCP
connection.
"""

import gc
import struct
import time
import zlib

import pytest

from tests.io.builtin_helpers import (
    OP_BINARY,
    OP_CONT,
    OP_TEXT,
    WAIT,
    RawWs,
)
from tests.protocol.ws_frames import frame

from .servers import MODES

pytestmark = pytest.mark.timeout(180)

LIMIT = 100_000          # max_http_buffer_size for these servers
MB = 1 << 20
ROUNDS = 8               # each attack this many times, on new connections
UVICORN_WS_MAX_SIZE = 16 * MB
OFFER = [('Sec-WebSocket-Extensions',
          'permessage-deflate; client_max_window_bits')]


def deflated(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def one_frame(ws):
    ws.send_frame(OP_TEXT, b'4' + b'x' * (LIMIT + 1000))


def fragments(ws, limit=LIMIT):
    # small pieces, none of them large; the close comes once their sum
    # passes the limit, before the client has sent them all
    piece = 600 if limit == LIMIT else 64 * 1024
    ws.send_frame(OP_TEXT, b'4' + b'y' * (piece - 1), fin=False)
    cont = frame(OP_CONT, b'y' * piece, fin=False)   # masked once, resent
    ws.sock.settimeout(0.5)
    try:
        for _ in range(2 * limit // piece):
            ws.send(cont)
    except OSError:
        pass             # the server closed (or stopped reading)
    ws.sock.settimeout(WAIT)


def announced(ws):
    # a masked binary frame header announcing 2**62 bytes, the mask, and
    # 1 KiB of them: the server must not wait for (or allocate) the rest
    ws.send(bytes([0x80 | OP_BINARY, 0x80 | 127]) +
            struct.pack('!Q', 1 << 62) + b'\x01\x02\x03\x04' +
            b'\0' * 1024)


BOMB = deflated(b'4' + b'\0' * (64 * MB))     # ~64 KiB on the wire


def bomb(ws):
    assert len(BOMB) < LIMIT
    ws.send_frame(OP_TEXT, BOMB, rsv=4)


ATTACKS = {'one-frame': one_frame, 'fragments': fragments,
           'announced-2**62': announced, 'deflate-bomb': bomb}


@pytest.mark.parametrize('attack', sorted(ATTACKS))
def test_oversized_messages_close_with_1009(serve, mode, attack):
    served = serve(max_http_buffer_size=LIMIT, per_message_deflate=True)
    healthy = RawWs(served.port)
    healthy.open_packet()
    base = None
    try:
        for round_ in range(ROUNDS):
            ws = RawWs(served.port,
                       headers=OFFER if attack == 'deflate-bomb' else ())
            if attack == 'deflate-bomb':
                assert ('permessage-deflate' in ws.handshake.headers.get(
                    'sec-websocket-extensions', '')) == (mode != 'uwsgi'), \
                    ws.handshake
                # the open packet (compressed by some servers)
                assert ws.recv_frame()[0] == OP_TEXT
            else:
                ws.open_packet()
            start = time.monotonic()
            if attack == 'fragments' and mode == 'uvicorn':
                fragments(ws, UVICORN_WS_MAX_SIZE)
            else:
                ATTACKS[attack](ws)
            # uWSGI's websockets have no permessage-deflate: a compressed
            # frame there is a protocol error (1002), not a message
            expected = 1002 if (attack, mode) == ('deflate-bomb',
                                                  'uwsgi') else 1009
            assert ws.expect_close(answer=True) == expected, attack
            assert time.monotonic() - start < WAIT
            ws.close()
            # the other session is untouched (heartbeats aside)
            healthy.send_text('4round %d' % round_)
            text = healthy.recv_text()
            while text == '2':
                healthy.send_text('3')
                text = healthy.recv_text()
            assert text == '4round %d' % round_
            if mode == 'uvicorn':
                # uvicorn's websocket implementation keeps a refused
                # inflation (up to its 16 MiB) in a reference cycle (the
                # exception's traceback) until the cycle collector runs; a
                # plain ASGI app under it shows the same
                gc.collect()
            if round_ == 1:
                base = served.rss()   # after the first allocations settle
        grown = served.rss() - base
        # six more of them after the baseline: a driver that buffered the
        # 64 MiB inflation, or the announced length, would be far above this
        assert grown < 24 * MB, (attack, grown)
    finally:
        healthy.close()


@pytest.mark.parametrize('mode', [m for m in MODES
                                  if m not in ('uvicorn', 'uwsgi')])
def test_a_refused_message_does_not_reset_the_connection(serve, mode):
    """After its 1009 close for a message over the limit, the server reads
    on (and drops) what the client still sends until the client closes, for
    a bounded time, as Node's ws does, instead of closing with the client's
    bytes unread: that resets the connection, and a proxy in between can
    then lose the close frame (uWSGI's HTTP router lost it once in CI, when
    the worker did that). The client here goes on sending after the close
    frame; then it answers the close and the connection ends cleanly (FIN,
    no reset).

    Where engineio_fast does not own the client's connection, the server in
    front decides: uvicorn's websocket implementation closes at once, and
    uWSGI's HTTP router closes the client's connection, bytes unread, as
    soon as the worker half-closes; the worker's side of it is what
    test_oversized_messages_close_with_1009[uwsgi-*] checks there."""
    served = serve(max_http_buffer_size=LIMIT)
    ws = RawWs(served.port)
    ws.open_packet()
    try:
        # far more than one read of the server's: most of it is still
        # unread when the close frame goes out
        ws.send_frame(OP_TEXT, b'4' + b'x' * (LIMIT * 4))
        ws.sock.settimeout(WAIT)
        while True:
            op, _fin, _rsv, payload = ws.recv_frame()
            if op == 0x8:
                break
        assert struct.unpack('!H', payload[:2])[0] == 1009
        for _ in range(5):
            time.sleep(0.05)
            ws.sock.sendall(b'\x00' * 4096)     # bytes the server drops
        ws.send_frame(0x8, payload[:2])
        ws.sock.settimeout(WAIT)
        while ws.sock.recv(65536):
            pass                                # to the server's FIN
    except ConnectionResetError as exc:
        pytest.fail('the server reset the connection: %r' % exc)
    finally:
        ws.close()
