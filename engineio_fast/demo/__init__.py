"""A chat/echo demo: an AsyncServer behind ASGIApp with a page that uses the
official engine.io-client, showing the live transport of every connected
client, and a chart of round-trip times and of the server's message rate.

Run it with ``engineio-fast demo`` (the built-in server) or
``python -m engineio_fast.demo`` (see ``--help``; ``--uvicorn`` serves it
with uvicorn instead).

Where the page's client comes from: a local copy of the npm package's
``dist/engine.io.min.js`` when there is one (the wheel carries it in
``engineio_fast/demo/vendor/``, copied from ``node_modules`` at build time;
a checkout's ``node_modules`` works too), else the same file of the same
version from a public CDN, pinned by a Subresource Integrity hash.
"""

import asyncio
import os
import time
from typing import Dict, Optional

import engineio_fast as engineio

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_JS = os.path.join('engine.io-client', 'dist', 'engine.io.min.js')
# where setup.py's build_py (and the sdist) put the npm package's file
VENDORED_JS = os.path.join(HERE, 'vendor', 'engine.io.min.js')

# The CDN fallback: engine.io-client's version in package-lock.json and the
# SHA-384 of its dist/engine.io.min.js (tests/interop/test_demo.py checks
# both against node_modules, so they move together with package-lock.json)
CLIENT_VERSION = '6.6.8'
CDN_URL = ('https://cdn.jsdelivr.net/npm/engine.io-client@%s/dist/'
           'engine.io.min.js' % CLIENT_VERSION)
CDN_INTEGRITY = ('sha384-2ig77DX+q1NrLcOc4w4VZOcOMb+9V0gKkwyL2bI4ShQ9XyWKzy9'
                 'xPtshGU7Hh7re')

# the server side stays small: the presence list names at most MAX_LISTED
# clients (and gives the total), and is sent at most once per
# PRESENCE_INTERVAL seconds however many clients join, upgrade or leave
MAX_LISTED = 50
PRESENCE_INTERVAL = 0.25
MAX_CHAT = 500
SCRIPT_MARK = '<!--ENGINE.IO CLIENT-->'


def find_client_js(explicit=None):
    """Locate a local copy of the official browser client (engine.io.min.js).

    Looks at ``explicit``, then ``$ENGINEIO_FAST_CLIENT_JS``, then the copy
    this package carries (``vendor/``), then ``node_modules`` in the current
    directory and its parents, then next to this package's source tree.
    Returns a path or None (the page then loads it from the CDN).
    """
    candidates = [explicit, os.environ.get('ENGINEIO_FAST_CLIENT_JS'),
                  VENDORED_JS]
    for start in (os.getcwd(), HERE):
        d = start
        while True:
            candidates.append(os.path.join(d, 'node_modules', CLIENT_JS))
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    for path in candidates:
        if path and os.path.isfile(path):
            return os.path.abspath(path)
    return None


def script_tag(client_js):
    """The page's ``<script>`` for the client: the local copy, or the
    pinned CDN file with its integrity hash."""
    if client_js is not None:
        return '<script src="/engine.io.min.js"></script>'
    return ('<script src="%s" integrity="%s" crossorigin="anonymous">'
            '</script>' % (CDN_URL, CDN_INTEGRITY))


def render_page(client_js):
    """The demo page (bytes) with its client's ``<script>`` tag."""
    with open(os.path.join(HERE, 'static', 'index.html'),
              encoding='utf-8') as f:
        page = f.read()
    assert SCRIPT_MARK in page, 'index.html lost its script mark'
    return page.replace(SCRIPT_MARK, script_tag(client_js)).encode('utf-8')


def _page_app(page):
    """A small ASGI app: GET/HEAD ``/`` and ``/index.html`` give the page,
    anything else 404 (the Engine.IO path and the client's file are
    ASGIApp's)."""
    headers = [(b'content-type', b'text/html; charset=utf-8'),
               (b'content-length', str(len(page)).encode()),
               (b'cache-control', b'no-cache')]

    async def app(scope, receive, send):
        if scope['type'] != 'http':
            return   # a websocket outside /engine.io/: closed unanswered
        found = scope['path'] in ('/', '/index.html')
        if found and scope.get('method') not in ('GET', 'HEAD'):
            status, body, hdrs = 405, b'method not allowed', [
                (b'content-type', b'text/plain'), (b'allow', b'GET, HEAD')]
        elif found:
            status, body, hdrs = 200, page, headers
        else:
            status, body, hdrs = 404, b'not found', [
                (b'content-type', b'text/plain')]
        if scope.get('method') == 'HEAD':
            body = b''
        await send({'type': 'http.response.start', 'status': status,
                    'headers': hdrs})
        await send({'type': 'http.response.body', 'body': body})
    return app


class _State:
    """The demo server's counters and its pending presence broadcast."""

    def __init__(self) -> None:
        self.joined = 0        # clients so far (names them)
        self.messages = 0      # messages received (the page charts the rate)
        self.last = 0.0        # when the last presence list went out
        self.task: Optional['asyncio.Future[None]'] = None
        self.closed = False    # shutting down: no more presence lists


def create_app(client_js, **server_options):
    """Build the demo's ``(eio, asgi_app)``.

    ``client_js``: the path of a local engine.io.min.js to serve, or None
    for the page to load the pinned copy from the CDN.
    """
    server_options.setdefault('async_mode', 'asgi')    # served as ASGI
    eio = engineio.AsyncServer(**server_options)
    names: Dict[str, str] = {}        # sid -> display name
    transports: Dict[str, str] = {}   # sid -> its transport last listed
    state = _State()

    def transport_of(sid):
        try:
            return eio.transport(sid)
        except KeyError:   # closing: its disconnect handler comes next
            return None

    def presence_changed():
        # one broadcast task at a time; it waits out PRESENCE_INTERVAL
        if state.task is None and not state.closed:
            state.task = eio.start_background_task(broadcast_presence)

    async def broadcast_presence():
        wait = state.last + PRESENCE_INTERVAL - time.monotonic()
        await eio.sleep(max(wait, 0))
        state.task = None
        state.last = time.monotonic()
        listed = []
        for sid in list(names)[:MAX_LISTED]:
            transports[sid] = transport_of(sid) or transports[sid]
            listed.append({'name': names[sid], 'transport': transports[sid]})
        for sid in list(names):
            name = names.get(sid)
            if name is not None:
                await eio.send(sid, {'type': 'presence', 'you': name,
                                     'count': len(names), 'clients': listed})

    @eio.on('connect')
    def connect(sid, environ):
        state.joined += 1
        names[sid] = 'guest-%d' % state.joined
        transports[sid] = 'polling'
        presence_changed()

    @eio.on('message')
    async def message(sid, data):
        state.messages += 1
        if sid in transports and transport_of(sid) != transports[sid]:
            presence_changed()   # this client has upgraded
        if isinstance(data, dict) and data.get('type') == 'ping':
            # round-trip probe: answer at once, only to the sender, with
            # the server's message count (the page charts its rate)
            await eio.send(sid, {'type': 'pong', 'ts': data.get('ts'),
                                 'messages': state.messages})
        elif isinstance(data, dict) and data.get('type') == 'hello':
            pass   # sent by the page when it upgrades: counted above
        elif isinstance(data, dict) and data.get('type') == 'chat':
            text = str(data.get('text', ''))[:MAX_CHAT]
            out = {'type': 'chat', 'from': names.get(sid, '?'),
                   'text': text, 'transport': transport_of(sid)}
            for other in list(names):
                await eio.send(other, out)
        else:
            await eio.send(sid, data)   # plain echo for anything else

    @eio.on('disconnect')
    def disconnect(sid, reason):
        names.pop(sid, None)
        transports.pop(sid, None)
        presence_changed()

    static = {}
    if client_js is not None:
        static['/engine.io.min.js'] = {
            'filename': client_js, 'content_type': 'application/javascript'}
    async def shutdown():
        # no presence task left sleeping when the server stops
        state.closed = True
        task, state.task = state.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app = engineio.ASGIApp(eio, other_asgi_app=_page_app(
        render_page(client_js)), static_files=static or None,
        on_shutdown=shutdown)
    return eio, app


def cdn_notice():
    return ('No local copy of the browser client (engine.io-client %s): '
            'the demo page loads it from %s (pinned by its integrity hash). '
            'For a local copy run `npm ci` in the checkout, or pass '
            '--client-js PATH.\n' % (CLIENT_VERSION, CDN_URL))


def app_for_cli(explicit, err):
    """The demo app for ``engineio-fast demo``: says on ``err`` where the
    page's client comes from when it is the CDN; None (after saying why)
    when ``explicit`` names no file."""
    if explicit and not os.path.isfile(explicit):
        err.write('--client-js %s: no such file\n' % explicit)
        return None
    client_js = find_client_js(explicit)
    if client_js is None:
        err.write(cdn_notice())
        err.flush()
    return create_app(client_js)[1]
