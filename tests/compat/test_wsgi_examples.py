"""Every example of the WSGI middleware reference page, run as written, and
the WSGI parts of the user guide (WSGIApp as a middleware, static files,
routing precedence, the deprecated Middleware alias).

The examples live in tests/compat/wsgi_examples/, verbatim except the
import line (``import engineio_fast as engineio``); snippets that assume an
existing ``eio`` or leave out their imports carry a short, marked harness
preamble, and the Django example loads a tiny harness project
(wsgi_examples/django_project/). Each example is loaded as a fresh module
(its ``if __name__ == '__main__'`` part never runs) and its WSGI app is
served by a real Werkzeug server in threading mode on 127.0.0.1; clients
are httpx (polling, plain HTTP) and websockets' sync client.

Every test runs twice:

* ``engineio_fast`` -- the product.
* ``python-engineio`` -- the same example with ``import engineio``, to show
  the expectations below are python-engineio's behaviour, not guesses.

Where an example does not work as the page implies, the test asserts what
python-engineio actually does and says why in a comment.

``engineio.Server()`` picks eventlet, then gevent, then threading, whichever
imports first (user guide, "Standard Threads"). Eventlet/gevent modes need
their own monkey-patched servers, so these tests make eventlet, gevent and
uwsgi unimportable, as on a machine without them: every ``Server()`` here
then runs in threading mode whatever else is installed. python-engineio's
threading mode serves websockets through the simple-websocket package.
"""

import contextlib
import json
import os
import pathlib
import sys
import threading
import time
import types
import warnings

import httpx
import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import InvalidStatus
from werkzeug.serving import WSGIRequestHandler, make_server

HERE = pathlib.Path(__file__).parent
EXAMPLES = HERE / 'wsgi_examples'
OUR_IMPORT = 'import engineio_fast as engineio\n'
TIMEOUT = 5.0

pytestmark = pytest.mark.timeout(60)

# what "eventlet and gevent are not installed" means for the imports
GREEN_MODULES = ['eventlet', 'gevent', 'uwsgi',
                 'engineio.async_drivers.eventlet',
                 'engineio.async_drivers.gevent',
                 'engineio.async_drivers.gevent_uwsgi']


@pytest.fixture(autouse=True)
def no_green_threads(monkeypatch):
    for name in GREEN_MODULES:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.fixture(params=['engineio_fast', 'python-engineio'])
def impl(request):
    return request.param


@pytest.fixture
def eio_mod(impl):
    """The package under test, as the examples name it: ``engineio``."""
    if impl == 'python-engineio':
        import engineio
        return engineio
    import engineio_fast
    return engineio_fast


@pytest.fixture
def load(impl):
    """``load(name)`` executes wsgi_examples/<name>.py as a new module.

    With ``raises=SomeError`` the example must fail with that error; the
    partly executed module (whatever ran before the error) is returned."""
    loaded = []

    def loader(name, raises=None):
        path = EXAMPLES / f'{name}.py'
        source = path.read_text()
        assert source.count(OUR_IMPORT) == 1, 'import line changed?'
        if impl == 'python-engineio':
            source = source.replace(OUR_IMPORT, 'import engineio\n')
        module = types.ModuleType(f'wsgi_example_{name}')
        module.__file__ = str(path)
        sys.modules[module.__name__] = module  # Flask(__name__) needs it
        loaded.append(module)
        code = compile(source, str(path), 'exec')
        if raises is None:
            exec(code, module.__dict__)
        else:
            with pytest.raises(raises) as info:
                exec(code, module.__dict__)
            module.error = info.value
        return module
    yield loader
    for module in loaded:
        for value in list(vars(module).values()):
            if hasattr(value, 'handle_request') and \
                    hasattr(value, 'shutdown'):  # an Engine.IO Server
                with contextlib.suppress(Exception):
                    value.shutdown()
    for name in [n for n in sys.modules if n.startswith('wsgi_example_')]:
        del sys.modules[name]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class WSGILiveServer:
    """A WSGI app under Werkzeug's threaded server on 127.0.0.1:0."""

    def __init__(self, app):
        self.server = make_server('127.0.0.1', 0, app, threaded=True,
                                  request_handler=QuietHandler)
        self.port = self.server.server_port
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={'poll_interval': 0.05},
                                       daemon=True,
                                       name='werkzeug-%d' % self.port)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), 'werkzeug did not stop'


@pytest.fixture
def serve():
    servers = []

    def start(app):
        server = WSGILiveServer(app)
        servers.append(server)
        return server
    yield start
    for server in reversed(servers):
        server.stop()


def client(server):
    return httpx.Client(base_url=server.url, timeout=TIMEOUT)


def handshake(http, path='/engine.io/', query='', headers=None):
    r = http.get(f'{path}?EIO=4&transport=polling{query}', headers=headers)
    assert r.status_code == 200, r.text
    assert r.text.startswith('0{'), r.text
    return json.loads(r.text[1:])['sid']


def send_and_poll(http, sid, text, path='/engine.io/'):
    url = f'{path}?EIO=4&transport=polling&sid={sid}'
    r = http.post(url, content=('4' + text).encode())
    assert (r.status_code, r.text.lower()) == (200, 'ok')
    return http.get(url).text


@contextlib.contextmanager
def ws_open(server, path='/engine.io/', query=''):
    """An Engine.IO websocket connection; yields (ws, sid).

    python-engineio (threading mode, simple-websocket) under Werkzeug
    answers the client's close frame but leaves the TCP connection open,
    so the client would wait its whole close_timeout: keep that short."""
    with ws_client.connect(
            f'{server.ws_url}{path}?EIO=4&transport=websocket{query}',
            open_timeout=TIMEOUT, close_timeout=0.2) as ws:
        opening = ws.recv(TIMEOUT)
        assert opening.startswith('0{'), opening
        yield ws, json.loads(opening[1:])['sid']


def wait_for(predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Output:
    """Accumulates what capsys captured (prints from server threads)."""

    def __init__(self, capsys):
        self.capsys = capsys
        self.text = ''

    def __contains__(self, needle):
        self.text += self.capsys.readouterr().out
        return needle in self.text


# -- the examples of the WSGI middleware page ---------------------------------

def test_flask_integration(load, serve, capsys):
    ex = load('flask_integration')
    server = serve(ex.app)
    out = Output(capsys)
    with client(server) as http:
        r = http.get('/')
        assert (r.status_code, r.text) == (200, '<h1>Hello World!</h1>')
        assert http.get('/api/data').json() == {
            'message': 'Hello from Flask!'}
        sid = handshake(http)
        assert send_and_poll(http, sid, 'hi') == '4Echo: hi'
        # anything else is Flask's (HTML) 404, not the wrapper's plain one
        r = http.get('/missing')
        assert r.status_code == 404
        assert r.headers['content-type'].startswith('text/html')
    assert f'Client {sid} connected' in out
    assert f'Message from {sid}: hi' in out
    with ws_open(server) as (ws, ws_sid):
        ws.send('4yo')
        assert ws.recv(TIMEOUT) == '4Echo: yo'
    assert wait_for(lambda: f'Client {ws_sid} disconnected' in out)


def test_django_integration(load, serve, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the example's django_project
    # let the example's os.environ.setdefault() decide, and undo it after
    monkeypatch.setenv('DJANGO_SETTINGS_MODULE', 'unset')
    monkeypatch.delenv('DJANGO_SETTINGS_MODULE')
    ex = load('django_integration')
    assert os.environ['DJANGO_SETTINGS_MODULE'] == 'django_project.settings'
    server = serve(ex.application)
    with client(server) as http:
        r = http.get('/')
        assert (r.status_code, r.text) == (200, '<h1>Hello Django!</h1>')
        r = http.post('/api/data')
        assert r.json() == {'message': 'Hello from Django!', 'method': 'POST'}
        sid = handshake(http)
        assert send_and_poll(http, sid, 'hi') == '4Django says: hi'
        r = http.get('/missing')  # Django's own 404 page
        assert r.status_code == 404
        assert '<h1>Not Found</h1>' in r.text
    with ws_open(server) as (ws, _):
        ws.send('4yo')
        assert ws.recv(TIMEOUT) == '4Django says: yo'


def test_standalone(load, serve, capsys):
    ex = load('standalone')
    server = serve(ex.app)
    with client(server) as http:
        sid = handshake(http)
        assert send_and_poll(http, sid, 'shout') == '4SHOUT'
        for path in ('/', '/index.html', '/engine.io'):  # no trailing slash
            r = http.get(path)
            assert (r.status_code, r.text) == (404, 'Not Found'), path
            assert r.headers['content-type'] == 'text/plain'
    assert f'Client {sid} connected' in Output(capsys)
    with ws_open(server) as (ws, _):
        ws.send('4abc')
        assert ws.recv(TIMEOUT) == '4ABC'


def test_static_file_serving(load, serve, tmp_path, monkeypatch):
    (tmp_path / 'index.html').write_bytes(b'<h1>home</h1>')
    (tmp_path / 'static').mkdir()
    (tmp_path / 'static' / 'app.js').write_bytes(b'1;')
    (tmp_path / 'static' / '\\1').write_bytes(b'literal')
    (tmp_path / 'assets' / 'images').mkdir(parents=True)
    (tmp_path / 'assets' / 'images' / 'a.png').write_bytes(b'PNG')
    monkeypatch.chdir(tmp_path)  # "served relative to the current directory"
    ex = load('static_file_serving')
    server = serve(ex.app)
    with client(server) as http:
        r = http.get('/')
        assert (r.status_code, r.content) == (200, b'<h1>home</h1>')
        assert r.headers['content-type'] == 'text/html'
        # The page says keys "can include regex groups" and values "can
        # reference regex groups with \1": python-engineio has no regex
        # rules. Keys are literal URLs or directory prefixes, so the
        # documented rules serve nothing under /static/ or /images/ (the
        # '/' rule catches them as a prefix and maps them to a missing
        # 'index.html/static/app.js'): 404. The documented directory form
        # '/static': 'static' would be the working one.
        assert http.get('/static/app.js').status_code == 404
        assert http.get('/images/a.png').status_code == 404
        # ... while the literal URL '/static/(.*)' serves the literal file
        # 'static/\1'.
        r = http.get('/static/(.*)')
        assert (r.status_code, r.content) == (200, b'literal')
        assert r.headers['content-type'] == 'application/octet-stream'
        # Engine.IO traffic is untouched by the catch-all '/' rule
        handshake(http)


def test_custom_path(load, serve):
    ex = load('custom_path')
    server = serve(ex.app)
    with client(server) as http:
        handshake(http, '/custom/socket.io/')
        for path in ('/engine.io/', '/custom/socket.io'):
            r = http.get(f'{path}?EIO=4&transport=polling')
            assert (r.status_code, r.text) == (404, 'Not Found'), path
    with ws_open(server, '/custom/socket.io/'):
        pass


def test_multiple_servers(load, serve):
    # Werkzeug moved DispatcherMiddleware to werkzeug.middleware.dispatcher
    # in 0.15 and removed the werkzeug.wsgi alias in 1.0: the example's
    # import fails (with python-engineio just the same), after the two
    # Engine.IO apps were built.
    ex = load('multiple_servers', raises=ImportError)
    assert 'DispatcherMiddleware' in str(ex.error)
    assert not hasattr(ex, 'application')
    # The two WSGIApps themselves work, each on its own path:
    for app, path, prefix in [(ex.chat_app, '/chat/', 'Chat'),
                              (ex.notifications_app, '/notifications/',
                               'Notification')]:
        server = serve(app)
        with client(server) as http:
            sid = handshake(http, path)
            assert send_and_poll(http, sid, 'x', path) == f'4{prefix}: x'
        with ws_open(server, path) as (ws, _):
            ws.send('4y')
            assert ws.recv(TIMEOUT) == f'4{prefix}: y'
    # With the import fixed, the documented mapping still does not give
    # '/chat/' to the chat server: DispatcherMiddleware moves the mount
    # point to SCRIPT_NAME, and WSGIApp matches engineio_path against
    # PATH_INFO only, so clients would have to use /chat/chat/; and the
    # None default app makes every other URL a 500.
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    application = DispatcherMiddleware(None, {
        '/chat': ex.chat_app,
        '/notifications': ex.notifications_app,
    })
    server = serve(application)
    with client(server) as http:
        r = http.get('/chat/?EIO=4&transport=polling')
        assert (r.status_code, r.text) == (404, 'Not Found')
        sid = handshake(http, '/chat/chat/')
        assert send_and_poll(http, sid, 'm', '/chat/chat/') == '4Chat: m'
        sid = handshake(http, '/notifications/notifications/')
        assert send_and_poll(http, sid, 'n', '/notifications/notifications/'
                             ) == '4Notification: n'
        assert http.get('/elsewhere').status_code == 500
    with ws_open(server, '/chat/chat/') as (ws, _):
        ws.send('4w')
        assert ws.recv(TIMEOUT) == '4Chat: w'


def test_environ_access(load, serve, capsys):
    ex = load('environ_access')
    server = serve(ex.app)
    with client(server) as http:
        sid = handshake(http, query='&token=abc')
    session = ex.eio.get_session(sid)
    assert session['remote_addr'] == '127.0.0.1'
    assert session['user_agent'].startswith('python-httpx/')
    assert session['params'] == {'EIO': ['4'], 'transport': ['polling'],
                                 'token': ['abc']}
    out = Output(capsys)
    assert f'Client {sid} connected from 127.0.0.1' in out
    assert 'User-Agent: python-httpx/' in out
    with ws_open(server, query='&room=7') as (ws, ws_sid):
        session = ex.eio.get_session(ws_sid)
        assert session['remote_addr'] == '127.0.0.1'
        assert session['user_agent'].startswith('Python/')  # websockets
        assert session['params'] == {'EIO': ['4'], 'transport': ['websocket'],
                                     'room': ['7']}


def test_production_deployment(load):
    # Server(async_mode='eventlet') needs eventlet; without it (see the
    # module docstring) python-engineio raises ValueError('Invalid
    # async_mode specified') before the Flask app is wrapped. Serving it
    # for real takes gunicorn's eventlet worker, as its comment says.
    ex = load('production_deployment', raises=ValueError)
    assert 'Invalid async_mode specified' in str(ex.error)
    assert type(ex.app).__name__ == 'Flask'  # not wrapped yet


def test_threading_considerations(load, serve):
    ex = load('threading_considerations')
    assert ex.eio.async_mode == 'threading'
    server = serve(ex.app)
    with client(server) as http:
        sid = handshake(http)
        url = f'/engine.io/?EIO=4&transport=polling&sid={sid}'
        start = time.monotonic()
        r = http.post(url, content=b'4slow')
        assert (r.status_code, r.text.lower()) == (200, 'ok')
        # the handler sleeps in its own thread: other requests go on
        handshake(http)
        assert time.monotonic() - start < 0.9
        assert http.get(url).text == '4Response after delay'
        assert time.monotonic() - start >= 0.95
    with ws_open(server) as (ws, _):
        ws.send('4x')
        assert ws.recv(TIMEOUT) == '4Response after delay'


def test_eventlet_integration(load):
    # Never run for real: at import it monkey-patches the whole process and
    # then serves forever on 0.0.0.0:5000 (the last line is not under
    # `if __name__ == '__main__'`). With eventlet unimportable (module
    # docstring) its first line fails and nothing else runs.
    assert sys.modules['eventlet'] is None
    ex = load('eventlet_integration', raises=ImportError)
    assert not hasattr(ex, 'eio')


def test_custom_error_app(load, serve, impl):
    ex = load('custom_error_app')
    server = serve(ex.app)
    with client(server) as http:
        for method, path in [('GET', '/'), ('POST', '/anything/else'),
                             ('GET', '/engine.io')]:
            r = http.request(method, path)
            assert (r.status_code, r.text) == (200, 'Custom response')
            assert r.headers['content-type'] == 'text/plain'
        sid = handshake(http)
        assert sid
        # "Invalid Engine.IO requests: returns appropriate HTTP error
        # responses" -- they never reach the fallback app:
        r = http.get('/engine.io/?EIO=4&transport=polling&sid=nope')
        if impl == 'python-engineio':
            assert (r.status_code, r.json()) == (400, 'Invalid session nope')
        else:
            # engineio_fast answers with the JavaScript server's error body
            # (PROTOCOL.md, "Handshake")
            assert (r.status_code, r.json()) == (
                400, {'code': 1, 'message': 'Session ID unknown'})
        r = http.get('/engine.io/?EIO=3&transport=polling')
        assert r.status_code == 400
        r = http.get('/engine.io/')
        assert r.status_code == 400


def test_middleware_deprecated_alias(eio_mod, serve):
    def fallback(environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'fallback ' + environ['PATH_INFO'].encode()]

    eio = eio_mod.Server()

    @eio.on('message')
    def echo(sid, data):
        eio.send(sid, 'mw: ' + data)

    with warnings.catch_warnings():
        warnings.simplefilter('error')  # python-engineio does not warn
        app = eio_mod.Middleware(eio, fallback, engineio_path='mw')
    assert isinstance(app, eio_mod.WSGIApp)
    # "The static_files parameter is not supported in this deprecated class"
    with pytest.raises(TypeError):
        eio_mod.Middleware(eio, fallback, static_files={'/': 'x.html'})
    assert eio_mod.Middleware(eio).wsgi_app is None
    server = serve(app)
    with client(server) as http:
        sid = handshake(http, '/mw/')
        assert send_and_poll(http, sid, 'a', '/mw/') == '4mw: a'
        assert http.get('/x').text == 'fallback /x'
        assert http.get('/engine.io/').text == 'fallback /engine.io/'
    with ws_open(server, '/mw/') as (ws, _):
        ws.send('4b')
        assert ws.recv(TIMEOUT) == '4mw: b'
    eio.shutdown()


def test_wsgiapp_api(eio_mod):
    """The class reference: constructor arguments (positional order as
    documented), the WSGI callable and not_found(), called directly."""
    eio = eio_mod.Server()

    def fallback(environ, start_response):
        start_response('202 Accepted', [])
        return [b'fb']

    app = eio_mod.WSGIApp(eio, fallback, {'/': 'nowhere.html'},
                          'custom/socket.io')
    # attributes python-socketio's WSGIApp subclass builds on
    assert app.engineio_app is eio
    assert app.wsgi_app is fallback
    assert app.engineio_path == '/custom/socket.io/'
    assert eio_mod.WSGIApp(eio, engineio_path='/x/').engineio_path == '/x/'

    calls = []

    def start_response(status, headers, exc_info=None):
        calls.append((status, headers))

    assert app.not_found(start_response) == [b'Not Found']
    status, headers = calls.pop()
    assert status == '404 Not Found'
    assert ('Content-Type', 'text/plain') in headers  # the only one here
    environ = {'PATH_INFO': '/nowhere.html', 'REQUEST_METHOD': 'GET',
               'QUERY_STRING': ''}
    assert list(app(environ, start_response)) == [b'fb']  # file missing
    assert calls.pop() == ('202 Accepted', [])
    assert list(eio_mod.WSGIApp(eio)(environ, start_response)) == \
        [b'Not Found']
    assert calls.pop()[0] == '404 Not Found'
    eio.shutdown()


# -- the WSGI parts of the user guide -----------------------------------------

def test_guide_threading_flask(load, serve):
    """User guide, "Standard Threads": Flask's wsgi_app wrapped in place;
    the "... handler functions ..." are filled in here (test-only), with a
    connect handler that rejects (guide, "Defining Event Handlers")."""
    ex = load('guide_threading_flask')
    assert ex.eio.async_mode == 'threading'

    @ex.app.route('/hello')
    def hello():
        return 'Hello from Flask'

    @ex.eio.on('connect')
    def connect(sid, environ):
        query = environ['QUERY_STRING']
        if 'deny=1' in query:
            return False
        if 'deny=2' in query:
            return {'reason': 'nope'}  # JSON data rejects too

    @ex.eio.on('message')
    def message(sid, data):
        ex.eio.send(sid, 'reply')

    server = serve(ex.app)
    with client(server) as http:
        assert http.get('/hello').text == 'Hello from Flask'
        assert http.get('/missing').status_code == 404  # Flask's
        sid = handshake(http)
        assert send_and_poll(http, sid, 'x') == '4reply'
        r = http.get('/engine.io/?EIO=4&transport=polling&deny=1')
        assert (r.status_code, r.json()) == (401, 'Unauthorized')
        r = http.get('/engine.io/?EIO=4&transport=polling&deny=2')
        assert (r.status_code, r.json()) == (401, {'reason': 'nope'})
    with pytest.raises(InvalidStatus) as info:
        with ws_open(server, query='&deny=1'):
            pass
    assert info.value.response.status_code == 401
    with ws_open(server) as (ws, _):
        ws.send('4y')
        assert ws.recv(TIMEOUT) == '4reply'


def test_guide_routing_precedence(eio_mod, serve, tmp_path, monkeypatch):
    """Engine.IO path first, then static files, then the wsgi_app, else the
    404 of not_found()."""
    (tmp_path / 'index.html').write_bytes(b'<p>static index</p>')
    (tmp_path / 'shadow.txt').write_bytes(b'never served')
    monkeypatch.chdir(tmp_path)
    static_files = {
        # the guide's "Server Examples" rule
        '/': {'content_type': 'text/html', 'filename': 'index.html'},
        '/engine.io/shadow': 'shadow.txt',  # under the Engine.IO path
        '/gone.txt': 'missing.txt',         # file does not exist
    }

    def fallback(environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'fallback ' + environ['PATH_INFO'].encode()]

    eio = eio_mod.Server()
    with_app = serve(eio_mod.WSGIApp(eio, fallback, static_files))
    alone = serve(eio_mod.WSGIApp(eio, static_files=static_files))
    for server, fell in ((with_app, True), (alone, False)):
        with client(server) as http:
            handshake(http)
            # Engine.IO beats a static rule: no EIO arg -> Engine.IO's 400
            assert http.get('/engine.io/shadow').status_code == 400
            r = http.get('/')  # static beats the fallback app
            assert (r.status_code, r.text) == (200, '<p>static index</p>')
            assert r.headers['content-type'] == 'text/html'
            for path in ('/gone.txt', '/other', '/engine.io'):
                r = http.get(path)
                if fell:  # missing/unmatched files go to the wsgi_app ...
                    assert r.text == f'fallback {path}', path
                else:     # ... or not_found() without one
                    assert (r.status_code, r.text) == (404, 'Not Found')
    eio.shutdown()


def test_guide_static_file_rules(eio_mod, serve, tmp_path, monkeypatch):
    """Each static_files configuration of the guide's "Serving Static
    Files", given to WSGIApp as the guide shows."""
    files = {
        'latency.html': b'<p>latency</p>',
        'static/engine.io.js': b'js',
        'static/style.css': b'css',
        'public/index.html': b'<p>public index</p>',
        'public/css/styles.css': b'styles',
        'public/image.gif': b'GIF89a',
        'public/data.bin': b'\x00\x01',
        'secret.txt': b'secret',
    }
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    eio = eio_mod.Server()
    configs = [
        ({'/': 'latency.html',
          '/static/engine.io.js': 'static/engine.io.js',
          '/static/style.css': 'static/style.css'},
         [('/', 'latency.html', 'text/html'),
          ('/static/engine.io.js', 'static/engine.io.js',
           'application/javascript'),
          ('/static/style.css', 'static/style.css', 'text/css')]),
        ({'/': {'filename': 'latency.html', 'content_type': 'text/plain'}},
         [('/', 'latency.html', 'text/plain')]),
        ({'/static': './public'},
         [('/static/index.html', 'public/index.html', 'text/html'),
          ('/static/css/styles.css', 'public/css/styles.css', 'text/css'),
          ('/static/', 'public/index.html', 'text/html'),
          ('/static/data.bin', 'public/data.bin',
           'application/octet-stream'),
          ('/static/nothing.txt', None, None),
          ('/static/%2e%2e/secret.txt', None, None)]),  # no '../' escapes
        ({'/static': './public', '': 'image.gif'},
         [('/static/', 'public/image.gif', 'image/gif')]),
        ({'/static': './public',
          '': {'filename': 'image.gif', 'content_type': 'text/plain'}},
         [('/static/', 'public/image.gif', 'text/plain')]),
    ]
    for static_files, checks in configs:
        server = serve(eio_mod.WSGIApp(eio, static_files=static_files))
        with client(server) as http:
            for url, name, content_type in checks:
                r = http.get(url)
                if name is None:
                    assert (r.status_code, r.text) == (404, 'Not Found'), url
                    continue
                assert (r.status_code, r.content) == (200, files[name]), url
                assert r.headers['content-type'] == content_type, url
    eio.shutdown()


def test_every_example_file_is_tested():
    names = {p.stem for p in EXAMPLES.glob('*.py')}
    tested = {n[len('test_'):] for n in globals() if n.startswith('test_')}
    assert names <= tested, names - tested
    for path in EXAMPLES.glob('*.py'):
        assert path.read_text().count(OUR_IMPORT) == 1, path
