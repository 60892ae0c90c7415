"""``engineio-fast`` / ``python -m engineio_fast``: serve an app on the
built-in server, like uvicorn's command line.

    engineio-fast myapp:eio --host 0.0.0.0 --port 8000
    engineio-fast myapp:app            # an ASGIApp wrapping an AsyncServer
    engineio-fast demo                 # the chat/echo demo
"""

import argparse
import importlib
import logging
import os
import sys


def load_app(spec):
    """Import ``module:attr`` (attr may be dotted) and return the object."""
    module_name, sep, attr = spec.partition(':')
    if not sep or not module_name or not attr:
        raise ValueError('expected module:attribute, got %r' % spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj = importlib.import_module(module_name)
    for part in attr.split('.'):
        obj = getattr(obj, part)
    return obj


def _parser():
    parser = argparse.ArgumentParser(
        prog='engineio-fast',
        description='Serve an engineio_fast AsyncServer (or an ASGIApp '
                    'wrapping one) on the built-in uvloop + httptools '
                    'server. "engineio-fast demo" runs the demo.')
    parser.add_argument('app', help='module:attribute, or "demo"')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5000)
    parser.add_argument('--loop', choices=['auto', 'uvloop', 'asyncio'],
                        default='auto')
    parser.add_argument('--ssl-certfile', default=None)
    parser.add_argument('--ssl-keyfile', default=None)
    parser.add_argument('--log-level', default='info',
                        choices=['critical', 'error', 'warning', 'info',
                                 'debug'])
    parser.add_argument('--client-js', default=None,
                        help='demo only: path to engine.io.min.js')
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format='%(levelname)s: %(message)s')
    from . import IMPLEMENTATION, __version__
    from .adapters.builtin import run
    from .adapters.builtin.serve import split_app

    if args.app == 'demo':
        from . import demo
        client_js = demo.find_client_js(args.client_js)
        if client_js is None:
            sys.stderr.write(demo.MISSING_CLIENT)
            return 2
        _, app = demo.create_app(client_js)
    else:
        try:
            app = load_app(args.app)
        except (ImportError, AttributeError, ValueError) as exc:
            sys.stderr.write('cannot load %s: %s\n' % (args.app, exc))
            return 2
        try:
            split_app(app)
        except TypeError as exc:
            sys.stderr.write('cannot serve %s: %s\n' % (args.app, exc))
            return 2
    ssl_context = None
    if args.ssl_certfile:
        import ssl
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.ssl_certfile, args.ssl_keyfile)
    scheme = 'https' if ssl_context else 'http'
    print('engineio_fast %s (%s kernels) serving on %s://%s:%d/'
          % (__version__, IMPLEMENTATION, scheme, args.host, args.port),
          flush=True)
    try:
        run(app, host=args.host, port=args.port, ssl=ssl_context,
            loop=args.loop)
    except OSError as exc:      # e.g. the address is already in use
        sys.stderr.write('cannot serve on %s:%d: %s\n'
                         % (args.host, args.port, exc))
        return 1
    return 0
