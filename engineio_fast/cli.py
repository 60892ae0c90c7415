"""``engineio-fast`` / ``python -m engineio_fast``: serve an app on the
built-in server, like uvicorn's command line.

    engineio-fast myapp:eio --host 0.0.0.0 --port 8000
    engineio-fast myapp:eio --workers 4  # 4 processes on one port
    engineio-fast myapp:app            # an ASGIApp wrapping an AsyncServer
    engineio-fast chat:sio             # a python-socketio AsyncServer, its
                                       # ASGIApp, or a FastAPI app with it
    engineio-fast demo                 # the chat/echo demo
    engineio-fast exec gunicorn app:app  # any command, with `import engineio`
                                         # resolving to engineio_fast
"""

import argparse
import logging
import os
import sys


def load_app(spec):
    """Import ``module:attr`` (attr may be dotted) and return the object."""
    from .adapters.builtin.apps import import_app
    return import_app(spec)


def _parser():
    parser = argparse.ArgumentParser(
        prog='engineio-fast',
        description='Serve an engineio_fast AsyncServer, a python-socketio '
                    'AsyncServer, an ASGIApp wrapping either, or an ASGI app '
                    '(FastAPI, Starlette) with one mounted, on the built-in '
                    'uvloop + httptools server. "import engineio" resolves '
                    'to engineio_fast for the app (engineio_fast.install()). '
                    '"engineio-fast demo" runs the demo.')
    parser.add_argument('app', help='module:attribute, or "demo"')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=5000)
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes on the port (1 to 64); each '
                             'request of a session reaches the worker that '
                             'owns it (no sticky load balancer)')
    parser.add_argument('--loop', choices=['auto', 'uvloop', 'asyncio'],
                        default='auto')
    parser.add_argument('--ssl-certfile', default=None)
    parser.add_argument('--ssl-keyfile', default=None)
    parser.add_argument('--proxy-headers',
                        action=argparse.BooleanOptionalAction, default=True,
                        help="take the client's address and scheme from "
                             'X-Forwarded-For and X-Forwarded-Proto when '
                             'the peer is in --forwarded-allow-ips (on by '
                             'default, as in uvicorn)')
    parser.add_argument('--forwarded-allow-ips', default=None,
                        help='comma-separated addresses or networks of the '
                             'trusted proxies, or "*" for all (default: '
                             '$FORWARDED_ALLOW_IPS, else 127.0.0.1)')
    parser.add_argument('--log-level', default='info',
                        choices=['critical', 'error', 'warning', 'info',
                                 'debug'])
    parser.add_argument('--client-js', default=None,
                        help='demo only: path to engine.io.min.js')
    return parser


def exec_command(argv):
    """``engineio-fast exec CMD [ARGS...]``: run CMD with
    ENGINEIO_FAST_AS_ENGINEIO=1, so that every Python process it starts
    runs engineio_fast.install() at start-up (engineio_fast_switch.pth)."""
    if argv and argv[0] == '--':
        argv = argv[1:]
    if not argv:
        sys.stderr.write('usage: engineio-fast exec COMMAND [ARGS...]\n')
        return 2
    import site

    from .switch import ENV_VAR
    dirs = list(site.getsitepackages()) + [site.getusersitepackages()]
    if not any(os.path.exists(os.path.join(d, 'engineio_fast_switch.pth'))
               for d in dirs):
        sys.stderr.write(
            'engineio_fast_switch.pth is not in site-packages (an editable '
            'install does not put it there): install engineio-fast with pip, '
            'or call engineio_fast.install() in the app\n')
        return 2
    os.environ[ENV_VAR] = '1'
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write('cannot run %s: %s\n' % (argv[0], exc))
        return 127


def switch_engineio():
    """Run :func:`engineio_fast.install` before the app is imported, so a
    python-socketio app (or anything written for python-engineio) runs on
    engineio_fast: the built-in server serves nothing else. Returns None,
    or why the switch could not be made (``engineio`` was imported already,
    e.g. by a sitecustomize)."""
    from .switch import install
    try:
        install()
    except RuntimeError as exc:
        return str(exc)
    return None


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == 'exec':
        return exec_command(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format='%(levelname)s: %(message)s')
    from . import IMPLEMENTATION, __version__
    from .adapters.builtin import run
    from .adapters.builtin.apps import resolve_app

    if args.app == 'demo':
        from . import demo
        app = demo.app_for_cli(args.client_js, sys.stderr)
        if app is None:
            return 2
    elif args.workers != 1:
        # each worker imports the app after the fork (as gunicorn and
        # uvicorn do): what the module makes at import (a python-socketio
        # pub/sub manager's host id, connections, tasks) is the worker's
        # own; a worker that cannot load it stops the service
        switch_engineio()
        app = args.app
    else:
        switched = switch_engineio()
        try:
            app = load_app(args.app)
        except (ImportError, AttributeError, ValueError) as exc:
            sys.stderr.write('cannot load %s: %s\n' % (args.app, exc))
            return 2
        try:
            resolve_app(app)
        except TypeError as exc:
            sys.stderr.write('cannot serve %s: %s\n' % (args.app, exc))
            if switched is not None:
                sys.stderr.write(switched + '\n')
            return 2
    ssl_context = None
    if args.ssl_certfile:
        import ssl
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.ssl_certfile, args.ssl_keyfile)
    scheme = 'https' if ssl_context else 'http'
    print('engineio_fast %s (%s kernels) serving on %s://%s:%d/%s'
          % (__version__, IMPLEMENTATION, scheme, args.host, args.port,
             ' with %d workers' % args.workers if args.workers != 1 else ''),
          flush=True)
    try:
        run(app, host=args.host, port=args.port, ssl=ssl_context,
            loop=args.loop, workers=args.workers,
            proxy_headers=args.proxy_headers,
            forwarded_allow_ips=args.forwarded_allow_ips)
    except ValueError as exc:
        sys.stderr.write('cannot serve %s: %s\n' % (args.app, exc))
        return 2
    except RuntimeError as exc:     # a worker could not load the app
        sys.stderr.write('cannot serve %s: %s\n' % (args.app, exc))
        return 2
    except OSError as exc:      # e.g. the address is already in use
        sys.stderr.write('cannot serve on %s:%d: %s\n'
                         % (args.host, args.port, exc))
        return 1
    return 0
