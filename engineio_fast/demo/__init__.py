"""A chat/echo demo: an AsyncServer behind ASGIApp with a page that uses the
official engine.io-client, showing the live transport and round-trip time.

Run it with ``engineio-fast demo`` (the built-in server) or
``python -m engineio_fast.demo`` (see ``--help``; ``--uvicorn`` serves it
with uvicorn instead).
"""

import os
import time

import engineio_fast as engineio

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_JS = os.path.join('engine.io-client', 'dist', 'engine.io.min.js')


def find_client_js(explicit=None):
    """Locate the official browser client (engine.io.min.js).

    Looks at ``explicit``, then ``$ENGINEIO_FAST_CLIENT_JS``, then
    ``node_modules`` in the current directory and its parents, then next to
    this package's source tree. Returns a path or None.
    """
    candidates = [explicit, os.environ.get('ENGINEIO_FAST_CLIENT_JS')]
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


def create_app(client_js, **server_options):
    """Build the demo's ``(eio, asgi_app)``."""
    eio = engineio.AsyncServer(**server_options)
    names = {}

    @eio.on('connect')
    def connect(sid, environ):
        names[sid] = 'guest-' + sid[:4]

    @eio.on('message')
    async def message(sid, data):
        if isinstance(data, dict) and data.get('type') == 'ping':
            # round-trip probe: answer at once, only to the sender
            await eio.send(sid, {'type': 'pong', 'ts': data.get('ts'),
                                 'server_ts': time.time()})
        elif isinstance(data, dict) and data.get('type') == 'chat':
            text = str(data.get('text', ''))[:500]
            out = {'type': 'chat', 'from': names.get(sid, '?'),
                   'text': text, 'transport': eio.transport(sid)}
            for other in list(names):
                await eio.send(other, out)
        else:
            await eio.send(sid, data)   # plain echo for anything else

    @eio.on('disconnect')
    def disconnect(sid, reason):
        names.pop(sid, None)

    app = engineio.ASGIApp(eio, static_files={
        '/': os.path.join(HERE, 'static', 'index.html'),
        '/engine.io.min.js': {'filename': client_js,
                              'content_type': 'application/javascript'},
    })
    return eio, app


MISSING_CLIENT = (
    'The demo page needs the official browser client (engine.io-client 6).\n'
    'Run `npm ci` in the engineio_fast checkout, or `npm install '
    'engine.io-client@6`, or pass --client-js PATH.\n')
