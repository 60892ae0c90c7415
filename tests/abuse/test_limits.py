"""``max_connections`` on every server mode: the handshake past it, on
either transport, is a 503 with ``{"code":4,"message":"Too many
connections"}`` (a websocket gets it instead of its 101), the sessions
open keep working, and a session that ends makes room."""

import json

import pytest

from tests.io.builtin_helpers import RawWs

from .servers import once

pytestmark = pytest.mark.timeout(120)

POLL = '/engine.io/?EIO=4&transport=polling'
WS = '/engine.io/?EIO=4&transport=websocket'
FULL = {'code': 4, 'message': 'Too many connections'}
UPGRADE = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
           ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
           ('Sec-WebSocket-Version', '13')]



def test_max_connections(serve):
    server = serve(max_connections=3)
    polls = []
    for _ in range(2):
        r = once(server.port, 'GET', POLL)
        assert r.status == 200, r
        polls.append(json.loads(r.body[1:])['sid'])
    ws = RawWs(server.port)
    ws.open_packet()
    for args in (('GET', POLL), ('GET', WS, UPGRADE)):
        r = once(server.port, *args)
        assert r.status == 503, (args, r)
        assert json.loads(r.body) == FULL, r
    # those open still work
    ws.send_text('4still')
    text = ws.recv_text()
    while text == '2':
        text = ws.recv_text()
    assert text == '4still'
    r = once(server.port, 'POST', POLL + '&sid=' + polls[0], body=b'4x')
    assert (r.status, r.body) == (200, b'ok'), r
    # one ends (the client's close): a handshake gets its place
    r = once(server.port, 'POST', POLL + '&sid=' + polls[1], body=b'1')
    assert r.status == 200, r
    r = once(server.port, 'GET', POLL)
    assert r.status == 200 and r.body.startswith(b'0{'), r


def test_handshake_rate_limit(serve):
    # every request here comes from 127.0.0.1: three sessions, then 429s
    # on both transports; the sessions made keep working
    server = serve(handshake_rate_limit=[3, 600])
    sids = []
    for _ in range(3):
        r = once(server.port, 'GET', POLL)
        assert r.status == 200, r
        sids.append(json.loads(r.body[1:])['sid'])
    for args in (('GET', POLL), ('GET', WS, UPGRADE), ('GET', POLL)):
        r = once(server.port, *args)
        assert r.status == 429, (args, r)
        assert json.loads(r.body) == {'code': 4,
                                      'message': 'Too many handshakes'}, r
    for sid in sids:
        r = once(server.port, 'POST', POLL + '&sid=' + sid, body=b'4x')
        assert (r.status, r.body) == (200, b'ok'), r
