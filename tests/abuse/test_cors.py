"""CORS bypass attempts on every server mode: the polling handshake and the
websocket handshake, each sent byte for byte with a hostile Origin.

The decision is the engine's (protocol/http.py, one place); these tests
prove that each mode hands it the Origin the client sent, unmerged and
unnormalised, and that a refusal is the documented 400 with
``{"code":3,"message":"Not an accepted origin"}``, echoes no
Access-Control-Allow-Origin, opens no session and leaves a session opened
before it working.
"""

import json
import socket

import pytest

pytestmark = pytest.mark.timeout(180)

ALLOWED = 'https://example.com'

HOSTILE = [
    'https://example.com.evil.net',        # suffix trick
    'https://evil.net/https://example.com',
    'https://evilexample.com',
    'https://sub.example.com',
    'http://example.com',                  # scheme downgrade
    'https://example.com:8443',
    'https://example.com.',
    'HTTPS://EXAMPLE.COM',                 # case tricks
    'https://Example.com',
    'null',                                # sandboxed iframes, file://
    'https://example.com%2F@evil.net',
    'https://example.com@evil.net',
    '*',
    '',
]

POLL = '/engine.io/?EIO=4&transport=polling'
WS = '/engine.io/?EIO=4&transport=websocket'


def exchange(port, target, headers, body=None):
    """Send a GET (a POST with ``body``) as written; (status, headers dict
    of lists, body)."""
    method = 'GET' if body is None else 'POST'
    lines = [f'{method} {target} HTTP/1.1', 'Host: 127.0.0.1']
    lines += [f'{name}: {value}' for name, value in headers]
    if body is not None:
        lines.append(f'Content-Length: {len(body)}')
    if not any(name == 'Connection' for name, _ in headers):
        lines.append('Connection: close')
    lines += ['', body or '']
    with socket.create_connection(('127.0.0.1', port), 10) as s:
        s.sendall('\r\n'.join(lines).encode('latin-1'))
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        status = int(head.split()[1])
        found = {}
        for line in head.split(b'\r\n')[1:]:
            name, _, value = line.decode('latin-1').partition(':')
            found.setdefault(name.strip().lower(), []).append(value.strip())
        length = int(found.get('content-length', ['-1'])[0])
        if status != 101:
            while length < 0 or len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
    return status, found, body


def ws_headers(origin):
    return [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13'), ('Origin', origin)]


@pytest.fixture
def server(serve):
    """Each server mode (tests/abuse/conftest.py) allowing ``ALLOWED``."""
    return serve(cors_allowed_origins=[ALLOWED])


def open_session(port):
    status, headers, body = exchange(port, POLL, [('Origin', ALLOWED)])
    assert status == 200, (status, body)
    assert headers['access-control-allow-origin'] == [ALLOWED]
    return json.loads(body[1:])['sid']


def refused(status, headers, body, origin, what):
    assert status == 400, (what, origin, status, body[:100])
    assert json.loads(body) == {'code': 3,
                                'message': 'Not an accepted origin'}, \
        (what, origin, body[:100])
    echoed = headers.get('access-control-allow-origin', [])
    assert origin not in echoed and ALLOWED not in echoed, (what, echoed)


def test_hostile_origins_are_refused(server):
    sid = open_session(server.port)
    for origin in HOSTILE:
        refused(*exchange(server.port, POLL, [('Origin', origin)]),
                origin, 'polling')
        refused(*exchange(server.port, WS, ws_headers(origin)), origin,
                'websocket')
        # a refused origin may not use a session either
        refused(*exchange(server.port, POLL + '&sid=' + sid,
                          [('Origin', origin)]), origin, 'session GET')
        refused(*exchange(server.port, POLL + '&sid=' + sid,
                          [('Origin', origin)], '4hello'), origin,
                'session POST')
    # two Origin headers, the allowed one first: never taken as allowed
    refused(*exchange(server.port, POLL, [('Origin', ALLOWED),
                                          ('Origin', 'https://evil.net')]),
            'https://evil.net', 'two origins')
    # the session opened before is untouched: a POST of its own, then a
    # GET that finds the answer... of nothing: a noop POST is taken (ok)
    status, headers, body = exchange(
        server.port, POLL + '&sid=' + sid, [('Origin', ALLOWED)], '6')
    assert (status, body) == (200, b'ok'), body


def test_allowed_origin_and_no_origin_work(server):
    status, headers, body = exchange(server.port, WS, ws_headers(ALLOWED))
    assert status == 101, body
    status, headers, body = exchange(server.port, POLL, [])
    assert status == 200 and body.startswith(b'0{')
    assert 'access-control-allow-origin' not in headers
