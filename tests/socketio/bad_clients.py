"""Raw clients that misbehave at the Socket.IO or Engine.IO level, for
tests/socketio/test_bad_input.py (httpx for polling, the websockets
package's sync client for websocket: every byte chosen by the test)."""

import json
import socket
import time

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

WAIT = 5.0
PATH = '/socket.io/?EIO=4'

# Socket.IO packets python-socketio cannot use, each sent as one Engine.IO
# message after the client joined the default namespace: a bad type, bad or
# cut JSON, deep nesting, an event without a name, a binary event whose
# attachment never comes, a CONNECT to a namespace that does not exist, a
# string where an event list belongs, an ack for nothing...
SIO_GARBAGE = ['x', '2["echo"', '2' + '[' * 5000, '9', '0/nope,', '2[]',
               '2{"a":1}', '21-["echo",{"_placeholder":true,"num":0}]',
               '2"str"', '3', '01-', '2["echo",1]2["echo",2]',
               '2' + '9' * 200 + '["echo"]']
# and over websocket, an attachment nobody announced
WS_GARBAGE = SIO_GARBAGE + [b'\x00\x01']
# the ones socket.io-parser takes (the JavaScript server carries on): a
# CONNECT to a namespace that does not exist, refused with this answer, and
# an ack for nothing. Every other one closes the connection on engineio_fast
# (engineio_fast/sio_wire.py) as on the JavaScript server; python-socketio on
# python-engineio logs them all and carries on (answering '01-' with '44')
TAKEN = {'0/nope,': '44/nope,{"message":"Invalid namespace"}', '3': ''}
# python-socketio's own answers (on python-engineio)
PYTHON_SOCKETIO_ANSWERS = {'0/nope,': '44/nope,"Unable to connect"',
                           '01-': '44'}


def poll_open(url):
    """A polling session on the default namespace: ``(eio_sid, base)``."""
    r = httpx.get(url + PATH + '&transport=polling', timeout=WAIT)
    assert r.status_code == 200, r.text
    sid = json.loads(r.text[1:])['sid']
    base = url + PATH + '&transport=polling&sid=' + sid
    assert httpx.post(base, content='40', timeout=WAIT).status_code == 200
    assert poll_until(base, lambda text: text.startswith('40'))
    return sid, base


def poll_until(base, predicate, timeout=WAIT):
    """GET until an answer's packets satisfy ``predicate`` (a ping is
    answered); returns that answer's text, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(base, timeout=WAIT)
        if r.status_code != 200:
            return None
        for packet in r.text.split('\x1e'):
            if packet == '2':
                httpx.post(base, content='3', timeout=WAIT)
            elif predicate(packet):
                return r.text
    return None


def ws_open(url):
    """A websocket session on the default namespace: ``(eio_sid, ws)``."""
    ws = ws_connect(url.replace('http', 'ws', 1) + PATH +
                    '&transport=websocket', open_timeout=WAIT).__enter__()
    sid = json.loads(ws.recv(timeout=WAIT)[1:])['sid']
    ws.send('40')
    assert ws_until(ws, lambda m: m.startswith('40'))
    return sid, ws


def ws_until(ws, predicate, timeout=WAIT):
    """Receive until a message satisfies ``predicate`` (pings answered);
    returns the messages received, or None."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            m = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        seen.append(m)
        if m == '2':
            ws.send('3')
        elif isinstance(m, str) and predicate(m):
            return seen
    return None


def garbage_over_polling(url, garbage):
    """Send ``garbage``, then a valid call: the answers the client got
    after it (None: no ack came), and the session's eio sid."""
    sid, base = poll_open(url)
    r = httpx.post(base, content='4' + garbage, timeout=WAIT)
    status = r.status_code
    httpx.post(base, content='421["echo","ok"]', timeout=WAIT)
    text = poll_until(base, lambda p: p.startswith('431'))
    httpx.post(base, content='1', timeout=WAIT)
    return sid, status, text


def garbage_over_websocket(url, garbage):
    """As :func:`garbage_over_polling`: the messages up to the answer
    (None: none came, or the server closed the websocket)."""
    sid, ws = ws_open(url)
    with ws:
        try:
            ws.send(garbage if isinstance(garbage, bytes) else '4' + garbage)
            ws.send('421["echo","ok"]')
            seen = ws_until(ws, lambda m: m.startswith('431'))
        except ConnectionClosed:
            seen = None
    return sid, seen


# -- Engine.IO-level errors: each takes (url, server), returns (eio_sid,
# -- cleanup)

def _nothing():
    pass


def ws_dropped(url, srv):
    """The TCP connection of a websocket goes without a close frame."""
    sid, ws = ws_open(url)
    ws.socket.close()
    return sid, _nothing


def ws_closed(url, srv):
    sid, ws = ws_open(url)
    ws.close()
    return sid, _nothing


def ws_close_packet(url, srv):
    sid, ws = ws_open(url)
    ws.send('1')
    return sid, ws.close


def poll_close_packet(url, srv):
    sid, base = poll_open(url)
    httpx.post(base, content='1', timeout=WAIT)
    return sid, _nothing


def poll_silent(url, srv):
    """A polling client that stops polling (no GET, no pong)."""
    sid, _ = poll_open(url)
    return sid, _nothing


def ws_silent(url, srv):
    """A websocket client that answers no ping (kept open meanwhile)."""
    sid, ws = ws_open(url)
    return sid, ws.close


def kicked(url, srv):
    """The server disconnects it (the app's ``kick`` event)."""
    sid, base = poll_open(url)
    httpx.post(base, content='42["kick"]', timeout=WAIT)
    poll_until(base, lambda p: p.startswith('41'))
    return sid, _nothing


def poll_bad_packet(url, srv):
    """An Engine.IO packet of an unknown type in a POST."""
    sid, base = poll_open(url)
    httpx.post(base, content='9', timeout=WAIT)
    return sid, _nothing


def ws_bad_packet(url, srv):
    sid, ws = ws_open(url)
    ws.send('9')
    return sid, ws.close


def poll_too_large(url, srv):
    """A POST over max_http_buffer_size (1,000,000 bytes)."""
    sid, base = poll_open(url)
    try:
        httpx.post(base, content='4' + 'x' * 1100000, timeout=2.0)
    except httpx.HTTPError:
        pass    # python-engineio does not answer it
    return sid, _nothing


def ws_too_large(url, srv):
    sid, ws = ws_open(url)
    try:
        ws.send('4' + 'x' * 1100000)
    except Exception:
        pass
    return sid, ws.close


def poll_left_while_parked(url, srv):
    """The client's connection goes while its GET is parked (the app's
    record says when it is, on engineio_fast; python-engineio, which finds
    such a client at its ping timeout only, gets a moment)."""
    sid, base = poll_open(url)
    host, port = url.split('//')[1].split(':')
    conn = socket.create_connection((host, int(port)), timeout=WAIT)
    path = base.split(url, 1)[1]
    conn.sendall(('GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % path).encode())
    if srv.record().get('parked') is None:
        time.sleep(0.3)
    else:
        deadline = time.monotonic() + WAIT
        while sid not in srv.record()['parked']:
            assert time.monotonic() < deadline, 'the GET was never parked'
            time.sleep(0.02)
    conn.close()
    return sid, _nothing


ENGINE_ERRORS = {
    'ws-dropped': ws_dropped,
    'ws-closed': ws_closed,
    'ws-close-packet': ws_close_packet,
    'poll-close-packet': poll_close_packet,
    'poll-silent': poll_silent,
    'ws-silent': ws_silent,
    'kicked': kicked,
    'poll-bad-packet': poll_bad_packet,
    'ws-bad-packet': ws_bad_packet,
    'poll-too-large': poll_too_large,
    'ws-too-large': ws_too_large,
    'poll-left-while-parked': poll_left_while_parked,
}
