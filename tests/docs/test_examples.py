"""Every code sample of the documentation, run for real.

Each example of docs/examples/ starts as its page says (``python X.py`` or
``bash X.sh``, from that folder) on its real server, on a free 127.0.0.1
port, and a real client connects, sends and gets the answer: engineio_fast's
Client over polling with the upgrade and over websocket alone, a raw
Socket.IO client for the python-socketio examples, the client examples
themselves against the echo server. ``EXAMPLE_FILES`` below names the files
each test runs; tests/docs/test_pages.py checks that together they are every
file in docs/examples/ (no untested sample) and that the pages include each.
"""

import json
import time

import pytest

import engineio_fast

from ..support import make_cert
from .examples_runner import (
    EchoClient,
    ExampleProcess,
    assert_echo,
    assert_socketio,
    open_socketio,
    run_client,
)

pytestmark = pytest.mark.timeout(120)

# the examples served as they are, answering an echo on `path`; `get` is a
# plain HTTP route of the framework beside it and what its body contains
SERVED = {
    'echo_app.py': {},
    'builtin_cli.sh': {},
    'uvicorn.sh': {},
    'workers.sh': {},
    'migrate_app.py': {},
    'fastapi_app.py': {'path': 'ws/engine.io', 'get': ('/hello', 'world')},
    'flask_app.py': {'get': ('/hello', 'hello from Flask')},
    'gunicorn.sh': {'get': ('/hello', 'hello from Flask')},
    'django.sh': {'get': ('/hello', 'hello from Django')},
    'eventlet_app.py': {},
    'gevent_app.py': {},
    'uwsgi.sh': {},
    'aiohttp_app.py': {},
    'sanic_app.py': {},
    'tornado_app.py': {},
    # the exposition after the echoes: their handshakes were counted
    'metrics_cli.sh': {'get': ('/metrics',
                               'engineio_handshakes_total{transport="polling"}')},
    'metrics_app.py': {'get': ('/metrics',
                               'engineio_handshakes_total{transport="polling"}')},
}

# every docs/examples/ file each test runs (the commands and what they load)
EXAMPLE_FILES = {
    'test_served': set(SERVED) | {
        'echo_app.py', 'flask_app.py', 'uwsgi_app.py',
        'django_project/__init__.py', 'django_project/settings.py',
        'django_project/urls.py', 'django_project/wsgi.py'},
    'test_workers_serve_together': {'workers.sh', 'echo_app.py'},
    'test_tls': {'tls.sh', 'echo_app.py'},
    'test_clients': {'client.py', 'async_client.py', 'echo_app.py'},
    'test_socketio': {'socketio_app.py', 'socketio_cli.sh',
                      'socketio_accel_app.py', 'flask_socketio_app.py'},
    'test_redis_hosts': {'redis.sh', 'redis_app.py'},
    'test_redis_workers': {'redis_workers.sh', 'redis_app.py'},
    'test_socketio_workers': {'socketio_workers.sh',
                              'socketio_redis_app.py'},
}


@pytest.fixture
def serve(tmp_path):
    """``serve(example, **kw)``: the example started, stopped at teardown
    (its output shown when the test failed)."""
    started = []

    def start(example, **kwargs):
        server = ExampleProcess(example, tmp_path, **kwargs)
        started.append(server)
        return server.start()

    start.started = started     # for tests/docs/conftest.py's report
    yield start
    for server in reversed(started):
        server.stop()


@pytest.mark.parametrize('example', sorted(SERVED))
def test_served(serve, example):
    check = SERVED[example]
    server = serve(example)
    path = check.get('path', 'engine.io')
    assert assert_echo(server.url, path=path) == 'websocket'
    assert assert_echo(server.url, transports=['polling'],
                       path=path) == 'polling'
    assert assert_echo(server.url, transports=['websocket'],
                       path=path) == 'websocket'
    if 'get' in check:
        route, expected = check['get']
        status, body = server.http_get(route)
        assert status == 200 and expected in body.decode(), body
    if 'kernels)' in server.output():
        # the engineio-fast command says which kernels it runs: this
        # run's (ENGINEIO_FAST_NO_EXTENSIONS reaches the example)
        assert '(%s kernels)' % engineio_fast.IMPLEMENTATION \
            in server.output()


def test_workers_serve_together(serve):
    """workers.sh's two workers both hold sessions (handshakes go to them
    in turn), and each session echoes whichever connection it uses."""
    server = serve('workers.sh')
    clients = []
    try:
        clients = [EchoClient(server.url, transports=['polling'])
                   for _ in range(4)]
        assert len({c.client.sid[:6] for c in clients}) == 2
        for i, c in enumerate(clients):
            c.send('from %d' % i)
            assert c.next() == 'from %d' % i
    finally:
        for c in clients:
            c.close()


def test_tls(serve, tmp_path):
    certfile, keyfile = make_cert(tmp_path)
    server = serve('tls.sh', tls=True,
                   env={'CERTFILE': certfile, 'KEYFILE': keyfile})
    assert server.url.startswith('https://')
    assert assert_echo(server.url, ssl_verify=False) == 'websocket'
    assert assert_echo(server.url, transports=['websocket'],
                       ssl_verify=False) == 'websocket'


def test_clients(serve, tmp_path):
    server = serve('echo_app.py')
    out = run_client('client.py', server.url, tmp_path)
    assert 'connected over' in out and 'got hello' in out, out
    out = run_client('async_client.py', server.url, tmp_path)
    assert 'got hello' in out, out


@pytest.mark.parametrize('example', ['socketio_app.py', 'socketio_cli.sh',
                                     'socketio_accel_app.py',
                                     'flask_socketio_app.py'])
def test_socketio(serve, example):
    server = serve(example)
    assert_socketio(server.url)


@pytest.fixture
def redis_url(tmp_path):
    from ..cluster_redis.redis_proc import RedisServer, available
    if not available():
        pytest.fail('redis-server is not installed (apt-get install '
                    'redis-server): the Redis examples need it')
    (tmp_path / 'redis').mkdir()
    srv = RedisServer(tmp_path / 'redis')
    srv.start()
    yield srv.url
    srv.stop()


def _until_received(sender, receiver, text, seconds=20.0):
    """Send ``text`` again every half second until ``receiver`` gets it
    (a new process's Redis reader may start after the first send)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sender.send(text)
        try:
            while True:
                got = receiver.next(timeout=0.5)
                if got == text:
                    return
        except AssertionError:
            continue
    raise AssertionError('%r never arrived in %.0f s' % (text, seconds))


def test_redis_hosts(serve, redis_url):
    """Two processes of redis.sh sharing one Redis: a message sent to one
    reaches a client of the other."""
    a = serve('redis.sh', env={'REDIS_URL': redis_url})
    b = serve('redis.sh', env={'REDIS_URL': redis_url})
    with EchoClient(a.url) as ca, EchoClient(b.url) as cb:
        _until_received(ca, cb, 'across hosts')
        _until_received(cb, ca, 'and back')


def test_redis_workers(serve, redis_url):
    """uvicorn --workers 2, no sticky balancer: a polling session works
    whichever worker each request reaches."""
    server = serve('redis_workers.sh', env={'REDIS_URL': redis_url})
    with EchoClient(server.url, transports=['polling']) as c:
        for i in range(10):
            c.send('poll %d' % i)
            assert c.next() == 'poll %d' % i


def test_socketio_workers(serve, redis_url):
    """python-socketio with its Redis manager on two built-in workers:
    acks, and an emit to everyone reaching a client of each worker."""
    server = serve('socketio_workers.sh',
                   env={'REDIS_URL': redis_url, 'WORKERS': '2'})
    clients = []
    try:
        # handshakes go to the workers in turn: both hold clients
        clients = [open_socketio(server.url) for _ in range(4)]
        # every Engine.IO sid starts with its worker's 6-character node id
        workers = {c.client.sid[:6] for c in clients}
        assert len(workers) == 2, workers
        clients[0].send('2["chat","to everyone"]')
        for c in clients:
            got = c.next()
            assert json.loads(got[1:]) == ['chat', 'to everyone'], got
    finally:
        for c in clients:
            c.close()
