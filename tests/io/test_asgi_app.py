"""ASGIApp behind a real uvicorn (uvloop, httptools, websockets) on 127.0.0.1.

Most tests use a fake Engine.IO server that records calls. The end-to-end
tests drive the real ``engineio_fast.AsyncServer`` and, as the behavioural
reference, python-engineio's AsyncServer, so the harness is known to be
right.
"""

import hashlib
import json
import os
import socket

import httpx
import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import InvalidStatus, WebSocketException

from engineio_fast import ASGIApp

pytestmark = pytest.mark.timeout(60)

BIG_SIZE = 5 * 1024 * 1024 + 123


class FakeEngine:
    """Stands in for AsyncServer: answers every request with 'engine'."""

    def __init__(self):
        self.requests = []
        self.shutdowns = 0

    async def handle_request(self, scope, receive, send):
        self.requests.append((scope['type'], scope['path']))
        if scope['type'] == 'websocket':
            await receive()
            await send({'type': 'websocket.accept'})
            await send({'type': 'websocket.send', 'text': 'engine'})
            await send({'type': 'websocket.close', 'code': 1000})
            return
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'text/plain')]})
        await send({'type': 'http.response.body', 'body': b'engine'})

    async def shutdown(self):
        self.shutdowns += 1


class OtherApp:
    def __init__(self):
        self.paths = []

    async def __call__(self, scope, receive, send):
        if scope['type'] == 'lifespan':
            while True:
                event = await receive()
                kind = event['type'].replace('lifespan.', '')
                await send({'type': f'lifespan.{kind}.complete'})
                if kind == 'shutdown':
                    return
        self.paths.append(scope['path'])
        if scope['type'] == 'websocket':
            await receive()
            await send({'type': 'websocket.accept'})
            await send({'type': 'websocket.send', 'text': 'other'})
            await send({'type': 'websocket.close', 'code': 1000})
            return
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'text/plain')]})
        await send({'type': 'http.response.body', 'body': b'other'})


class BodyCounter:
    """ASGI wrapper counting the http.response.body messages per path."""

    def __init__(self, app):
        self.app = app
        self.bodies = {}

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        sizes = self.bodies.setdefault(scope['path'], [])

        async def counting_send(message):
            if message['type'] == 'http.response.body':
                sizes.append(len(message.get('body', b'')))
            await send(message)
        await self.app(scope, receive, counting_send)


@pytest.fixture
def site(tmp_path):
    """A public folder, and a secret file next to (outside) it."""
    public = tmp_path / 'public'
    (public / 'css').mkdir(parents=True)
    (public / 'index.html').write_bytes(b'<h1>index</h1>')
    (public / 'image.gif').write_bytes(b'GIF89a')
    (public / 'css' / 'styles.css').write_bytes(b'body{}')
    (public / 'css' / 'index.html').write_bytes(b'<h1>css</h1>')
    (public / 'app.js').write_bytes(b'let a;')
    (public / 'data.json').write_bytes(b'{}')
    (public / 'doc.pdf').write_bytes(b'%PDF-1.4')
    (public / 'notes.txt').write_bytes(b'notes')
    (public / 'blob').write_bytes(b'\x00\x01')
    (public / 'x.weird').write_bytes(b'?')
    (tmp_path / 'latency.html').write_bytes(b'<h1>latency</h1>')
    (tmp_path / 'secret.txt').write_bytes(b'TOP SECRET')
    (public / 'big.bin').write_bytes(os.urandom(BIG_SIZE))
    return tmp_path


def raw_get(server, target, method='GET'):
    """Send a request line exactly as written (no client normalisation)."""
    with socket.create_connection(('127.0.0.1', server.port), 5) as s:
        s.sendall(f'{method} {target} HTTP/1.1\r\nHost: x\r\n'
                  'Connection: close\r\n\r\n'.encode('latin-1'))
        data = b''
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    return int(head.split()[1]), body


# -- static files -------------------------------------------------------------

def test_static_rules(live_server, site):
    public = str(site / 'public')
    app = ASGIApp(FakeEngine(), static_files={
        '/': str(site / 'latency.html'),
        '/plain': {'filename': str(site / 'latency.html'),
                   'content_type': 'text/plain'},
        '/static': public,
        '/raw': {'filename': public, 'content_type': 'text/x-raw'},
    })
    server = live_server(app)
    cases = [
        ('/', b'<h1>latency</h1>', 'text/html'),
        ('/plain', b'<h1>latency</h1>', 'text/plain'),
        ('/static/', b'<h1>index</h1>', 'text/html'),
        ('/static/css/', b'<h1>css</h1>', 'text/html'),
        ('/static/css/styles.css', b'body{}', 'text/css'),
        ('/static/app.js', b'let a;', 'application/javascript'),
        ('/static/data.json', b'{}', 'application/json'),
        ('/static/image.gif', b'GIF89a', 'image/gif'),
        ('/static/notes.txt', b'notes', 'text/plain'),
        ('/static/doc.pdf', b'%PDF-1.4', 'application/pdf'),
        ('/static/blob', b'\x00\x01', 'application/octet-stream'),
        ('/static/x.weird', b'?', 'application/octet-stream'),
        ('/raw/notes.txt', b'notes', 'text/x-raw'),
    ]
    with httpx.Client(base_url=server.url) as client:
        for path, body, content_type in cases:
            r = client.get(path)
            assert r.status_code == 200, path
            assert r.content == body, path
            assert r.headers['content-type'] == content_type, path
            assert r.headers['content-length'] == str(len(body)), path
        for path in ['/static/missing.css', '/static', '/staticfoo',
                     '/static/css/nope/', '/nothing']:
            r = client.get(path)
            assert (r.status_code, r.text) == (404, 'Not Found'), path


def test_default_file_override(live_server, site):
    public = str(site / 'public')
    server = live_server(ASGIApp(FakeEngine(), static_files={
        '/static': public, '': 'image.gif'}))
    r = httpx.get(server.url + '/static/')
    assert (r.content, r.headers['content-type']) == (b'GIF89a', 'image/gif')
    server = live_server(ASGIApp(FakeEngine(), static_files={
        '/static': public,
        '': {'filename': 'image.gif', 'content_type': 'text/plain'}}))
    r = httpx.get(server.url + '/static/')
    assert (r.content, r.headers['content-type']) == (b'GIF89a',
                                                      'text/plain')


@pytest.mark.parametrize('target', [
    '/static/../secret.txt',
    '/static/css/../../secret.txt',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E/secret.txt',
    '/static/..%2fsecret.txt',
    '/static/%2e%2e%2fsecret.txt',
    '/static/%252e%252e/secret.txt',
    '/static/..%5csecret.txt',
    '/static/%2e%2e%5csecret.txt',
    '/static//' + 'SITE/secret.txt',
    '/static/%2F' + 'SITE/secret.txt',
    '/static/secret.txt%00.html',
])
def test_traversal_is_404(live_server, site, target):
    target = target.replace('SITE/', str(site).lstrip('/') + '/')
    server = live_server(ASGIApp(FakeEngine(), static_files={
        '/static': str(site / 'public')}))
    status, body = raw_get(server, target)
    assert status == 404
    assert b'SECRET' not in body


def test_large_file_streamed_in_chunks(live_server, site):
    big = site / 'public' / 'big.bin'
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    app = BodyCounter(ASGIApp(FakeEngine(), static_files={
        '/static': str(site / 'public')}))
    server = live_server(app)
    digest = hashlib.sha256()
    with httpx.stream('GET', server.url + '/static/big.bin') as r:
        assert r.status_code == 200
        assert r.headers['content-length'] == str(BIG_SIZE)
        assert r.headers['content-type'] == 'application/octet-stream'
        for chunk in r.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == expected
    sizes = app.bodies['/static/big.bin']
    assert len(sizes) > 1
    assert sum(sizes) == BIG_SIZE
    assert max(sizes) <= 64 * 1024


def test_head(live_server, site):
    app = BodyCounter(ASGIApp(FakeEngine(), static_files={
        '/static': str(site / 'public')}))
    server = live_server(app)
    r = httpx.head(server.url + '/static/big.bin')
    assert r.status_code == 200
    assert r.headers['content-length'] == str(BIG_SIZE)
    assert r.content == b''
    assert sum(app.bodies['/static/big.bin']) == 0
    r = httpx.head(server.url + '/static/css/styles.css')
    assert (r.headers['content-type'], r.headers['content-length']) == \
        ('text/css', '6')


def test_non_get_methods_skip_static(live_server, site):
    other = OtherApp()
    server = live_server(ASGIApp(FakeEngine(), other, static_files={
        '/static': str(site / 'public')}))
    r = httpx.post(server.url + '/static/notes.txt')
    assert r.text == 'other'
    server = live_server(ASGIApp(FakeEngine(), static_files={
        '/static': str(site / 'public')}))
    assert httpx.post(server.url + '/static/notes.txt').status_code == 404


# -- routing ------------------------------------------------------------------

def test_routing_precedence(live_server, site):
    (site / 'public' / 'engine.html').write_bytes(b'static engine')
    engine, other = FakeEngine(), OtherApp()
    server = live_server(ASGIApp(engine, other, static_files={
        '/engine.io/': str(site / 'public' / 'engine.html'),
        '/engine.io': str(site / 'public' / 'engine.html'),
        '/api': str(site / 'public' / 'notes.txt'),
    }))
    with httpx.Client(base_url=server.url) as client:
        assert client.get('/engine.io/?EIO=4&transport=polling').text == \
            'engine'
        assert client.get('/engine.io').text == 'engine'
        assert client.get('/api').text == 'notes'        # static > other
        assert client.get('/api/v1').text == 'other'
        assert client.get('/').text == 'other'
    assert engine.requests == [('http', '/engine.io/'), ('http', '/engine.io')]
    assert other.paths == ['/api/v1', '/']


def test_custom_engineio_path(live_server):
    engine = FakeEngine()
    server = live_server(ASGIApp(engine, engineio_path='/realtime/socket/'))
    assert httpx.get(server.url + '/realtime/socket/').text == 'engine'
    assert httpx.get(server.url + '/engine.io/').status_code == 404


def test_websocket_routing(live_server):
    engine, other = FakeEngine(), OtherApp()
    server = live_server(ASGIApp(engine, other))
    with ws_client.connect(server.ws_url + '/engine.io/') as ws:
        assert ws.recv(5) == 'engine'
    with ws_client.connect(server.ws_url + '/ws') as ws:
        assert ws.recv(5) == 'other'


def test_websocket_not_found(live_server):
    server = live_server(ASGIApp(FakeEngine()))
    with pytest.raises(InvalidStatus) as info:
        ws_client.connect(server.ws_url + '/nope', open_timeout=5)
    assert info.value.response.status_code == 403


# -- lifespan -----------------------------------------------------------------

def test_lifespan_hooks(live_server):
    calls = []

    async def async_start():
        calls.append('start')

    engine = FakeEngine()
    server = live_server(ASGIApp(engine, on_startup=async_start,
                                 on_shutdown=lambda: calls.append('stop')))
    assert calls == ['start']
    server.stop()
    assert calls == ['start', 'stop']
    assert engine.shutdowns == 1

    calls.clear()

    async def async_stop():
        calls.append('stop')
    server = live_server(ASGIApp(engine, OtherApp(),
                                 on_startup=lambda: calls.append('start'),
                                 on_shutdown=async_stop))
    assert calls == ['start']
    server.stop()
    assert calls == ['start', 'stop']


@pytest.mark.parametrize('with_other_app', [False, True])
def test_failing_startup_hook(live_server, with_other_app):
    def boom():
        raise RuntimeError('boom')
    app = ASGIApp(FakeEngine(), OtherApp() if with_other_app else None,
                  on_startup=boom)
    server = live_server(app)
    assert not server.started
    assert not server.thread.is_alive()


# -- end to end with a real Engine.IO server ----------------------------------

def _python_engineio_server():
    import engineio
    return engineio.AsyncServer(async_mode='asgi')


def _engineio_fast_server():
    import engineio_fast
    return engineio_fast.AsyncServer(async_mode='asgi')


ENGINES = [
    pytest.param(_engineio_fast_server, id='engineio_fast'),
    pytest.param(_python_engineio_server, id='python-engineio'),
]


@pytest.mark.parametrize('make_engine', ENGINES)
def test_e2e_polling_and_websocket(live_server, site, make_engine):
    eio = make_engine()
    connected = []

    @eio.on('connect')
    async def connect(sid, environ):
        connected.append(environ['asgi.scope']['path'])

    @eio.on('message')
    async def message(sid, data):
        await eio.send(sid, data.upper())

    other = OtherApp()
    server = live_server(ASGIApp(eio, other, static_files={
        '/static': str(site / 'public')}))
    with httpx.Client(base_url=server.url) as client:
        r = client.get('/engine.io/?EIO=4&transport=polling')
        assert r.status_code == 200
        assert r.text.startswith('0{')
        sid = json.loads(r.text[1:])['sid']
        r = client.post(f'/engine.io/?EIO=4&transport=polling&sid={sid}',
                        content=b'4hello')
        # python-engineio answers 'OK', the JavaScript server 'ok'
        assert (r.status_code, r.text.lower()) == (200, 'ok')
        r = client.get(f'/engine.io/?EIO=4&transport=polling&sid={sid}')
        assert r.text == '4HELLO'
        assert client.get('/static/notes.txt').text == 'notes'
        assert client.get('/else').text == 'other'
    with ws_client.connect(
            server.ws_url + '/engine.io/?EIO=4&transport=websocket') as ws:
        assert ws.recv(5).startswith('0{')
        ws.send('4abc')
        assert ws.recv(5) == '4ABC'
    assert connected == ['/engine.io/', '/engine.io/']


@pytest.mark.parametrize('make_engine', ENGINES)
def test_e2e_lifespan_shuts_server_down(live_server, make_engine):
    eio = make_engine()
    server = live_server(ASGIApp(eio))
    with ws_client.connect(
            server.ws_url + '/engine.io/?EIO=4&transport=websocket') as ws:
        assert ws.recv(5).startswith('0{')
        server.stop()  # lifespan shutdown -> eio.shutdown() closes sessions
        with pytest.raises(WebSocketException):
            while True:
                ws.recv(5)
