"""The built-in server's HTTP/1.1 side over real sockets on 127.0.0.1:
keep-alive, pipelining, chunked bodies, 100-continue, limits and timeouts
(slowloris), long-poll parking, the ASGI bridge (static files, FastAPI,
Starlette), lifespan hooks, write flow control and TLS."""

import asyncio
import hashlib
import json
import os
import socket
import ssl
import time

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

import engineio_fast as engineio

from ..support import make_cert
from .builtin_helpers import (
    EIO_POLL,
    EIO_WS,
    WAIT,
    RawConn,
    RawWs,
    Recorder,
    echo_server,
    polling_open,
    request,
    wait_for,
)


def poll_target(sid):
    return EIO_POLL + '&sid=' + sid


@pytest.fixture
def echo(builtin):
    """``echo(**server_options, limits=...)``: an echo AsyncServer inside
    an ASGIApp on the built-in server; ``.eio`` and ``.rec`` attached."""
    def start(limits=None, asgi=None, **options):
        eio = echo_server(**options)
        srv = builtin(engineio.ASGIApp(eio, **(asgi or {})), limits=limits)
        srv.eio = eio
        srv.rec = eio.rec
        return srv
    return start


# -- HTTP/1.1 basics -------------------------------------------------------

def test_keep_alive_many_requests_one_connection(echo):
    srv = echo()
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_POLL))
        r = c.read_response()
        assert r.status == 200 and 'connection' not in r.headers
        sid = json.loads(r.body[1:])['sid']
        for i in range(5):
            c.send(request('POST', poll_target(sid), body=b'4m%d' % i))
            r = c.read_response()
            assert (r.status, r.body) == (200, b'ok')
            c.send(request('GET', poll_target(sid)))
            r = c.read_response()
            assert (r.status, r.body) == (200, b'4m%d' % i)
            assert 'connection' not in r.headers
        # off the Engine.IO path, still the same connection (404 by ASGIApp)
        c.send(request('GET', '/nothing-here'))
        assert c.read_response().status == 404
        c.send(request('GET', poll_target(sid)))   # parks: nothing queued
        assert c.nothing_for(0.2)
    assert srv.rec.reason(sid) == 'transport error'


def test_pipelined_requests_answered_in_order(echo, builtin, tmp_path):
    static = tmp_path / 'hello.txt'
    static.write_bytes(b'static hello')

    async def other(scope, receive, send):
        if scope['type'] != 'http':
            return
        await asyncio.sleep(0.05)   # the bridge answers later than the rest
        body = json.dumps({'path': scope['path']}).encode()
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'application/json')]})
        await send({'type': 'http.response.body', 'body': body})

    srv = echo(asgi={'other_asgi_app': other,
                     'static_files': {'/hello.txt': str(static)}})
    sid1 = polling_open(srv.url)
    sid2 = polling_open(srv.url)
    srv.call(srv.eio.send(sid1, 'for one'))
    srv.call(srv.eio.send(sid2, 'for two'))
    batch = b''.join([
        request('GET', EIO_POLL),
        request('GET', '/api/first'),
        request('GET', poll_target(sid1)),
        request('GET', '/hello.txt'),
        request('POST', poll_target(sid2), body=b'4posted'),
        request('GET', poll_target(sid2)),
        request('GET', '/api/last'),
    ])
    with RawConn(srv.port) as c:
        c.send(batch)    # one write
        got = [c.read_response() for _ in range(7)]
    assert all(r.status == 200 for r in got), got
    assert got[0].body.startswith(b'0{"sid":')
    assert json.loads(got[1].body) == {'path': '/api/first'}
    assert got[2].body == b'4for one'
    assert got[3].body == b'static hello'
    assert got[4].body == b'ok'
    # the POST was echoed by the handler: queued behind 'for two'
    assert got[5].body in (b'4for two\x1e4posted', b'4for two')
    assert json.loads(got[6].body) == {'path': '/api/last'}


def test_chunked_request_body(echo):
    srv = echo()
    sid = polling_open(srv.url)
    payload = '4first\x1e4second\x1e4{"k":[1,2]}'.encode()
    chunks = [payload[:3], payload[3:11], payload[11:]]
    body = b''.join(b'%x\r\n%s\r\n' % (len(ch), ch) for ch in chunks) + \
        b'0\r\n\r\n'
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid),
                       [('Transfer-Encoding', 'chunked')]))
        for i in range(0, len(body), 7):   # the body trickles in
            c.send(body[i:i + 7])
        r = c.read_response()
        assert (r.status, r.body) == (200, b'ok')
        c.send(request('GET', poll_target(sid)))
        r = c.read_response()
    assert r.body == b'4first\x1e4second\x1e4{"k":[1,2]}'
    msgs = [e[2] for e in srv.rec.of('message') if e[1] == sid]
    assert msgs == ['first', 'second', {'k': [1, 2]}]


def test_expect_100_continue(echo):
    srv = echo(max_http_buffer_size=1000)
    sid = polling_open(srv.url)
    other = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid),
                       [('Expect', '100-continue'), ('Content-Length', '6')]))
        assert c.read_response().status == 100
        c.send(b'4hello')
        r = c.read_response()
        assert (r.status, r.body) == (200, b'ok')
        c.send(request('GET', poll_target(sid)))
        assert c.read_response().body == b'4hello'
    # too big by its Content-Length: refused before any body is sent
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid),
                       [('Expect', '100-continue'),
                        ('Content-Length', '50000000')]))
        r = c.read_response()
        assert r.status == 400 and r.headers['connection'] == 'close'
        assert c.closed_within(WAIT)
    # ... and the engine closed that session, as for any oversized POST
    assert srv.rec.reason(sid) == 'transport error'
    # off the Engine.IO path (the bridge's limit): 413
    with RawConn(srv.port) as c:
        c.send(request('PUT', '/upload', [('Expect', '100-continue'),
                                          ('Content-Length', str(1 << 40))]))
        r = c.read_response()
        assert r.status == 413
        assert c.closed_within(WAIT)
    # an unknown expectation
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid), [('Expect', 'teapot'),
                                                  ('Content-Length', '2')]))
        assert c.read_response().status == 417
    r = httpx.post(srv.url + poll_target(other), content=b'4still here')
    assert r.text == 'ok'
    assert httpx.get(srv.url + poll_target(other)).text == '4still here'


# -- limits ----------------------------------------------------------------

@pytest.mark.parametrize('data, status', [
    (request('GET', EIO_POLL + '&x=' + 'a' * 8200), 414),
    (request('GET', EIO_POLL, [('X-Big', 'v' * 17000)]), 431),
    (request('GET', EIO_POLL, [('X-H%d' % i, 'v' * 170)
                               for i in range(99)]), 431),   # > 16 KiB total
    (request('GET', EIO_POLL, [('X-H%d' % i, 'v') for i in range(101)]),
     431),
    (b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n', 400),
    (b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n'
     b'Content-Length: 7\r\n\r\n', 400),
    (b'GET /\x00 HTTP/1.1\r\n\r\n', 400),
    (b'\r\n\r\nHELLO WORLD\r\n\r\n', 400),
    # request smuggling shapes are refused, not guessed at
    (b'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n'
     b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400),
    (b'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello',
     400),
    (b'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, '
     b'identity\r\n\r\n0\r\n\r\n', 400),
    (b'GET /x HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', 400),
], ids=['request-line', 'one-header', 'header-bytes', 'header-count',
        'tls-on-plain', 'double-length', 'nul-in-url', 'garbage',
        'cl-and-te', 'space-before-colon', 'te-list', 'obs-fold'])
def test_limits_and_garbage(echo, data, status):
    srv = echo()
    sid = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(data)
        r = c.read_response()
        assert r.status == status, r
        assert r.headers.get('connection') == 'close'
        assert c.closed_within(WAIT)
    # the server is fine, and so is an open session
    r = httpx.post(srv.url + poll_target(sid), content=b'4after')
    assert r.text == 'ok'
    assert httpx.get(srv.url + poll_target(sid)).text == '4after'


def test_a_large_but_allowed_request_is_served(echo):
    srv = echo()
    # 99 headers, ~15 KiB in all, an ~8000-byte URL: under every limit
    headers = [('X-H%d' % i, 'v' * 140) for i in range(99)]
    target = EIO_POLL + '&pad=' + 'a' * (8000 - len(EIO_POLL) - 5)
    with RawConn(srv.port) as c:
        c.send(request('GET', target, headers))
        r = c.read_response()
    assert r.status == 200 and r.body.startswith(b'0{')


def test_slowloris_headers_cut_off_other_sessions_unaffected(echo):
    srv = echo(limits={'header_timeout': 1.0})
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ws:
        assert ws.recv(timeout=WAIT)[0] == '0'
        c = RawConn(srv.port)
        start = time.monotonic()
        c.send(b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n')
        trickle = b'X-Slow: ' + b'a' * 200
        closed_at = None
        rounds = 0
        for i in range(60):     # at most ~6 s of trickling
            try:
                c.send(trickle[i:i + 1])
            except OSError:
                closed_at = time.monotonic()
                break
            # meanwhile a websocket session round-trips normally
            ws.send('4tick%d' % i)
            assert ws.recv(timeout=WAIT) == '4tick%d' % i
            rounds += 1
            if not c.nothing_for(0.1):
                closed_at = time.monotonic()
                break
        assert closed_at is not None, 'slow headers were never cut off'
        elapsed = closed_at - start
        # cut by the 1 s header timeout (checked about once a second)
        assert 0.9 <= elapsed <= 1.0 + 3.0, elapsed
        try:
            rest = c.read_to_eof(WAIT)
        except ConnectionError:
            rest = b''
        assert rest == b'' or rest.startswith(b'HTTP/1.1 408 '), rest
        c.close()
        assert rounds >= 5
        ws.send('4still alive')
        assert ws.recv(timeout=WAIT) == '4still alive'
    assert not srv.server.ctx.http_conns or wait_for(
        lambda: not srv.server.ctx.http_conns)


def test_idle_keep_alive_connections_are_closed(echo):
    srv = echo(limits={'keepalive_timeout': 1.0})
    with RawConn(srv.port) as silent, RawConn(srv.port) as idle:
        idle.send(request('GET', EIO_POLL))
        assert idle.read_response().status == 200
        start = time.monotonic()
        assert idle.closed_within(1.0 + 3.0)
        assert silent.closed_within(1.0 + 3.0)   # never sent a byte
        assert time.monotonic() - start >= 0.5
    # a connection in use is not idle: a parked GET outlives the timeout
    sid = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('GET', poll_target(sid)))
        assert c.nothing_for(2.5)
        srv.call(srv.eio.send(sid, 'late'))
        assert c.read_response().body == b'4late'


def test_long_poll_parking(echo):
    srv = echo()
    sid = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('GET', poll_target(sid)))
        assert c.nothing_for(0.3)           # parked
        srv.call(srv.eio.send(sid, 'wake up'))
        r = c.read_response()
        assert (r.status, r.body) == (200, b'4wake up')
        # again: several sends in one go are coalesced into one reply
        c.send(request('GET', poll_target(sid)))
        assert c.nothing_for(0.2)

        async def two():
            await srv.eio.send(sid, 'a')
            await srv.eio.send(sid, b'\x01\x02')
        srv.call(two())
        assert c.read_response().body == b'4a\x1ebAQI='
        # a parked GET whose connection closes ends the session
        c.send(request('GET', poll_target(sid)))
        assert c.nothing_for(0.2)
    assert srv.rec.reason(sid) == 'transport error'
    r = httpx.get(srv.url + poll_target(sid))
    assert r.status_code == 400 and r.json()['code'] == 1


def test_duplicate_get_while_parked(echo):
    srv = echo()
    sid = polling_open(srv.url)
    with RawConn(srv.port) as first, RawConn(srv.port) as second:
        first.send(request('GET', poll_target(sid)))
        assert first.nothing_for(0.2)
        second.send(request('GET', poll_target(sid)))
        assert second.read_response().status == 400
        # the session closed: the parked GET ends with the close packet
        assert first.read_response().body == b'1'
    assert srv.rec.reason(sid) == 'transport error'


def test_post_over_max_http_buffer_size(echo):
    srv = echo(max_http_buffer_size=1000)
    sid = polling_open(srv.url)
    other = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('GET', poll_target(sid)))
        assert c.nothing_for(0.2)
        r = httpx.post(srv.url + poll_target(sid), content=b'4' + b'x' * 5000)
        assert r.status_code == 400
        assert c.read_response().body == b'1'    # the close packet
    assert srv.rec.reason(sid) == 'transport error'
    assert not [e for e in srv.rec.of('message') if e[1] == sid]
    assert httpx.get(srv.url + poll_target(sid)).status_code == 400
    # the other session is untouched, and a body at the limit is fine
    body = b'4' + b'y' * 999
    assert httpx.post(srv.url + poll_target(other), content=body).text == 'ok'
    assert httpx.get(srv.url + poll_target(other)).content == body
    assert srv.rec.reason(other, timeout=0) is None


def test_bare_async_server(builtin):
    eio = echo_server()
    srv = builtin(eio)
    sid = polling_open(srv.url)
    assert httpx.post(srv.url + poll_target(sid), content=b'4bare').text == \
        'ok'
    assert httpx.get(srv.url + poll_target(sid)).text == '4bare'
    for path in ('/', '/index.html', '/engine.io.js', '/socket.io/'):
        r = httpx.get(srv.url + path)
        assert r.status_code == 404, path
    with RawConn(srv.port) as c:    # and keeps the connection
        c.send(request('GET', '/x') + request('GET', EIO_POLL))
        assert c.read_response().status == 404
        assert c.read_response().body.startswith(b'0{')
    with RawConn(srv.port) as c:    # no websocket off the Engine.IO path
        c.send(request('GET', '/chat', [
            ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
            ('Sec-WebSocket-Version', '13')]))
        assert c.read_response().status == 404


# -- the ASGI bridge -------------------------------------------------------

def test_fastapi_behind_asgiapp(builtin, tmp_path):
    import fastapi
    from fastapi.responses import StreamingResponse

    api = fastapi.FastAPI()

    @api.get('/api/items/{item_id}')
    async def item(item_id: int, q: str = ''):
        return {'id': item_id, 'q': q}

    @api.post('/api/echo')
    async def echo_body(request: fastapi.Request):
        data = await request.body()
        return {'n': len(data), 'sha': hashlib.sha256(data).hexdigest()}

    @api.get('/api/stream')
    async def stream():
        async def gen():
            for i in range(50):
                yield b'chunk %02d\n' % i
                await asyncio.sleep(0)
        return StreamingResponse(gen(), media_type='text/plain')

    big = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / 'big.bin').write_bytes(big)
    (tmp_path / 'index.html').write_bytes(b'<h1>hi</h1>')
    eio = echo_server()
    app = engineio.ASGIApp(eio, other_asgi_app=api, static_files={
        '/': str(tmp_path / 'index.html'), '/files': str(tmp_path)})
    srv = builtin(app)
    with httpx.Client(base_url=srv.url, timeout=WAIT) as client:
        r = client.get('/api/items/7', params={'q': 'x y'})
        assert r.status_code == 200 and r.json() == {'id': 7, 'q': 'x y'}
        assert r.headers['content-type'] == 'application/json'
        upload = os.urandom(200000)
        r = client.post('/api/echo', content=upload)
        assert r.json() == {'n': len(upload),
                            'sha': hashlib.sha256(upload).hexdigest()}
        r = client.get('/api/stream')
        assert r.status_code == 200
        assert r.headers.get('transfer-encoding') == 'chunked'
        assert r.content == b''.join(b'chunk %02d\n' % i for i in range(50))
        r = client.get('/api/nope')
        assert r.status_code == 404 and r.json() == {'detail': 'Not Found'}
        r = client.get('/api/items/notanint')
        assert r.status_code == 422
        r = client.get('/')
        assert r.status_code == 200 and r.content == b'<h1>hi</h1>'
        r = client.get('/files/big.bin')
        assert r.status_code == 200
        assert int(r.headers['content-length']) == len(big)
        assert hashlib.sha256(r.content).digest() == \
            hashlib.sha256(big).digest()
        r = client.head('/files/big.bin')
        assert r.status_code == 200 and r.content == b''
        assert int(r.headers['content-length']) == len(big)
        # Engine.IO on the same connection pool
        r = client.get(EIO_POLL)
        assert r.status_code == 200 and r.text.startswith('0{')
    # a large static file to a slow reader arrives complete (flow control)
    with RawConn(srv.port) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        c.send(request('GET', '/files/big.bin') + request('GET', '/'))
        time.sleep(0.3)    # let the server fill the socket buffers
        r = c.read_response()
        assert r.body == big
        assert c.read_response().body == b'<h1>hi</h1>'


def test_starlette_head_and_errors(builtin):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request):
        return PlainTextResponse('hello ' + request.method)

    async def boom(request):
        raise RuntimeError('boom')

    async def nothing(request):
        return PlainTextResponse('', status_code=204)

    web = Starlette(routes=[Route('/hello', hello),
                            Route('/boom', boom),
                            Route('/empty', nothing)])
    srv = builtin(engineio.ASGIApp(echo_server(), other_asgi_app=web))
    with RawConn(srv.port) as c:
        c.send(request('HEAD', '/hello'))
        r = c.read_response(head_only=True)
        assert r.status == 200 and r.headers['content-length'] == '10'
        # no body followed the HEAD response: the next one is intact
        c.send(request('GET', '/hello'))
        r = c.read_response()
        assert (r.status, r.body) == (200, b'hello GET')
        c.send(request('GET', '/empty'))
        assert c.read_response().status == 204
        c.send(request('POST', '/hello'))
        assert c.read_response().status == 405
        c.send(request('GET', '/boom'))
        r = c.read_response()
        assert r.status == 500
    # HTTP/1.0 client, response without a length: body until close
    with RawConn(srv.port) as c:
        c.send(b'GET /hello HTTP/1.0\r\n\r\n')
        r = c.read_response()
        assert (r.status, r.body) == (200, b'hello GET')
        assert c.closed_within(WAIT)


def test_lifespan_hooks_run(tmp_path):
    from ..support import BuiltinServer
    calls = []

    async def startup():
        calls.append('startup')

    def shutdown():
        calls.append('shutdown')

    from contextlib import asynccontextmanager

    import fastapi

    @asynccontextmanager
    async def lifespan(app):
        calls.append('app startup')
        app.state.ready = True
        yield
        calls.append('app shutdown')

    api = fastapi.FastAPI(lifespan=lifespan)

    @api.get('/ready')
    async def ready(request: fastapi.Request):
        return {'ready': request.app.state.ready}

    app = engineio.ASGIApp(echo_server(), other_asgi_app=api,
                           on_startup=startup, on_shutdown=shutdown)
    with BuiltinServer(app) as srv:
        # both the ASGIApp's hooks and the wrapped app's lifespan ran
        assert sorted(calls) == ['app startup', 'startup']
        assert httpx.get(srv.url + '/ready').json() == {'ready': True}
    assert sorted(calls[2:]) == ['app shutdown', 'shutdown']
    # without another app
    calls.clear()
    app = engineio.ASGIApp(echo_server(), on_startup=startup,
                           on_shutdown=shutdown)
    with BuiltinServer(app) as srv:
        assert calls == ['startup']
        assert httpx.get(srv.url + EIO_POLL).status_code == 200
    assert calls == ['startup', 'shutdown']


def test_failing_startup_hook_stops_the_server():
    from ..support import BuiltinServer

    def startup():
        raise RuntimeError('no database')

    srv = BuiltinServer(engineio.ASGIApp(echo_server(), on_startup=startup))
    srv.start()
    try:
        assert not srv.started
        assert isinstance(srv.error, RuntimeError)
        assert 'startup failed' in str(srv.error)
    finally:
        srv.stop()


# -- write flow control ----------------------------------------------------

def test_slow_reader_is_bounded_and_closed(builtin):
    """A websocket client that stops reading while the server sends a lot:
    the transport's buffer stays near its high-water mark, the engine's
    queue is bounded (the session closes with 'transport error'), and other
    sessions carry on."""
    rec = Recorder()
    eio = echo_server(rec, max_queue_bytes=1 << 20)
    stats = {'sent': 0, 'max_buffer': 0, 'max_queue': 0}
    chunk = 'x' * 65536

    @eio.on('message')
    async def flood(sid, data):
        rec.add('message', sid, data)
        if data != 'flood':
            await eio.send(sid, data)
            return
        for _ in range(1000):        # at most 64 MB
            s = eio._engine.get(sid)
            if s is None:
                break
            await eio.send(sid, chunk)
            stats['sent'] += 1
            stats['max_queue'] = max(stats['max_queue'], s.queue_bytes)
            for conn in list(srv.server.ctx.ws_conns):
                if conn.link.session is s:
                    stats['max_buffer'] = max(
                        stats['max_buffer'],
                        conn.transport.get_write_buffer_size())
            await asyncio.sleep(0.001)

    srv = builtin(eio, limits={'ws_close_timeout': 1.0})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(WAIT)
    sock.connect(('127.0.0.1', srv.port))
    slow = RawWs(srv.port, sock=sock)
    sid = slow.open_packet()['sid']
    with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ok:
        assert ok.recv(timeout=WAIT)[0] == '0'
        slow.send_text('4flood')     # ... and never read again
        assert rec.reason(sid, timeout=20) == 'transport error'
        # stopped soon after the bound, not after 1000 messages
        assert stats['sent'] < 200, stats
        assert stats['max_queue'] <= 1 << 20
        assert stats['max_buffer'] <= 2 << 20, stats

        async def conns():
            return [c.link.session.sid for c in srv.server.ctx.ws_conns]

        # the stuck connection is dropped after ws_close_timeout
        assert wait_for(lambda: sid not in srv.call(conns()), timeout=4)
        assert len(srv.call(conns())) == 1     # the healthy one
        got = slow.read_to_eof(WAIT)    # what was buffered, then reset
        assert len(got) < 4 << 20
        for i in range(3):
            ok.send('4fine%d' % i)
            assert ok.recv(timeout=WAIT) == '4fine%d' % i
    slow.close()


def test_pipelining_client_that_never_reads(echo):
    """Requests pipelined without reading the answers: the server stops
    reading when its write buffer is full instead of buffering every
    response."""
    srv = echo()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sock.connect(('127.0.0.1', srv.port))
    sock.setblocking(False)
    one = request('GET', '/engine.io/?EIO=3&transport=polling')  # 400
    data = one * 300000          # ~21 MB of requests
    sent = 0
    deadline = time.monotonic() + 1.5
    blocked = 0
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += sock.send(data[sent:sent + 65536])
        except BlockingIOError:
            blocked += 1
            time.sleep(0.005)

    async def buffered():
        return [c.transport.get_write_buffer_size()
                for c in srv.server.ctx.http_conns]

    sizes = srv.call(buffered())
    assert sent < len(data), 'the server read everything'
    assert blocked > 0
    assert sizes and max(sizes) < 1 << 20, sizes
    # what was answered is intact and in order
    sock.setblocking(True)
    c = RawConn(srv.port, sock=sock)
    for _ in range(200):
        r = c.read_response()
        assert r.status == 400 and r.body == \
            b'{"code":5,"message":"Unsupported protocol version"}'
    c.close()
    sid = polling_open(srv.url)    # the server is fine
    assert sid


def test_parked_polls_on_many_connections(echo):
    srv = echo()
    sids = [polling_open(srv.url) for _ in range(20)]
    conns = [RawConn(srv.port) for _ in sids]
    try:
        for c, sid in zip(conns, sids):
            c.send(request('GET', poll_target(sid)))
        assert conns[0].nothing_for(0.2)

        async def all_():
            for sid in sids:
                await srv.eio.send(sid, 'to ' + sid)
        srv.call(all_())
        for c, sid in zip(conns, sids):
            assert c.read_response().body == ('4to ' + sid).encode()
    finally:
        for c in conns:
            c.close()


# -- TLS ---------------------------------------------------------------------

def test_tls_polling_and_wss(builtin, tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(certfile, keyfile)
    client_ctx = ssl.create_default_context(cafile=certfile)
    eio = echo_server()
    environs = []

    @eio.on('connect')
    def connect(sid, environ):
        environs.append(environ)

    srv = builtin(engineio.ASGIApp(eio), ssl=server_ctx)
    base = 'https://127.0.0.1:%d' % srv.port
    with httpx.Client(verify=client_ctx, timeout=WAIT) as client:
        r = client.get(base + EIO_POLL)
        assert r.status_code == 200
        sid = json.loads(r.text[1:])['sid']
        assert client.post(base + poll_target(sid),
                           content=b'4secret').text == 'ok'
        assert client.get(base + poll_target(sid)).text == '4secret'
    assert environs[0]['wsgi.url_scheme'] == 'https'
    with ws_connect('wss://127.0.0.1:%d' % srv.port + EIO_WS, ssl=client_ctx,
                    open_timeout=WAIT) as ws:
        assert ws.recv(timeout=WAIT)[0] == '0'
        ws.send('4over tls')
        assert ws.recv(timeout=WAIT) == '4over tls'
        ws.send(b'\x00\x01' * 50000)
        assert ws.recv(timeout=WAIT) == b'\x00\x01' * 50000
    # a client that does not trust the certificate is refused
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + EIO_POLL, timeout=WAIT)
    # plain HTTP on the TLS port does not get an answer in the clear
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_POLL))
        assert not c.read_to_eof(WAIT).startswith(b'HTTP/1.1 200')


def test_oversized_post_answered_before_its_body(echo):
    """A POST whose Content-Length is over max_http_buffer_size is refused
    from its headers: 400, the session closed, the body never read."""
    srv = echo(max_http_buffer_size=1000)
    sid = polling_open(srv.url)
    other = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid),
                       [('Content-Length', '50000000')]))
        r = c.read_response()
        assert r.status == 400 and r.headers['connection'] == 'close'
        assert c.closed_within(WAIT)
    assert srv.rec.reason(sid) == 'transport error'
    # the other session is untouched
    assert srv.rec.reason(other, timeout=0) is None


def test_oversized_chunked_post_answered_at_the_limit(echo):
    srv = echo(max_http_buffer_size=1000)
    sid = polling_open(srv.url)
    with RawConn(srv.port) as c:
        c.send(request('POST', poll_target(sid),
                       [('Transfer-Encoding', 'chunked')]))
        c.send(b'%x\r\n%s\r\n' % (1500, b'4' + b'x' * 1499))
        r = c.read_response()
        assert r.status == 400 and r.headers['connection'] == 'close'
        assert c.closed_within(WAIT)
    assert srv.rec.reason(sid) == 'transport error'
