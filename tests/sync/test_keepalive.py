"""Clients that reuse HTTP connections, on every real WSGI server kind.

Node's HTTP agent (keep-alive by default since Node 19) reuses a connection
unless the response says ``Connection: close``, even when its own request
said ``Connection: close`` (node-fetch 3, the official protocol suite's
client, sends that header). A server that closes such a connection without
saying so makes the next request fail with "socket hang up": gevent.pywsgi
did, on most polling requests of the official suite. And a server that
writes a response in two pieces with Nagle's algorithm on makes every
request of a keep-alive connection after the first wait for the client's
delayed ACK (~40 ms): gevent.pywsgi did that too.

- a node driver (js/keepalive.mjs) runs the official suite's polling
  request patterns with node:http (keep-alive agent, with and without the
  ``Connection: close`` request header) and with Node's fetch (undici);
- raw sockets check what those clients rely on: a response either says
  ``Connection: close`` (and the connection then ends) or the connection
  answers the next request; and keep-alive requests are not held back.
"""

import json
import os
import socket
import time

import pytest

from ..interop.conftest import run_node
from .servers import KINDS, ServerProcess

pytestmark = pytest.mark.timeout(120)

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js',
                      'keepalive.mjs')
ROUNDS = 2
CLIENTS = ('close-header', 'keep-alive', 'fetch')
BASE = '/engine.io/?EIO=4&transport=polling'
TIMEOUT = 5.0
# Werkzeug's development server answers every request with
# 'Connection: close': its connections are never reused (announced, so no
# client fails), the other kinds keep them alive
NO_KEEPALIVE = {'werkzeug'}


@pytest.fixture(scope='module', params=KINDS)
def srv(request):
    # a short heartbeat for the driver's heartbeat step; a generous ping
    # timeout so that no session of these tests ends under load
    with ServerProcess(request.param, env={'EIO_PING_INTERVAL': '0.5',
                                           'EIO_PING_TIMEOUT': '2'}) as srv:
        yield srv


# ------------------------------------------------------------ raw HTTP/1.1

def _request(method, target, body=b'', headers=()):
    lines = ['%s %s HTTP/1.1' % (method, target), 'Host: 127.0.0.1']
    lines += ['%s: %s' % h for h in headers]
    if body or method in ('POST', 'PUT'):
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body


class Conn:
    """One client connection; :meth:`exchange` sends a request and reads
    its whole response (Content-Length or chunked), bounded in time."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port),
                                             timeout=TIMEOUT)
        self.buf = b''

    def close(self):
        self.sock.close()

    def _more(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError('connection closed by the server')
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self):
        for _ in range(1000):
            if b'\r\n' in self.buf:
                line, self.buf = self.buf.split(b'\r\n', 1)
                return line
            self._more()
        raise AssertionError('no line end in %r' % self.buf[:200])

    def send(self, method, target, body=b'', headers=()):
        self.sock.sendall(_request(method, target, body, headers))

    def exchange(self, method, target, body=b'', headers=()):
        """(status, {lower-case name: value}, body)."""
        self.send(method, target, body, headers)
        return self.response()

    def response(self):
        """(status, {lower-case name: value}, body) of the next response."""
        status = int(self._line().split()[1])
        fields = {}
        for _ in range(200):
            line = self._line()
            if not line:
                break
            name, _, value = line.decode('latin-1').partition(':')
            name = name.strip().lower()
            value = value.strip()
            fields[name] = fields[name] + ', ' + value if name in fields \
                else value
        if 'content-length' in fields:
            data = self._take(int(fields['content-length']))
        elif 'chunked' in fields.get('transfer-encoding', ''):
            data = b''
            for _ in range(10000):
                size = int(self._line().split(b';')[0], 16)
                data += self._take(size + 2)[:size]
                if not size:
                    break
        else:
            raise AssertionError('response without a length: %r' % fields)
        return status, fields, data

    def ended(self):
        """True when the server closes the connection (within TIMEOUT)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except ConnectionResetError:
                return True
            except socket.timeout:
                return False
        return False


def _says_close(fields):
    tokens = fields.get('connection', '').lower().split(',')
    return 'close' in [t.strip() for t in tokens]


def _handshake(port):
    conn = Conn(port)
    try:
        status, _, body = conn.exchange('GET', BASE)
    finally:
        conn.close()
    assert status == 200 and body.startswith(b'0'), (status, body)
    return json.loads(body[1:])['sid']


def _post(port, sid, body):
    conn = Conn(port)
    try:
        status, _, data = conn.exchange('POST', BASE + '&sid=' + sid, body)
    finally:
        conn.close()
    assert (status, data) == (200, b'ok')


def _after(conn, srv, status, fields, what):
    """What a client that reuses connections relies on: the response says
    'Connection: close' and the connection then ends, or it answers the
    next request."""
    if _says_close(fields):
        assert conn.ended(), \
            '%s: said Connection: close but kept the connection' % what
        return
    try:
        again, _, body = conn.exchange('GET', BASE)
    except (ConnectionError, socket.timeout) as exc:
        pytest.fail('%s: the %d response did not say Connection: close, '
                    'but the next request on the connection got %r (%s '
                    'server output: %s)' % (what, status, exc, srv.kind,
                                            srv.output()[-2000:]))
    assert again == 200 and body.startswith(b'0'), (what, again, body)


# ------------------------------------------------------------------ tests

@pytest.mark.interop     # Node's HTTP clients
def test_node_clients_reusing_connections(srv):
    """The official suite's polling request patterns from Node's HTTP
    clients: no request without a response, every answer as expected."""
    out = run_node(DRIVER, {'url': srv.url, 'rounds': ROUNDS,
                            'timeoutMs': 60000}, 90)
    assert out['failures'] == []
    assert out['mismatches'] == []
    assert out['completed'] == {name: ROUNDS for name in CLIENTS}
    # about 23 requests a round (more when a ping comes in between)
    assert all(out['requests'][name] >= 20 * ROUNDS for name in CLIENTS)
    if srv.kind not in NO_KEEPALIVE:
        # the requests really went over reused connections
        assert out['reused']['keep-alive'] >= 10 * ROUNDS, out['reused']


def _close_cases(srv):
    """(name, request kwargs) with 'Connection: close', each needing its own
    session state."""
    port = srv.port
    close = (('Connection', 'close'),)
    sid = _handshake(port)
    yield 'handshake', dict(method='GET', target=BASE, headers=close)
    yield 'POST', dict(method='POST', target=BASE + '&sid=' + sid,
                       body=b'4hi', headers=close)
    yield 'poll with data', dict(method='GET', target=BASE + '&sid=' + sid,
                                 headers=close)
    yield 'bad request', dict(method='POST', target=BASE, headers=close)
    yield 'CORS preflight', dict(
        method='OPTIONS', target=BASE + '&sid=' + sid,
        headers=close + (('Origin', 'http://example.com'),
                         ('Access-Control-Request-Method', 'POST')))
    yield 'close packet', dict(method='POST', target=BASE + '&sid=' + sid,
                               body=b'1', headers=close)
    # not Engine.IO: the app behind WSGIApp gets the same handling
    yield 'the app behind WSGIApp', dict(method='GET', target='/_health',
                                         headers=close)


def test_close_requested_is_announced_or_connection_usable(srv):
    """Requests with 'Connection: close', as node-fetch sends them: the
    response says 'Connection: close' or the connection stays usable."""
    for name, kwargs in _close_cases(srv):
        conn = Conn(srv.port)
        try:
            status, fields, body = conn.exchange(**kwargs)
            assert status < 500, (name, status, body)
            _after(conn, srv, status, fields, name)
        finally:
            conn.close()


def test_close_requested_on_parked_poll(srv):
    """A GET parked until a POST on another connection wakes it, with
    'Connection: close': announced or usable, as above."""
    sid = _handshake(srv.port)
    conn = Conn(srv.port)
    try:
        conn.send('GET', BASE + '&sid=' + sid,
                  headers=(('Connection', 'close'),))
        time.sleep(0.1)    # parked by now (if not, it finds the data)
        _post(srv.port, sid, b'4parked')
        status, fields, body = conn.response()
        assert status == 200, body
        _after(conn, srv, status, fields, 'parked poll')
    finally:
        conn.close()


def test_keepalive_connection_serves_every_request(srv):
    """curl-style keep-alive (no Connection header): one connection carries
    the whole polling conversation while the server keeps it."""
    conn = Conn(srv.port)
    reused = 0
    try:
        status, fields, body = conn.exchange('GET', BASE)
        assert status == 200 and body.startswith(b'0'), (status, body)
        sid = json.loads(body[1:])['sid']
        steps = [
            ('POST', BASE + '&sid=' + sid, b'4one', 200, b'ok'),
            ('GET', BASE + '&sid=' + sid, b'', 200, b'4one'),
            ('POST', BASE, b'', 400, None),
            ('GET', '/engine.io/?EIO=4&transport=abc', b'', 400, None),
            ('POST', BASE + '&sid=' + sid, b'4two', 200, b'ok'),
            ('GET', BASE + '&sid=' + sid, b'', 200, b'4two'),
        ]
        for method, target, data, want_status, want_body in steps:
            if _says_close(fields):
                assert conn.ended()
                conn.close()
                conn = Conn(srv.port)
            else:
                reused += 1
            status, fields, body = conn.exchange(method, target, data)
            assert status == want_status, (method, target, status, body)
            if want_body is not None:
                assert body == want_body, (method, target, body)
    finally:
        conn.close()
    if srv.kind not in NO_KEEPALIVE:
        assert reused == 6


def test_keepalive_requests_are_not_held_back(srv):
    """Requests after the first on a keep-alive connection are answered
    without waiting for the client's delayed ACK: a response written as
    headers then body with Nagle's algorithm on waits ~40 ms for it (every
    request did on gevent.pywsgi)."""
    conn = Conn(srv.port)
    if srv.kind in NO_KEEPALIVE:
        # nothing to hold back: every connection carries one request
        try:
            status, fields, _ = conn.exchange('GET', BASE)
        finally:
            conn.close()
        assert status == 200 and _says_close(fields)
        return
    times = []
    try:
        for _ in range(12):
            started = time.monotonic()
            status, fields, body = conn.exchange('GET', BASE)
            times.append(time.monotonic() - started)
            assert status == 200 and not _says_close(fields), fields
    finally:
        conn.close()
    # the delayed ACK costs at least 40 ms (Linux) on every request it
    # holds back; a loaded machine may slow some requests, not most of them
    fast = sorted(times[2:])[2]
    assert fast < 0.02, ['%.1f ms' % (t * 1000) for t in times]
