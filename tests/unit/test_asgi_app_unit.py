"""ASGIApp driven directly through the ASGI interface (no sockets).

The Engine.IO server is a fake that records calls, so these tests do not
depend on engineio_fast.AsyncServer.
"""

import asyncio

import pytest

from engineio_fast import ASGIApp
from engineio_fast.adapters import asgi_app as asgi_module

pytestmark = pytest.mark.timeout(30)


class FakeEngine:
    def __init__(self, has_shutdown=True, shutdown_error=None):
        self.requests = []
        self.shutdowns = 0
        if not has_shutdown:
            self.shutdown = None
        self.shutdown_error = shutdown_error

    async def handle_request(self, scope, receive, send):
        self.requests.append(scope['path'])
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': []})
        await send({'type': 'http.response.body', 'body': b'engine'})

    async def shutdown(self):
        self.shutdowns += 1
        if self.shutdown_error:
            raise self.shutdown_error


class OtherApp:
    def __init__(self):
        self.scopes = []

    async def __call__(self, scope, receive, send):
        self.scopes.append((scope['type'], scope.get('path')))
        if scope['type'] == 'http':
            await send({'type': 'http.response.start', 'status': 200,
                        'headers': []})
            await send({'type': 'http.response.body', 'body': b'other'})
        elif scope['type'] == 'websocket':
            await send({'type': 'websocket.close', 'code': 4000})


def run(coro):
    return asyncio.run(coro)


async def call(app, path, kind='http', method='GET', events=None,
               root_path=''):
    scope = {'type': kind, 'path': path, 'headers': [], 'query_string': b'',
             'root_path': root_path}
    if kind == 'http':
        scope['method'] = method
    incoming = list(events or [{'type': 'http.request', 'body': b'',
                                'more_body': False}])
    sent = []

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


def body(sent):
    return b''.join(m.get('body', b'') for m in sent
                    if m['type'] == 'http.response.body')


# -- engineio path ------------------------------------------------------------

@pytest.mark.parametrize('engineio_path', [
    'engine.io', '/engine.io', 'engine.io/', '/engine.io/'])
@pytest.mark.parametrize('path', ['/engine.io', '/engine.io/'])
def test_engineio_path_normalised(engineio_path, path):
    engine = FakeEngine()
    app = ASGIApp(engine, engineio_path=engineio_path)
    assert app.engineio_path == '/engine.io/'
    sent = run(call(app, path))
    assert body(sent) == b'engine'
    assert engine.requests == [path]


def test_engineio_path_is_a_segment_prefix():
    engine = FakeEngine()
    app = ASGIApp(engine, other_asgi_app=OtherApp())
    assert body(run(call(app, '/engine.iox'))) == b'other'
    assert body(run(call(app, '/engine.io/x'))) == b'engine'
    assert body(run(call(app, '/x/engine.io/'))) == b'other'


@pytest.mark.parametrize('engineio_path', ['socket.io', '/ws/socket.io'])
def test_mounted_app_matches_below_its_mount_point(engineio_path):
    # Starlette's app.mount('/ws', app) hands the full path and the mount
    # point as root_path: the Engine.IO path is matched below it too
    engine = FakeEngine()
    app = ASGIApp(engine, other_asgi_app=OtherApp(),
                  engineio_path=engineio_path)
    assert body(run(call(app, '/ws/socket.io/', root_path='/ws'))) == \
        b'engine'
    assert body(run(call(app, '/ws/socket.io', root_path='/ws'))) == \
        b'engine'
    assert body(run(call(app, '/wsx/socket.io/', root_path='/ws'))) == \
        b'other'
    assert body(run(call(app, '/ws/other/', root_path='/ws'))) == b'other'
    assert body(run(call(app, '/ws/socket.io/', root_path='/w'))) == \
        (b'engine' if engineio_path.startswith('/ws') else b'other')
    assert engine.requests[:2] == ['/ws/socket.io/', '/ws/socket.io']


def test_custom_nested_path():
    engine = FakeEngine()
    app = ASGIApp(engine, engineio_path='realtime/socket')
    assert app.engineio_path == '/realtime/socket/'
    assert body(run(call(app, '/realtime/socket/'))) == b'engine'
    assert run(call(app, '/engine.io/'))[0]['status'] == 404


def test_engineio_path_none_takes_everything():
    engine = FakeEngine()
    other = OtherApp()
    app = ASGIApp(engine, other, static_files={'/': 'x.html'},
                  engineio_path=None)
    assert body(run(call(app, '/anything'))) == b'engine'
    assert body(run(call(app, '/'))) == b'engine'
    assert other.scopes == []


def test_websocket_goes_to_engine():
    engine = FakeEngine()
    app = ASGIApp(engine)
    run(call(app, '/engine.io/', kind='websocket',
             events=[{'type': 'websocket.connect'}]))
    assert engine.requests == ['/engine.io/']


# -- fallbacks ----------------------------------------------------------------

def test_not_found_without_other_app():
    sent = run(call(ASGIApp(FakeEngine()), '/nope'))
    assert sent[0]['status'] == 404
    assert (b'content-type', b'text/plain') in sent[0]['headers']
    assert body(sent) == b'Not Found'


def test_websocket_not_found_closes():
    sent = run(call(ASGIApp(FakeEngine()), '/ws', kind='websocket',
                    events=[{'type': 'websocket.connect'}]))
    assert sent == [{'type': 'websocket.close', 'code': 1000}]


def test_other_app_gets_http_and_websocket():
    other = OtherApp()
    app = ASGIApp(FakeEngine(), other)
    assert body(run(call(app, '/api'))) == b'other'
    run(call(app, '/ws', kind='websocket'))
    assert other.scopes == [('http', '/api'), ('websocket', '/ws')]


def test_static_beats_other_app_and_missing_file_falls_through(tmp_path):
    (tmp_path / 'a.txt').write_bytes(b'hello')
    other = OtherApp()
    app = ASGIApp(FakeEngine(), other,
                  static_files={'/s': str(tmp_path)})
    assert body(run(call(app, '/s/a.txt'))) == b'hello'
    assert body(run(call(app, '/s/missing.txt'))) == b'other'
    assert body(run(call(app, '/s'))) == b'other'  # a folder, not a file
    assert other.scopes == [('http', '/s/missing.txt'), ('http', '/s')]


def test_static_only_for_get_and_head(tmp_path):
    (tmp_path / 'a.txt').write_bytes(b'hello')
    app = ASGIApp(FakeEngine(), static_files={'/s': str(tmp_path)})
    assert run(call(app, '/s/a.txt', method='POST'))[0]['status'] == 404
    head = run(call(app, '/s/a.txt', method='HEAD'))
    assert head[0]['status'] == 200
    assert (b'content-length', b'5') in head[0]['headers']
    assert body(head) == b''


def test_bad_static_files_rejected():
    with pytest.raises(ValueError):
        ASGIApp(FakeEngine(), static_files={'/': 42})


# -- serve_static_file --------------------------------------------------------

def test_serve_static_file_streams_in_chunks(tmp_path):
    data = bytes(range(256)) * (4 * 1024 + 3)  # ~1 MiB, not chunk aligned
    (tmp_path / 'big.bin').write_bytes(data)
    app = ASGIApp(FakeEngine())
    sent = []

    async def go():
        async def receive():
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)
        await app.serve_static_file(
            {'filename': str(tmp_path / 'big.bin'),
             'content_type': 'application/x-test'}, receive, send)

    run(go())
    start, chunks = sent[0], sent[1:]
    assert start['status'] == 200
    assert dict(start['headers'])[b'content-length'] == str(len(data)).encode()
    assert dict(start['headers'])[b'content-type'] == b'application/x-test'
    assert len(chunks) == -(-len(data) // asgi_module.CHUNK_SIZE)
    assert all(len(c['body']) <= asgi_module.CHUNK_SIZE for c in chunks)
    assert [c.get('more_body', False) for c in chunks] == \
        [True] * (len(chunks) - 1) + [False]
    assert body(sent) == data


def test_serve_static_file_accepts_a_filename(tmp_path):
    (tmp_path / 'x.css').write_bytes(b'a{}')
    sent = run(_serve(ASGIApp(FakeEngine()), str(tmp_path / 'x.css')))
    assert dict(sent[0]['headers'])[b'content-type'] == b'text/css'
    assert body(sent) == b'a{}'


def test_serve_static_file_missing_is_404(tmp_path):
    sent = run(_serve(ASGIApp(FakeEngine()), str(tmp_path / 'nope.txt')))
    assert sent[0]['status'] == 404


def test_serve_static_file_directory_is_404(tmp_path):
    sent = run(_serve(ASGIApp(FakeEngine()), str(tmp_path)))
    assert sent[0]['status'] == 404


def test_serve_static_file_empty(tmp_path):
    (tmp_path / 'e.txt').write_bytes(b'')
    sent = run(_serve(ASGIApp(FakeEngine()), str(tmp_path / 'e.txt')))
    assert dict(sent[0]['headers'])[b'content-length'] == b'0'
    assert body(sent) == b''


def test_serve_static_file_stops_when_client_leaves(tmp_path):
    (tmp_path / 'big.bin').write_bytes(b'x' * (20 * asgi_module.CHUNK_SIZE))
    app = ASGIApp(FakeEngine())
    sent = []

    async def go():
        gone = asyncio.Event()

        async def receive():
            await gone.wait()
            return {'type': 'http.disconnect'}

        async def send(message):
            sent.append(message)
            if len(sent) == 3:
                gone.set()
            await asyncio.sleep(0)
        await app.serve_static_file(str(tmp_path / 'big.bin'), receive, send)

    run(go())
    assert 3 <= len(sent) < 10


async def _serve(app, static_file):
    sent = []

    async def receive():
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message):
        sent.append(message)
    await app.serve_static_file(static_file, receive, send)
    return sent


# -- lifespan -----------------------------------------------------------------

async def lifespan(app, events=('lifespan.startup', 'lifespan.shutdown')):
    queue = [{'type': e} for e in events]
    sent = []

    async def receive():
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message['type'])

    await asyncio.wait_for(app({'type': 'lifespan'}, receive, send), 5)
    return sent


def test_lifespan_sync_and_async_hooks():
    calls = []

    async def start():
        calls.append('start')

    engine = FakeEngine()
    app = ASGIApp(engine, on_startup=start,
                  on_shutdown=lambda: calls.append('stop'))
    assert run(lifespan(app)) == ['lifespan.startup.complete',
                                  'lifespan.shutdown.complete']
    assert calls == ['start', 'stop']
    assert engine.shutdowns == 1


def test_lifespan_without_hooks_or_engine_shutdown():
    app = ASGIApp(FakeEngine(has_shutdown=False))
    assert run(lifespan(app)) == ['lifespan.startup.complete',
                                  'lifespan.shutdown.complete']


@pytest.mark.parametrize('asynchronous', [False, True])
def test_lifespan_startup_failure(asynchronous):
    def boom():
        raise RuntimeError('boom')

    async def aboom():
        boom()

    app = ASGIApp(FakeEngine(), on_startup=aboom if asynchronous else boom)
    assert run(lifespan(app)) == ['lifespan.startup.failed']


def test_lifespan_shutdown_failure():
    def boom():
        raise RuntimeError('boom')
    engine = FakeEngine()
    app = ASGIApp(engine, on_shutdown=boom)
    assert run(lifespan(app)) == ['lifespan.startup.complete',
                                  'lifespan.shutdown.failed']
    assert engine.shutdowns == 1  # the server is still shut down


def test_lifespan_engine_shutdown_failure():
    app = ASGIApp(FakeEngine(shutdown_error=RuntimeError('x')))
    assert run(lifespan(app)) == ['lifespan.startup.complete',
                                  'lifespan.shutdown.failed']


class LifespanApp:
    """An inner app speaking the lifespan protocol, recording its steps."""

    def __init__(self, log, fail_startup=False):
        self.log = log
        self.fail_startup = fail_startup

    async def __call__(self, scope, receive, send):
        assert scope['type'] == 'lifespan'
        while True:
            event = await receive()
            if event['type'] == 'lifespan.startup':
                if self.fail_startup:
                    await send({'type': 'lifespan.startup.failed'})
                    return
                self.log.append('inner start')
                await send({'type': 'lifespan.startup.complete'})
            else:
                self.log.append('inner stop')
                await send({'type': 'lifespan.shutdown.complete'})
                return


def test_lifespan_with_other_app_runs_both():
    log = []
    engine = FakeEngine()
    app = ASGIApp(engine, LifespanApp(log),
                  on_startup=lambda: log.append('start'),
                  on_shutdown=lambda: log.append('stop'))
    assert run(lifespan(app)) == ['lifespan.startup.complete',
                                  'lifespan.shutdown.complete']
    assert log == ['inner start', 'start', 'stop', 'inner stop']
    assert engine.shutdowns == 1


def test_lifespan_with_other_app_and_failing_hook():
    log = []

    def boom():
        raise RuntimeError('boom')
    app = ASGIApp(FakeEngine(), LifespanApp(log), on_startup=boom)
    assert run(lifespan(app, ['lifespan.startup'])) == \
        ['lifespan.startup.failed']


def test_lifespan_inner_startup_failure_is_forwarded():
    log = []
    app = ASGIApp(FakeEngine(), LifespanApp(log, fail_startup=True),
                  on_startup=lambda: log.append('start'))
    assert run(lifespan(app, ['lifespan.startup'])) == \
        ['lifespan.startup.failed']
    assert log == []


@pytest.mark.parametrize('consume_first', [False, True])
def test_lifespan_with_other_app_that_rejects_lifespan(consume_first):
    log = []

    async def http_only(scope, receive, send):
        if consume_first:
            await receive()
        raise AssertionError('http only')

    async def returns_quietly(scope, receive, send):
        if consume_first:
            await receive()

    for inner in (http_only, returns_quietly):
        log.clear()
        app = ASGIApp(FakeEngine(), inner,
                      on_startup=lambda: log.append('start'),
                      on_shutdown=lambda: log.append('stop'))
        assert run(lifespan(app)) == ['lifespan.startup.complete',
                                      'lifespan.shutdown.complete']
        assert log == ['start', 'stop']
