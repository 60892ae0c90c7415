"""A chat/echo demo: an AsyncServer behind ASGIApp with a page that uses the
official engine.io-client, showing the live transport and round-trip time.

Run it with ``engineio-fast demo`` (the built-in server) or
``python -m engineio_fast.demo`` (see ``--help``; ``--uvicorn`` serves it
with uvicorn instead).
"""

import argparse
import os
import sys
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m engineio_fast.demo',
        description='engineio_fast chat/echo demo.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5000)
    parser.add_argument('--client-js', default=None,
                        help='path to engine.io.min.js (default: found in '
                             'node_modules)')
    parser.add_argument('--uvicorn', action='store_true',
                        help='serve with uvicorn instead of the built-in '
                             'server')
    args = parser.parse_args(argv)
    if not args.uvicorn:
        from ..cli import main as cli_main
        rest = ['demo', '--host', args.host, '--port', str(args.port)]
        if args.client_js:
            rest += ['--client-js', args.client_js]
        return cli_main(rest)
    client_js = find_client_js(args.client_js)
    if client_js is None:
        sys.stderr.write(MISSING_CLIENT)
        return 2
    import uvicorn
    _, app = create_app(client_js)
    print('engineio_fast %s (%s kernels) demo on uvicorn, http://%s:%d/'
          % (engineio.__version__, engineio.IMPLEMENTATION, args.host,
             args.port), flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    return 0
