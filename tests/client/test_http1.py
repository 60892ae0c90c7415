"""engineio_fast.adapters.clients.http1: Http1Session and AsyncHttp1Session (on asyncio's
default loop and on uvloop) over real sockets on 127.0.0.1, against a small
threaded raw-socket server that answers with scripted bytes, plus Werkzeug
and uvicorn as real servers."""

import asyncio
import collections
import gzip
import socket
import ssl
import threading
import time
import tracemalloc
import zlib

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from engineio_fast.adapters.clients import http1

from ..ports import free_port
from ..support import LiveServer, make_cert

pytestmark = pytest.mark.timeout(30)
WAIT = 5.0      # bound on any wait for the other side
SLACK = 1.0     # what a loaded machine may add to a deadline

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

KINDS = ['sync', 'asyncio', pytest.param('uvloop', marks=pytest.mark.skipif(
    uvloop is None, reason='uvloop is not installed'))]


# ---------------------------------------------------------------------------
# a scripted raw-socket server

class Peer:
    """The server's side of one accepted connection."""

    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index      # 0 for the first connection accepted
        self.buf = b''
        self.requests = 0       # requests read on this connection
        sock.settimeout(WAIT)

    def read_request(self):
        """The next request (head and body), or None at EOF or error."""
        try:
            while b'\r\n\r\n' not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.buf += data
            head, _, rest = self.buf.partition(b'\r\n\r\n')
            length = 0
            for line in head.split(b'\r\n')[1:]:
                name, _, value = line.partition(b':')
                if name.strip().lower() == b'content-length':
                    length = int(value)
            while len(rest) < length:
                data = self.sock.recv(65536)
                if not data:
                    return None
                rest += data
        except OSError:
            return None
        self.buf = rest[length:]
        request = head + b'\r\n\r\n' + rest[:length]
        self.requests += 1
        self.server.seen(request)
        return request

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def reset(self):
        """Close with a TCP RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b'\x01\x00\x00\x00\x00\x00\x00\x00')
        self.sock.close()

    def wait_closed(self):
        """True once the client closed this connection (EOF or reset)."""
        try:
            return self.sock.recv(1) == b''
        except OSError:
            return True


class BuiltinServer:
    """Accepts connections on 127.0.0.1 (or ::1); ``script(peer)`` runs
    in a thread per connection. Counts connections and requests."""

    def __init__(self, script, host='127.0.0.1', tls=None):
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.listener.settimeout(0.05)
        port = self.listener.getsockname()[1]
        self.url = '%s://%s:%d' % ('https' if tls else 'http',
                                   '[%s]' % host if ':' in host else host,
                                   port)
        self.script = script
        self.tls = tls
        self.peers = []
        self.requests = []
        self.lock = threading.Lock()
        self.stopped = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    @property
    def accepted(self):
        return len(self.peers)

    def seen(self, request):
        with self.lock:
            self.requests.append(request)

    def _accept(self):
        while not self.stopped:
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            peer = Peer(self, sock, len(self.peers))
            self.peers.append(peer)
            thread = threading.Thread(target=self._serve, args=(peer,),
                                      daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, peer):
        try:
            if self.tls is not None:
                peer.sock = self.tls.wrap_socket(peer.sock, server_side=True)
            self.script(peer)
        except OSError:
            pass

    def stop(self):
        self.stopped = True
        self.listener.close()
        for peer in list(self.peers):
            peer.close()
        for thread in self.threads:
            thread.join(WAIT)


def response(body=b'ok', *headers, status='200 OK'):
    head = ''.join('%s\r\n' % h for h in headers)
    return ('HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n' % (
        status, len(body), head)).encode() + body


OK = response()


def scripted(*answers):
    """A script answering the requests, in arrival order whatever the
    connection, with ``answers``: bytes are sent, a callable is called with
    the peer. Once they are used up, connections are closed."""
    queue = collections.deque(answers)
    lock = threading.Lock()

    def script(peer):
        while peer.read_request() is not None:
            with lock:
                answer = queue.popleft() if queue else peer.close
            if callable(answer):
                answer(peer)
            else:
                peer.send(answer)
        peer.close()
    return script


def send_and_close(data):
    def answer(peer):
        peer.send(data)
        peer.close()
    return answer


# ---------------------------------------------------------------------------
# the sessions, driven through one blocking API

class Client:
    """A session of one kind; async ones run on their own loop, driven
    from the test thread."""

    def __init__(self, kind, **options):
        self.kind = kind
        if kind == 'sync':
            self.loop = None
            self.session = http1.Http1Session(**options)
        else:
            self.loop = (uvloop.new_event_loop() if kind == 'uvloop'
                         else asyncio.new_event_loop())
            self.session = http1.AsyncHttp1Session(**options)

    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, WAIT))

    def request(self, *args, **kwargs):
        if self.loop is None:
            return self.session.request(*args, **kwargs)
        return self.run(self.session.request(*args, **kwargs))

    def get(self, url, **kwargs):
        return self.request('GET', url, **kwargs)

    def concurrently(self, *urls):
        """GET every URL at once; the results (or exceptions), in order."""
        if self.loop is not None:
            async def gather():
                return await asyncio.gather(
                    *(self.session.request('GET', url) for url in urls),
                    return_exceptions=True)
            return self.run(gather())
        results = [None] * len(urls)

        def run(i):
            try:
                results[i] = self.session.request('GET', urls[i])
            except Exception as exc:
                results[i] = exc
        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(len(urls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        return results

    def idle(self):
        return sum(len(conns) for conns in self.session._idle.values())

    def close(self):
        if self.loop is None:
            self.session.close()
        else:
            self.run(self.session.close())

    def finish(self):
        self.close()
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def client(kind):
    made = []

    def make(**options):
        made.append(Client(kind, **options))
        return made[-1]
    yield make
    for c in made:
        c.finish()


@pytest.fixture
def server():
    made = []

    def make(*answers, script=None, **options):
        made.append(BuiltinServer(script or scripted(*answers), **options))
        return made[-1]
    yield make
    for s in made:
        s.stop()


# ---------------------------------------------------------------------------
# bodies

def test_content_length_and_keep_alive_reuse(client, server):
    s = server(response(b'one'), response(b'two'), response(b'three'))
    c = client()
    assert c.get(s.url + '/a') == (200, b'one')
    assert c.get(s.url + '/b') == (200, b'two')
    assert c.request('POST', s.url + '/c', body=b'xyz') == (200, b'three')
    assert s.accepted == 1
    assert c.idle() == 1
    assert s.requests[2].endswith(b'\r\n\r\nxyz')
    assert b'\r\nContent-Length: 3\r\n' in s.requests[2]


def test_chunked_with_trailers(client, server):
    def chunks(peer):
        for piece in (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n',
                      b'\r\n3\r\nabc\r\n', b'4\r\nde', b'fg\r\n1\r\nh\r\n',
                      b'0\r\nX-Trailer: 1\r\n\r\n'):
            peer.send(piece)
            time.sleep(0.01)
    s = server(chunks, OK)
    c = client()
    assert c.get(s.url) == (200, b'abcdefgh')
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 1


def test_close_delimited_body(client, server):
    s = server(send_and_close(b'HTTP/1.1 200 OK\r\n\r\nuntil the end'), OK)
    c = client()
    assert c.get(s.url) == (200, b'until the end')
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 2


@pytest.mark.parametrize('answer', [
    response(b'bye', 'Connection: close'),
    b'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nbye',
], ids=['connection-close', 'http10'])
def test_no_reuse_when_the_server_closes(client, server, answer):
    s = server(answer, answer)
    c = client()
    assert c.get(s.url) == (200, b'bye')
    assert c.get(s.url) == (200, b'bye')
    assert s.accepted == 2
    assert c.idle() == 0


def test_http10_keep_alive_is_reused(client, server):
    answer = (b'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n'
              b'Content-Length: 2\r\n\r\nka')
    s = server(answer, answer)
    c = client()
    assert c.get(s.url) == c.get(s.url) == (200, b'ka')
    assert s.accepted == 1


def test_no_body_for_head_204_304(client, server):
    s = server(response(b'', 'X: 1').replace(b'Length: 0', b'Length: 5'),
               b'HTTP/1.1 204 No Content\r\n\r\n',
               b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n', OK)
    c = client()
    assert c.request('HEAD', s.url) == (200, b'')
    assert c.get(s.url) == (204, b'')
    assert c.get(s.url) == (304, b'')
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 1


def test_interim_100_continue_is_skipped(client, server):
    s = server(b'HTTP/1.1 100 Continue\r\n\r\n' + response(b'final'), OK)
    c = client()
    assert c.request('POST', s.url, body=b'x') == (200, b'final')
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 1


@pytest.mark.parametrize('encoding', ['gzip', 'deflate', 'raw-deflate'])
def test_compressed_bodies(client, server, encoding):
    text = b'engine.io ' * 1000
    if encoding == 'gzip':
        data = gzip.compress(text)
    else:
        wbits = -15 if encoding == 'raw-deflate' else 15
        z = zlib.compressobj(wbits=wbits)
        data = z.compress(text) + z.flush()
    name = 'gzip' if encoding == 'gzip' else 'deflate'
    s = server(response(data, 'Content-Encoding: ' + name), OK)
    c = client()
    assert c.get(s.url) == (200, text)
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 1
    assert b'\r\nAccept-Encoding: gzip, deflate\r\n' in s.requests[0]


@pytest.fixture(scope='module')
def gzip_bomb():
    z = zlib.compressobj(wbits=31)
    zeros = bytes(1 << 20)
    return b''.join([z.compress(zeros) for _ in range(50)] + [z.flush()])


def test_gzip_bomb_is_too_large(client, server, gzip_bomb):
    s = server(response(gzip_bomb, 'Content-Encoding: gzip'))
    c = client()
    start = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(http1.ResponseTooLarge):
            c.get(s.url, max_body=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 0.5 + SLACK
    assert peak < 8 << 20     # 50 MB inflated: never more than ~max_body
    assert c.idle() == 0


def test_decoded_body_exactly_max_body_is_fine(client, server):
    data = gzip.compress(b'x' * 1000)
    s = server(response(data, 'Content-Encoding: gzip'),
               response(data, 'Content-Encoding: gzip'))
    c = client()
    assert c.get(s.url, max_body=1000) == (200, b'x' * 1000)
    with pytest.raises(http1.ResponseTooLarge):
        c.get(s.url, max_body=999)


def test_bad_gzip_is_a_protocol_error(client, server):
    s = server(response(b'not gzip at all', 'Content-Encoding: gzip'))
    with pytest.raises(http1.ProtocolError):
        client().get(s.url)


@pytest.mark.parametrize('framing', ['content-length', 'chunked', 'close'])
def test_body_larger_than_max_body(client, server, framing):
    body = b'x' * 5000
    if framing == 'content-length':
        answer = response(body)
    elif framing == 'chunked':
        answer = (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
                  + (b'3e8\r\n' + body[:1000] + b'\r\n') * 5
                  + b'0\r\n\r\n')
    else:
        answer = send_and_close(b'HTTP/1.1 200 OK\r\n\r\n' + body)
    s = server(answer)
    with pytest.raises(http1.ResponseTooLarge):
        client().get(s.url, max_body=4999)


# ---------------------------------------------------------------------------
# malformed responses and timeouts

@pytest.mark.parametrize('answer', [
    b'HTTX/1.1 200 OK\r\n\r\n',
    b'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    b'garbage\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
], ids=['protocol', 'status', 'garbage', 'length'])
def test_malformed_response(client, server, answer):
    s = server(answer)
    with pytest.raises(http1.ProtocolError):
        client().get(s.url)


def test_header_section_too_large(client, server):
    many = response(b'', *['X-%d: %s' % (i, 'v' * 1000) for i in range(70)])
    endless = b'HTTP/1.1 200 OK\r\nX-Long: ' + b'v' * 100000
    s = server(many, endless)
    c = client()
    with pytest.raises(http1.ProtocolError, match='too large'):
        c.get(s.url)
    with pytest.raises(http1.ProtocolError, match='too large'):
        c.get(s.url, read_timeout=WAIT)


def test_peer_closed_mid_response(client, server):
    s = server(send_and_close(b'HTTP/1.1 200 OK\r\nContent-Len'))
    with pytest.raises(http1.ProtocolError):
        client().get(s.url)


def test_read_timeout_is_an_overall_deadline(client, server):
    def trickle(peer):      # a byte every 50 ms: no single recv waits long
        for byte in b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n':
            peer.send(bytes([byte]))
            time.sleep(0.05)
    s = server(trickle, OK)
    c = client()
    start = time.monotonic()
    with pytest.raises(http1.ReadTimeout):
        c.get(s.url, read_timeout=0.5)
    assert 0.45 < time.monotonic() - start < 0.5 + SLACK
    assert c.idle() == 0
    assert s.peers[0].wait_closed()
    assert c.get(s.url) == (200, b'ok')


def test_silent_server_read_timeout(client, server):
    s = server(lambda peer: peer.wait_closed())
    start = time.monotonic()
    with pytest.raises(http1.ReadTimeout):
        client().get(s.url, read_timeout=0.2)
    assert time.monotonic() - start < 0.2 + SLACK


def test_connect_to_a_closed_port(client):
    port = free_port()     # nothing listens there (tests/ports.py)
    with pytest.raises(http1.ConnectError):
        client().get('http://127.0.0.1:%d/' % port, connect_timeout=1)


# ---------------------------------------------------------------------------
# stale keep-alive connections and the retry

def test_server_closed_idle_connection(client, server):
    s = server(send_and_close(response(b'first')), response(b'second'))
    c = client()
    assert c.get(s.url) == (200, b'first')
    assert c.idle() == 1      # the response did not say it would close
    assert s.peers[0].wait_closed()
    time.sleep(0.05)            # let the FIN arrive
    assert c.get(s.url) == (200, b'second')
    assert s.accepted == 2


@pytest.fixture(params=['reset', 'close'])
def drop(request):
    """How the server drops a connection after reading a request: a TCP
    reset, or a plain close (FIN): the client sees ECONNRESET or EOF."""
    return (lambda peer: peer.reset()) if request.param == 'reset' else (
        lambda peer: peer.close())


def test_post_dropped_on_reused_connection_is_retried(client, server, drop):
    def script(peer):
        while peer.read_request() is not None:
            if peer.requests > 1:
                return drop(peer)
            peer.send(response(b'%d' % peer.index))
    s = server(script=script)
    c = client()
    assert c.request('POST', s.url, body=b'1') == (200, b'0')
    assert c.request('POST', s.url, body=b'2') == (200, b'1')
    assert len(s.requests) == 3     # the dropped one, then the retry
    assert s.requests[1] == s.requests[2]
    assert s.accepted == 2


def test_retry_happens_once_and_never_on_a_fresh_connection(
        client, server, drop):
    def script(peer):
        if peer.index == 0:
            peer.read_request()
            peer.send(OK)
        if peer.read_request() is not None:
            drop(peer)
    s = server(script=script)
    c = client()
    assert c.get(s.url) == (200, b'ok')
    with pytest.raises(http1.ProtocolError) as info:
        c.request('POST', s.url, body=b'x')     # reused, then fresh
    assert not isinstance(info.value, http1._Stale)
    assert len(s.requests) == 3
    assert s.accepted == 2
    with pytest.raises(http1.ProtocolError):
        c.request('POST', s.url, body=b'x')     # fresh: no retry
    assert len(s.requests) == 4
    assert s.accepted == 3


def test_junk_after_the_response_prevents_reuse(client, server):
    s = server(OK + b'junk', OK, OK + b'HTTP/1.1 200 OK\r\n\r\n', OK)
    c = client()
    assert c.get(s.url) == (200, b'ok')
    assert c.get(s.url) == (200, b'ok')
    assert c.get(s.url) == (200, b'ok')
    assert c.get(s.url) == (200, b'ok')
    assert s.accepted == 3


def test_no_retry_after_part_of_the_response(client, server):
    s = server(OK, send_and_close(b'HTTP/1.1 200 OK\r\nContent-Length: 9'
                                  b'\r\n\r\npart'), OK)
    c = client()
    assert c.get(s.url) == (200, b'ok')
    with pytest.raises(http1.ProtocolError):
        c.get(s.url)
    assert len(s.requests) == 2
    assert s.accepted == 1


# ---------------------------------------------------------------------------
# requests, cookies, pooling

def test_request_target_and_default_headers(client, server):
    s = server(OK, OK, OK)
    c = client()
    c.get(s.url + '/engine.io/?EIO=4&transport=polling&t=N%2Fx#frag')
    c.get(s.url)
    c.request('PUT', s.url + '?only=query', headers=[
        ('Accept-Encoding', 'identity'), ('User-Agent', 'me'),
        ('X-Custom', 'yes')], body=b'')
    first, second, third = [r.split(b'\r\n') for r in s.requests]
    assert first[0] == b'GET /engine.io/?EIO=4&transport=polling&t=N%2Fx ' \
        b'HTTP/1.1'
    assert first[1] == b'Host: 127.0.0.1:%d' % int(s.url.rsplit(':', 1)[1])
    assert b'Accept-Encoding: gzip, deflate' in first
    assert not any(h.startswith(b'Content-Length') for h in first)
    assert second[0] == b'GET / HTTP/1.1'
    assert third[0] == b'PUT /?only=query HTTP/1.1'
    assert b'Accept-Encoding: identity' in third
    assert b'Accept-Encoding: gzip, deflate' not in third
    assert b'User-Agent: me' in third and b'X-Custom: yes' in third
    assert b'Content-Length: 0' in third


def test_url_and_header_helpers():
    assert http1._split('HTTP://Example.COM') == (
        ('http', 'example.com', 80, 'example.com'), '/')
    assert http1._split('https://h:443/p?q') == (
        ('https', 'h', 443, 'h'), '/p?q')
    assert http1._split('https://h:8443?q') == (
        ('https', 'h', 8443, 'h:8443'), '/?q')
    assert http1._split('http://[::1]:80/x') == (
        ('http', '::1', 80, '[::1]'), '/x')
    for bad in ('ftp://h/', 'http:///x', 'http://h:0/', 'http://h:99999/',
                'http://u@h/', 'http://h/a b', 'h/x', 'http://[::1/'):
        with pytest.raises(ValueError):
            http1._split(bad)
    with pytest.raises(ValueError):
        http1._request_bytes('GET', '/', 'h', {'X': 'a\r\nY: b'}, None, None)
    with pytest.raises(ValueError):
        http1._request_bytes('GET / HTTP/1.1\r\nX:', '/', 'h', {}, None, None)


def test_cookies(client, server):
    s = server(response(b'', 'Set-Cookie: a=1; Path=/; HttpOnly',
                        'Set-Cookie: b=2; Max-Age=100',
                        'Set-Cookie: s=3; Secure'),
               OK,
               response(b'', 'Set-Cookie: a=; Max-Age=0',
                        'Set-Cookie: b=; Expires=Thu, 01 Jan 1970 00:00:00 '
                        'GMT'),
               OK)
    c = client()
    assert c.session.cookie_header(s.url) is None
    c.get(s.url)
    assert c.session.cookie_header(s.url + '/any/path') == 'a=1; b=2'
    assert c.session.cookie_header(
        s.url.replace('http:', 'https:')) == 'a=1; b=2; s=3'
    assert c.session.cookie_header('http://localhost/') is None
    c.get(s.url, headers={'cookie': 'mine=4'})
    assert b'\r\nCookie: a=1; b=2; mine=4\r\n' in s.requests[1]
    c.get(s.url)
    assert c.session.cookie_header(s.url) is None
    c.get(s.url)
    assert b'Cookie' not in s.requests[3]


def test_concurrent_requests_get_their_own_responses(client, server):
    barrier = threading.Barrier(2, timeout=WAIT)

    def echo_path(peer):
        while True:
            request = peer.read_request()
            if request is None:
                return
            if peer.requests == 1:
                barrier.wait()      # both requests are in flight at once
            peer.send(response(request.split(b' ')[1]))
    s = server(script=echo_path)
    c = client()
    assert c.concurrently(s.url + '/a', s.url + '/b') == [
        (200, b'/a'), (200, b'/b')]
    assert s.accepted == 2
    assert c.idle() == 2
    assert c.get(s.url + '/c') == (200, b'/c')
    assert s.accepted == 2


def test_max_idle_per_origin(client, server):
    barrier = threading.Barrier(3, timeout=WAIT)

    def script(peer):
        peer.read_request()
        barrier.wait()
        peer.send(OK)
        peer.wait_closed()
        peer.server.seen(b'closed')
    s = server(script=script)
    c = client(max_idle_per_origin=2)
    assert c.concurrently(s.url, s.url, s.url) == [(200, b'ok')] * 3
    assert c.idle() == 2
    deadline = time.monotonic() + WAIT
    while b'closed' not in s.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.requests.count(b'closed') == 1


def test_close_then_request_raises(client, server):
    s = server(OK, OK)
    c = client()
    assert c.get(s.url) == (200, b'ok')
    c.close()
    assert s.peers[0].wait_closed()
    with pytest.raises(http1.ConnectError):
        c.get(s.url)
    assert s.accepted == 1


def test_close_during_a_request(client, server):
    got = threading.Event()

    def silent(peer):
        peer.read_request()
        got.set()
        peer.wait_closed()
    s = server(script=silent)
    c = client()
    start = time.monotonic()
    if c.loop is None:
        errors = []

        def run():
            try:
                c.get(s.url, read_timeout=WAIT)
            except Exception as exc:
                errors.append(exc)
        thread = threading.Thread(target=run)
        thread.start()
        assert got.wait(WAIT)
        c.close()
        thread.join(WAIT)
        assert isinstance(errors[0], http1.ConnectError)
    else:
        async def run():
            task = asyncio.ensure_future(
                c.session.request('GET', s.url, read_timeout=WAIT))
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, got.wait, WAIT)
            await c.session.close()
            with pytest.raises(http1.ConnectError):
                await task
        c.run(run())
    assert time.monotonic() - start < SLACK


def test_ipv6_loopback(client, server):
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(('::1', 0))
        probe.close()
    except OSError:
        pytest.skip('no IPv6 loopback')
    s = server(OK, OK, host='::1')
    assert s.url.startswith('http://[::1]:')
    c = client()
    assert c.get(s.url + '/six') == c.get(s.url) == (200, b'ok')
    assert s.requests[0].split(b'\r\n')[1] == (
        'Host: %s' % s.url[len('http://'):]).encode()
    assert s.accepted == 1


# ---------------------------------------------------------------------------
# asyncio only

@pytest.mark.parametrize('kind', KINDS[1:])
def test_cancellation_closes_the_connection(client, server):
    got = threading.Event()

    def script(peer):
        peer.read_request()
        got.set()
        peer.server.seen(b'closed' if peer.wait_closed() else b'open')
    s = server(script=script)
    c = client()

    async def cancel():
        task = asyncio.ensure_future(c.session.request('GET', s.url))
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, got.wait, WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await loop.run_in_executor(None, s.threads[1].join, WAIT) \
            is None
    c.run(cancel())
    assert s.requests[-1] == b'closed'
    assert c.idle() == 0


@pytest.mark.parametrize('kind', KINDS[1:])
def test_no_write_while_the_transport_is_paused(client, server):
    s = server(OK, OK)
    c = client()

    async def run():
        assert await c.session.request('GET', s.url) == (200, b'ok')
        [[conn]] = c.session._idle.values()
        conn.pause_writing()    # as if the last request were still queued
        task = asyncio.ensure_future(c.session.request('GET', s.url))
        await asyncio.sleep(0.05)
        assert len(s.requests) == 1 and not task.done()
        conn.resume_writing()
        assert await task == (200, b'ok')
    c.run(run())
    assert s.accepted == 1


def test_cookie_jar(monkeypatch):
    jar = http1._CookieJar()
    jar.store('h', ['no-equals-sign', '=nameless', 'a="quoted value"',
                    'b=1; Max-Age=soon', 'c=1; Max-Age=10',
                    'd=1; Expires=Wed, 09-Jun-2100 10:18:14 GMT',
                    'e=1; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
                    'f=1; Max-Age=-1', 'g=1; secure'])
    assert jar.header('h', False) == 'a="quoted value"; b=1; c=1; d=1; e=1'
    assert jar.header('h', True).endswith('; e=1; g=1')
    assert jar.header('other', True) is None
    now = time.time()
    monkeypatch.setattr(time, 'time', lambda: now + 11)
    assert jar.header('h', False) == 'a="quoted value"; b=1; d=1'


# ---------------------------------------------------------------------------
# TLS and real servers

def test_https(client, server, tmp_path):
    certfile, keyfile = make_cert(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certfile, keyfile)
    s = server(response(b'secret', 'Set-Cookie: s=1; Secure'),
               response(gzip.compress(b'z' * 100), 'Content-Encoding: gzip'),
               tls=server_ctx)
    assert s.url.startswith('https://')
    trusting = ssl.create_default_context()
    trusting.load_verify_locations(certfile)
    c = client(ssl_context=trusting)
    assert c.get(s.url) == (200, b'secret')
    assert c.get(s.url) == (200, b'z' * 100)
    assert b'\r\nCookie: s=1\r\n' in s.requests[1]
    assert s.accepted == 1
    with pytest.raises(http1.ConnectError):
        client().get(s.url)


def test_tls_handshake_bounded_by_connect_timeout(client, server):
    s = server(script=lambda peer: peer.wait_closed())  # never handshakes
    start = time.monotonic()
    with pytest.raises(http1.ConnectError):
        client().get(s.url.replace('http:', 'https:'), connect_timeout=0.3)
    assert time.monotonic() - start < 0.3 + SLACK


class _Http11Handler(WSGIRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_request(self, *args):
        pass


def test_werkzeug(client):
    def app(environ, start_response):
        body = environ['wsgi.input'].read(
            int(environ.get('CONTENT_LENGTH') or 0))
        body = ('%s %s %s' % (environ['REQUEST_METHOD'],
                              environ['QUERY_STRING'], body.decode())).encode()
        start_response('200 OK', [('Content-Length', str(len(body))),
                                  ('Set-Cookie', 'w=1')])
        return [body]
    srv = make_server('127.0.0.1', 0, app, threaded=True,
                      request_handler=_Http11Handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,),
                              daemon=True)
    thread.start()
    try:
        url = 'http://127.0.0.1:%d/?n=' % srv.server_port
        c = client()
        for i in range(3):
            assert c.get(url + str(i)) == (200, b'GET n=%d ' % i)
        assert c.request('POST', url, body=b'data') == (
            200, b'POST n= data')
        assert c.session.cookie_header(url) == 'w=1'
        assert c.idle() == 0    # Werkzeug 3 always says Connection: close
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(WAIT)


def test_uvicorn_keep_alive(client):
    async def app(scope, receive, send):
        if scope['type'] != 'http':
            return
        body = b''
        while True:
            message = await receive()
            body += message.get('body', b'')
            if not message.get('more_body'):
                break
        body = b'%d %s' % (scope['client'][1], body)
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-length', b'%d' % len(body))]})
        await send({'type': 'http.response.body', 'body': body})
    with LiveServer(app, lifespan='off', ws='none') as live:
        c = client()
        results = [c.get(live.url + '/')[1] for _ in range(3)]
        results.append(c.request('POST', live.url, body=b'x')[1])
        ports = {r.split()[0] for r in results}
        assert len(ports) == 1      # one connection for all four
        assert results[-1].endswith(b' x')
