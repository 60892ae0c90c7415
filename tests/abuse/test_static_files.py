"""Static files under attack, on every server mode that serves them: the
built-in server and uvicorn (ASGIApp) and the WSGI servers (WSGIApp).

Each request is sent byte for byte as written (no client normalisation);
the answer to every attempt to leave the static folder is a 404 whose body
holds nothing of the files outside, and the server goes on serving.
"""

import os

import pytest

import engineio_fast
from tests.support import BuiltinServer, LiveServer
from tests.sync.servers import ServerProcess, kind_unavailable

from .servers import once
from .static_rules import rules

pytestmark = pytest.mark.timeout(120)

# (request target, what an attacker wants): each must be a 404 without it
ATTEMPTS = [
    '/static/../secret.txt',
    '/static/css/../../secret.txt',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E/secret.txt',
    '/static/..%2fsecret.txt',
    '/static/%2e%2e%2fsecret.txt',
    '/static/%252e%252e/secret.txt',
    '/static/%25252e%25252e/secret.txt',
    '/static/..%5csecret.txt',
    '/static/..\\secret.txt',
    '/static/%2e%2e%5csecret.txt',
    '/static//ROOT/secret.txt',
    '/static/%2FROOT/secret.txt',
    '/static/secret.txt%00.html',
    '/static/leak.txt',          # a link in the folder to the secret file
    '/static/rel-leak.txt',      # the same, a relative link
    '/static/priv/key.txt',      # a link in the folder to a folder outside
    '/static/priv/',             # ... and its index.html
    '/static/css/',              # an index.html that is a link outside
    '/static/css',
    '/static/./page.html/..%2f..%2fsecret.txt',
]


def make_site(base):
    """public/ (served), with links out of it; secret files beside it."""
    public = base / 'public'
    (public / 'css').mkdir(parents=True)
    (public / 'page.html').write_bytes(b'<h1>page</h1>')
    (public / 'css' / 'style.css').write_bytes(b'body{}')
    (base / 'secret.txt').write_bytes(b'TOP SECRET')
    (base / 'private').mkdir()
    (base / 'private' / 'key.txt').write_bytes(b'PRIVATE KEY')
    (base / 'private' / 'index.html').write_bytes(b'PRIVATE INDEX')
    os.symlink(base / 'secret.txt', public / 'leak.txt')
    os.symlink('../secret.txt', public / 'rel-leak.txt')
    os.symlink(base / 'private', public / 'priv')
    os.symlink(base / 'private' / 'index.html', public / 'css' / 'index.html')
    os.symlink(public / 'css' / 'style.css', public / 'alias.css')
    return public


def request(port, target, method='GET'):
    """(status, body) of one request sent exactly as written; the body is
    read to its Content-Length (some servers keep the connection open
    after it), or to the close without one."""
    r = once(port, method, target, head_only=method == 'HEAD')
    return r.status, r.body


@pytest.fixture
def serve_site(mode, tmp_path):
    """serve_site(follow) -> a server of the mode serving make_site's
    folder."""
    started = []
    stops = []

    def start(follow=False):
        public = str(make_site(tmp_path / ('f' if follow else 'n')))
        if mode in ('builtin', 'uvicorn'):
            app = engineio_fast.ASGIApp(engineio_fast.AsyncServer(),
                                        static_files=rules(public, follow))
            runner = BuiltinServer if mode == 'builtin' \
                else LiveServer
            server = runner(app)
            stops.append(server.stop)
            return server.start()
        reason = kind_unavailable(mode)
        if reason:
            pytest.fail(reason)
        proc = ServerProcess(mode, app='tests.abuse.static_app:app',
                             env={'STATIC_ROOT': public,
                                  'STATIC_FOLLOW': '1' if follow else '0'})
        proc.__enter__()
        started.append(proc)
        return proc

    yield start
    for stop in stops:
        stop()
    for proc in started:
        proc.__exit__(None, None, None)


def test_escapes_are_404_and_the_server_goes_on(serve_site, tmp_path):
    server = serve_site()
    secrets = (b'SECRET', b'PRIVATE')
    root = str(tmp_path / 'n').lstrip('/')
    for target in ATTEMPTS:
        status, body = request(server.port, target.replace('ROOT', root))
        assert status in (400, 404), (target, status, body[:80])
        assert not any(s in body for s in secrets), (target, body[:80])
    # what is in the folder is still served, links inside it included
    assert request(server.port, '/static/page.html') == (200,
                                                         b'<h1>page</h1>')
    assert request(server.port, '/static/alias.css') == (200, b'body{}')
    assert request(server.port, '/static/css/style.css') == (200, b'body{}')
    assert request(server.port, '/') == (200, b'<h1>page</h1>')
    status, body = request(server.port, '/static/page.html', 'HEAD')
    assert (status, body) == (200, b'')


def test_links_followed_when_the_rule_says_so(serve_site):
    server = serve_site(follow=True)
    assert request(server.port, '/static/leak.txt') == (200, b'TOP SECRET')
    assert request(server.port, '/static/priv/key.txt') == (200,
                                                            b'PRIVATE KEY')
    # opting in to links is not opting in to traversal
    for target in ATTEMPTS[:14]:
        status, body = request(server.port, target.replace('ROOT', 'x'))
        assert status in (400, 404) and b'SECRET' not in body, target
