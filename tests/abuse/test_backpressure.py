"""A client that stops reading while the server sends to it, on every
server mode: its messages wait in a bounded queue, and past the bound the
option decides.

The app floods one client (``flood:N:S``: N messages of S characters)
that reads nothing for a second through a small receive buffer, then
reads everything. ``max_queue_bytes`` is 64 KiB, far below the 12 MiB
sent:
- without ``queue_high_water`` (python-engineio's behaviour: sends never
  wait), the queue overflows and the client is disconnected: it gets a
  part of the flood, then the close;
- with ``queue_high_water``, each ``send()`` waits while 16 KiB are queued
  and every message arrives, in order, none lost;
- with ``queue_overflow='drop'`` and no waiting, the client stays
  connected and what it gets is in order, with gaps;
- with ``queue_high_water``, a send gives up waiting after
  ``queue_wait_timeout`` and queues (test_a_send_waits_at_most_the_timeout).
The server's memory stays within a bound in every case, and another
client is answered meanwhile.
"""

import socket
import time

import pytest

from tests.io.builtin_helpers import OP_CLOSE, OP_TEXT, RawWs

pytestmark = pytest.mark.timeout(180)

COUNT, SIZE = 12000, 1024
MB = 1 << 20


def slow_client(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(30)
    sock.connect(('127.0.0.1', port))
    ws = RawWs(port, sock=sock, timeout=30)
    ws.open_packet()
    return ws


def drain(ws, limit=60):
    """Read until 'flood done' or the close: (message texts, closed)."""
    got = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            op, _fin, _rsv, payload = ws.recv_frame()
        except (EOFError, ConnectionError):
            return got, True
        if op == OP_CLOSE:
            return got, True
        assert op == OP_TEXT, op
        text = payload.decode()
        if text == '4flood done':
            return got, False
        if text == '1':                  # the close packet
            return got, True
        if text != '2':
            got.append(text)
    raise AssertionError('neither the end of the flood nor a close')


def echo_ok(port):
    other = RawWs(port)
    other.open_packet()
    other.send_text('4ping me')
    text = other.recv_text()
    while text == '2':
        text = other.recv_text()
    assert text == '4ping me'
    other.close()


def expected(i):
    return '4%d:%s' % (i, 'x' * SIZE)


@pytest.mark.parametrize('policy', ['disconnect', 'wait', 'drop'])
def test_a_client_that_stops_reading(serve, policy):
    options = {'max_queue_bytes': 65536}
    if policy == 'wait':
        options.update(queue_high_water=16384, queue_wait_timeout=60)
    elif policy == 'drop':
        options.update(queue_overflow='drop')
    server = serve(**options)
    before = server.rss()
    ws = slow_client(server.port)
    ws.send_text('4flood:%d:%d' % (COUNT, SIZE))
    time.sleep(1.0)                      # reading nothing
    assert server.rss() - before < 32 * MB
    echo_ok(server.port)
    got, closed = drain(ws)
    assert server.rss() - before < 48 * MB
    if policy == 'wait':
        assert not closed
        assert len(got) == COUNT
        assert got == [expected(i) for i in range(COUNT)]
    elif policy == 'disconnect':
        assert closed and len(got) < COUNT
        assert got == [expected(i) for i in range(len(got))]
    else:
        assert not closed and 0 < len(got) < COUNT
        numbers = [int(t[1:t.index(':')]) for t in got]
        assert numbers == sorted(set(numbers))
        assert all(t == expected(n) for t, n in zip(got, numbers))
    ws.close()
    echo_ok(server.port)


def test_a_send_waits_at_most_the_timeout():
    # the built-in server in this process: send() to a client that reads
    # nothing returns after queue_wait_timeout with its message queued,
    # and buffered_amount() counts it
    import asyncio

    import engineio_fast
    from tests.support import BuiltinServer
    eio = engineio_fast.AsyncServer(queue_high_water=4096,
                                    queue_wait_timeout=0.3)
    sids = []
    eio.on('connect', lambda sid, environ: sids.append(sid))
    server = BuiltinServer(engineio_fast.ASGIApp(eio))
    server.start()
    try:
        ws = slow_client(server.port)
        deadline = time.monotonic() + 10
        while not sids and time.monotonic() < deadline:
            time.sleep(0.01)
        sid = sids[0]

        async def fill_then_time_one():
            for _ in range(2000):          # 32 MiB at most
                if eio.buffered_amount(sid) >= 4096:
                    break
                await eio.send(sid, 'x' * 16384)
                await asyncio.sleep(0)
            before = eio.buffered_amount(sid)
            started = time.monotonic()
            await eio.send(sid, 'y' * 100)
            return time.monotonic() - started, before, \
                eio.buffered_amount(sid)

        # the transport buffers a good deal before the engine's queue
        # holds anything: fill until it does, then time one more send
        took, before, after = asyncio.run_coroutine_threadsafe(
            fill_then_time_one(), server.loop).result(60)
        assert 0.25 < took < 5, took
        assert after == before + 101
        ws.close()
    finally:
        server.stop()


UPGRADE_COUNT, UPGRADE_SIZE = 3000, 512
POLL = '/engine.io/?EIO=4&transport=polling'


def test_nothing_lost_across_the_upgrade_under_back_pressure(serve):
    # The flood starts while the client polls; send() waits at the high
    # water mark, so the sender is parked when the client probes and
    # upgrades, as the official client does: no GET in flight, '2probe',
    # '3probe', '5', then everything else on the websocket. Every message
    # arrives exactly once, in order, across the two transports. (The
    # flood is 1.5 MiB against a 64 KiB max_queue_bytes: had a send not
    # waited while the client was between transports, the queue would
    # have overflowed and the session been closed.)
    import json

    from .servers import once
    server = serve(max_queue_bytes=65536, queue_high_water=16384,
                   queue_wait_timeout=60)
    r = once(server.port, 'GET', POLL)
    assert r.status == 200, r
    sid = json.loads(r.body[1:])['sid']
    target = POLL + '&sid=' + sid
    r = once(server.port, 'POST', target,
             body=b'4flood:%d:%d' % (UPGRADE_COUNT, UPGRADE_SIZE))
    assert (r.status, r.body) == (200, b'ok'), r
    got = []
    for _ in range(3):                  # a few polls' worth by polling
        r = once(server.port, 'GET', target)
        assert r.status == 200, r
        got += [p.decode() for p in r.body.split(b'\x1e')
                if p not in (b'2', b'6')]
    assert 0 < len(got) < UPGRADE_COUNT, len(got)
    ws = RawWs(server.port,
               path='/engine.io/?EIO=4&transport=websocket&sid=' + sid)
    ws.send_text('2probe')
    assert ws.recv_text() == '3probe'
    ws.send_text('5')
    done = False
    deadline = time.monotonic() + 60
    while not done and time.monotonic() < deadline:
        text = ws.recv_text()
        if text == '2':
            ws.send_text('3')
        elif text == '4flood done':
            done = True
        elif text != '6':
            got.append(text)
    assert done, len(got)
    assert got == [expected_upgrade(i) for i in range(UPGRADE_COUNT)]
    ws.send_text('4after')
    text = ws.recv_text()
    while text == '2':
        ws.send_text('3')
        text = ws.recv_text()
    assert text == '4after'
    ws.close()


def expected_upgrade(i):
    return '4%d:%s' % (i, 'x' * UPGRADE_SIZE)
