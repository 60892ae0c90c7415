"""Floods and bombs on every server mode (tests/abuse/servers.py): request
bodies compressed to inflate a thousandfold, unknown sids at a high rate,
unsolicited pongs by the thousand (python-engineio's CVE-2026-48802 class:
a task per pong). Each gets its documented answer, the server's memory
stays within a bound, and a session opened before keeps working.
"""

import json
import time
import zlib

import pytest

from tests.io.builtin_helpers import OP_TEXT, RawConn, RawWs, request

from .servers import once

pytestmark = pytest.mark.timeout(180)

POLL = '/engine.io/?EIO=4&transport=polling'
MB = 1 << 20


def bomb(wbits, size=64 * MB):
    """``size`` bytes of one Engine.IO message, compressed (gzip for
    wbits 31, zlib/deflate for 15) to well under 1 % of that."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [c.compress(b'4')]
    chunk = b'x' * MB
    for _ in range(size // MB):
        out.append(c.compress(chunk))
    out.append(c.flush())
    return b''.join(out)



def open_polling(port):
    r = once(port, 'GET', POLL)
    assert r.status == 200, r
    return json.loads(r.body[1:])['sid']


def still_echoes(port, sid):
    """The session answers a message (POST, then GET)."""
    target = POLL + '&sid=' + sid
    r = once(port, 'POST', target, body=b'4still here')
    assert (r.status, r.body) == (200, b'ok'), r
    r = once(port, 'GET', target)
    assert r.status == 200 and b'4still here' in r.body.split(b'\x1e'), r


@pytest.mark.parametrize('encoding, wbits', [('gzip', 31), ('deflate', 15)])
def test_compressed_request_bodies_are_never_inflated(served, encoding,
                                                      wbits):
    # Engine.IO request bodies are not content-coded (neither server of
    # the reference inflates them): the bytes are the payload, which is
    # not UTF-8 here, so: 400, and the sender's session closed
    healthy = open_polling(served.port)
    body = bomb(wbits)
    assert len(body) < 128 * 1024
    before = served.rss()
    sid = open_polling(served.port)
    r = once(served.port, 'POST', POLL + '&sid=' + sid, body=body,
             headers=[('Content-Encoding', encoding),
                      ('Content-Type', 'text/plain')])
    assert r.status == 400 and json.loads(r.body) == {
        'code': 3, 'message': 'Bad request'}, r
    assert served.rss() - before < 32 * MB
    still_echoes(served.port, healthy)


def test_unknown_sids_at_a_high_rate(served):
    healthy = open_polling(served.port)
    before = served.rss()
    conn = RawConn(served.port)
    n, started = 1000, time.monotonic()
    for i in range(n):
        target = POLL + '&sid=nosuchsid%06d' % i
        if i % 2:
            conn.send(request('POST', target, body=b'4x'))
        else:
            conn.send(request('GET', target))
        try:
            r = conn.read_response()
        except (EOFError, ConnectionError):
            # closed after its last response, before this request was
            # read (a server without keep-alive): again, on a new one
            conn.close()
            conn = RawConn(served.port)
            conn.send(request('GET', target))
            r = conn.read_response()
        assert r.status == 400 and json.loads(r.body) == {
            'code': 1, 'message': 'Session ID unknown'}, (i, r)
        if r.headers.get('connection', '').lower() == 'close':
            conn.close()
            conn = RawConn(served.port)
    elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed
    assert served.rss() - before < 16 * MB
    still_echoes(served.port, healthy)


def test_unsolicited_pongs_by_the_thousand(served):
    healthy = open_polling(served.port)
    ws = RawWs(served.port)
    ws.open_packet()
    before = served.rss()
    # 5,000 pongs nobody asked for, in one write, then a message
    ws.send(b''.join(_text_frame('3') for _ in range(5000)))
    ws.send_text('4after the pongs')
    text = ws.recv_text()
    while text == '2':          # a heartbeat may come first
        text = ws.recv_text()
    assert text == '4after the pongs'
    assert served.rss() - before < 16 * MB
    still_echoes(served.port, healthy)
    ws.send_frame(8, b'\x03\xe8')


def _text_frame(text):
    from tests.protocol.ws_frames import frame
    return frame(OP_TEXT, text)
