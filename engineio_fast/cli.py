"""``engineio-fast`` / ``python -m engineio_fast``: serve an app on the
built-in server, like uvicorn's command line (``engineio-fast --help``
lists the options by group: application, socket, workers, protocol
limits, proxy, logging, TLS).

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


def load_app(spec, factory=False):
    """Import ``module:attr`` (attr may be dotted) and return the object
    (``factory``: what calling it returns)."""
    from .adapters.builtin.apps import import_app
    return import_app(spec, factory)


DESCRIPTION = """\
Serve an Engine.IO (or Socket.IO) app on engineio_fast's own server (uvloop
+ httptools), like uvicorn. APP is an engineio_fast AsyncServer, a
python-socketio AsyncServer, an ASGIApp wrapping either, or an ASGI app
(FastAPI, Starlette) with one mounted; "import engineio" resolves to
engineio_fast for it. "engineio-fast demo" runs the demo page;
"engineio-fast exec CMD ..." runs another server (uvicorn, gunicorn) with
engineio_fast in place of python-engineio.
"""

EPILOG = """\
examples:
  engineio-fast myapp:eio                      serve the AsyncServer "eio" of
                                               myapp.py on 127.0.0.1:5000
  engineio-fast myapp:app --host 0.0.0.0 --port 8000 --workers 4
  engineio-fast chat:sio                       a python-socketio AsyncServer
  engineio-fast factory:create_app --factory   call create_app() for the app
  engineio-fast myapp:app --env-file .env --access-log --log-level debug
  engineio-fast myapp:app --root-path /chat    behind a proxy serving /chat/
  engineio-fast demo                           the demo page
  engineio-fast exec gunicorn app:app          any command, "import engineio"
                                               resolving to engineio_fast
"""


_INF = float('inf')


def _number(kind, minimum, name, maximum=None, above=False):
    """An argparse type: ``kind`` (int or float) at least ``minimum`` (or
    above it), at most ``maximum``; anything else gets a message saying
    what is wanted."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value != value or value in (_INF, -_INF) or \
                (value <= minimum if above else value < minimum) or \
                (maximum is not None and value > maximum):
            want = 'a number' if kind is float else 'a whole number'
            if maximum is not None:
                what = '%s to %s (%s)' % (minimum, maximum, want)
            else:
                what = '%s %s' % (want, ('above %s' if above
                                         else 'at least %s') % minimum)
            raise argparse.ArgumentTypeError(
                '%s must be %s, not %r' % (name, what, text))
        return value
    parse.__name__ = kind.__name__      # argparse's "invalid int value"
    return parse


def _root_path(text):
    # BuiltinServer's own rule, said with the flag's name
    from .adapters.builtin.serve import check_options
    try:
        check_options(root_path=text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            str(exc).replace('root_path', 'root-path', 1)) from None
    return text


def version_text():
    """What ``--version`` prints: our version, the kernels in use, the
    Python running it."""
    import platform

    from . import IMPLEMENTATION, __version__
    return 'engineio_fast %s (%s kernels) on %s %s, %s' % (
        __version__, IMPLEMENTATION, platform.python_implementation(),
        platform.python_version(), platform.system() or 'unknown OS')


def _parser():
    parser = argparse.ArgumentParser(
        prog='engineio-fast',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=DESCRIPTION,
        epilog=EPILOG)
    parser.add_argument('--version', action='version',
                        version=version_text(),
                        help='print the version, the kernels in use '
                             '(cython or python) and the Python, and exit')
    app = parser.add_argument_group('application')
    app.add_argument('app', metavar='APP',
                     help='module:attribute naming the app (the attribute '
                          'may be dotted; the module is looked for in the '
                          'current directory too), or "demo"')
    app.add_argument('--factory', action='store_true',
                     help='APP names a function taking no argument that '
                          'returns the app (default: APP is the app)')
    app.add_argument('--env-file', metavar='PATH', default=None,
                     help='read KEY=VALUE lines from PATH into the '
                          'environment before the app is imported ("#" '
                          'comments, quotes and "export " allowed; '
                          'variables already set are kept) (default: none)')

    sock = parser.add_argument_group('socket')
    sock.add_argument('--host', default='127.0.0.1',
                      help='address to listen on; 0.0.0.0 for every IPv4 '
                           'interface (default: %(default)s)')
    sock.add_argument('--port', type=_number(int, 0, 'port', 65535),
                      default=5000,
                      help='port to listen on, 0 for any free one '
                           '(default: %(default)s)')
    sock.add_argument('--backlog', type=_number(int, 1, 'backlog'),
                      default=2048,
                      help='how many connections the kernel queues before '
                           'they are accepted (default: %(default)s)')
    sock.add_argument('--loop', choices=['auto', 'uvloop', 'asyncio'],
                      default='auto',
                      help='event loop: uvloop when installed ("auto"), '
                           'or the asyncio one (default: %(default)s)')

    workers = parser.add_argument_group('workers')
    workers.add_argument('--workers', type=_number(int, 1, 'workers', 64),
                         default=1,
                         help='worker processes on the port (1 to 64); each '
                              'request of a session reaches the worker that '
                              'owns it, no sticky load balancer needed '
                              '(default: %(default)s)')

    limits = parser.add_argument_group('protocol limits')
    limits.add_argument('--timeout-keep-alive', metavar='SECONDS',
                        type=_number(float, 0, 'timeout-keep-alive',
                                     above=True),
                        default=5.0,
                        help='close an HTTP connection idle this long '
                             'between requests (default: %(default)s)')
    limits.add_argument('--limit-concurrency', metavar='N',
                        type=_number(int, 1, 'limit-concurrency'),
                        default=None,
                        help='at most N connections (HTTP and websocket) '
                             'and N ASGI requests at once (per worker); a '
                             'request beyond it is answered 503 (default: '
                             'no limit)')
    limits.add_argument('--ws-max-size', metavar='BYTES',
                        type=_number(int, 1, 'ws-max-size'),
                        default=16 * 1024 * 1024,
                        help='largest websocket message; a larger one closes '
                             'the connection with 1009. The app\'s '
                             'max_http_buffer_size applies too: the smaller '
                             'wins (default: %(default)s)')
    limits.add_argument('--ws-ping-interval', metavar='SECONDS',
                        type=_number(float, 0, 'ws-ping-interval',
                                     above=True),
                        default=None,
                        help='the Engine.IO ping_interval: seconds between '
                             'the server\'s pings (default: the app\'s '
                             'ping_interval, 25 unless it sets one)')
    limits.add_argument('--ws-ping-timeout', metavar='SECONDS',
                        type=_number(float, 0, 'ws-ping-timeout',
                                     above=True),
                        default=None,
                        help='the Engine.IO ping_timeout: seconds to wait '
                             'for the pong before the session ends '
                             '(default: the app\'s ping_timeout, 20 unless '
                             'it sets one)')

    proxy = parser.add_argument_group('behind a proxy')
    proxy.add_argument('--proxy-headers',
                       action=argparse.BooleanOptionalAction, default=True,
                       help="take the client's address and scheme from "
                            'X-Forwarded-For and X-Forwarded-Proto when '
                            'the peer is in --forwarded-allow-ips '
                            '(default: on)')
    proxy.add_argument('--forwarded-allow-ips', metavar='IPS', default=None,
                       help='comma-separated addresses or networks of the '
                            'trusted proxies, or "*" for all (default: '
                            '$FORWARDED_ALLOW_IPS, else 127.0.0.1)')
    proxy.add_argument('--root-path', metavar='PATH', default='',
                       type=_root_path,
                       help='the prefix the proxy removes from URLs (e.g. '
                            '/chat): ASGI apps get it as the scope\'s '
                            'root_path and at the start of its path; the '
                            'Engine.IO path is still matched on the URL as '
                            'received, and handlers see it as the '
                            'environ\'s SCRIPT_NAME (default: none)')

    log = parser.add_argument_group('logging')
    log.add_argument('--log-level', default='info',
                     choices=['critical', 'error', 'warning', 'info',
                              'debug'],
                     help='the least severe messages shown, on stderr '
                          '(default: %(default)s)')
    log.add_argument('--access-log', action=argparse.BooleanOptionalAction,
                     default=False,
                     help='one line per HTTP request answered and per '
                          'websocket accepted or refused (client, request '
                          'line, status) on the "engineio_fast.access" '
                          'logger at INFO; nothing with --log-level above '
                          'info (default: off; uvicorn\'s is on, but '
                          'Engine.IO polling makes two requests per '
                          'message)')
    log.add_argument('--metrics', action='store_true',
                     help='serve Prometheus metrics on GET /metrics (pip '
                          'install "engineio-fast[metrics]"); with --workers '
                          'each scrape shows the counts of the worker that '
                          'answers it (default: off)')

    tls = parser.add_argument_group('TLS (https and wss)')
    tls.add_argument('--ssl-certfile', metavar='PATH', default=None,
                     help='the certificate chain, PEM (default: no TLS)')
    tls.add_argument('--ssl-keyfile', metavar='PATH', default=None,
                     help='its private key, PEM (default: in the '
                          'certificate file)')

    demo = parser.add_argument_group('demo')
    demo.add_argument('--client-js', metavar='PATH', default=None,
                      help='"demo" only: the engine.io.min.js to serve '
                           '(default: the installed one)')
    return parser


class EnvFileError(ValueError):
    """A line of an env file that is not ``KEY=VALUE``."""


_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\',
            '$': '$'}


def _unescape(text, where):
    out = []
    chars = iter(text)
    for c in chars:
        if c == '\\':
            nxt = next(chars, '')
            if nxt not in _ESCAPES:
                raise EnvFileError('%s: unknown escape \\%s in a '
                                   'double-quoted value' % (where, nxt))
            out.append(_ESCAPES[nxt])
        else:
            out.append(c)
    return ''.join(out)


def parse_env(text, name='env file'):
    """The ``(key, value)`` pairs of an env file's ``text``, in order.

    One ``KEY=VALUE`` a line (``export KEY=VALUE`` too); blank lines and
    lines starting with ``#`` are skipped. A value is taken as written
    (spaces around it removed, and a `` #`` comment after it), or quoted:
    in single quotes literally, in double quotes with ``\\n``, ``\\t``,
    ``\\r``, ``\\"``, ``\\\\`` and ``\\$`` escapes; a quoted value may be
    followed by a comment only. Values span one line.

    Raises:
        EnvFileError: a line is none of these; the message names the
            file and the line number.
    """
    pairs = []
    for number, raw in enumerate(text.splitlines(), 1):
        where = '%s, line %d' % (name, number)
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('export ') or line.startswith('export\t'):
            line = line[7:].lstrip()
        key, sep, value = line.partition('=')
        key = key.strip()
        if not sep or not key.isidentifier() or not key.isascii():
            raise EnvFileError('%s: expected KEY=VALUE (KEY made of letters, '
                               'digits and _), got %r' % (where, raw))
        value = value.strip()
        if value[:1] in ('"', "'"):
            quote = value[0]
            end = value.find(quote, 1)
            while quote == '"' and end != -1 and \
                    (len(value[:end]) - len(value[:end].rstrip('\\'))) % 2:
                end = value.find(quote, end + 1)      # an escaped quote
            if end == -1:
                raise EnvFileError('%s: the value of %s has no closing %s'
                                   % (where, key, quote))
            rest = value[end + 1:].strip()
            if rest and not rest.startswith('#'):
                raise EnvFileError('%s: unexpected %r after the quoted value '
                                   'of %s' % (where, rest, key))
            value = value[1:end]
            if quote == '"':
                value = _unescape(value, where)
        else:
            hash_at = value.find(' #')
            if hash_at != -1:
                value = value[:hash_at].rstrip()
            elif value.startswith('#'):
                value = ''
        pairs.append((key, value))
    return pairs


def load_env_file(path, environ=None):
    """Read ``path`` (see :func:`parse_env`) into ``environ`` (default
    ``os.environ``); a variable already set keeps its value, as uvicorn's
    ``--env-file`` does. Returns the keys set.

    Raises:
        OSError: the file cannot be read.
        EnvFileError: a bad line (named).
    """
    if environ is None:
        environ = os.environ
    with open(path, encoding='utf-8-sig') as f:     # (a BOM is skipped)
        text = f.read()
    set_keys = []
    for key, value in parse_env(text, path):
        if key not in environ:
            environ[key] = value
            set_keys.append(key)
    return set_keys


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
    level = getattr(logging, args.log_level.upper())
    logging.basicConfig(level=level, format='%(levelname)s: %(message)s')
    # the Engine.IO server's logger follows --log-level (its refused
    # requests at INFO): set before the app makes its server, which then
    # keeps it, as python-engineio's servers keep a level already set
    # rather than the ERROR their logger=False default would give
    server_logger = logging.getLogger('engineio.server')
    if server_logger.level == logging.NOTSET:
        server_logger.setLevel(level)
    if args.env_file is not None:
        # before the app is imported (and before $FORWARDED_ALLOW_IPS is
        # read): the workers inherit it
        try:
            load_env_file(args.env_file)
        except (OSError, UnicodeDecodeError) as exc:
            sys.stderr.write('cannot read --env-file %s: %s\n'
                             % (args.env_file, exc))
            return 2
        except EnvFileError as exc:
            sys.stderr.write('bad --env-file: %s\n' % exc)
            return 2
    from . import IMPLEMENTATION, __version__
    from .adapters.builtin import run
    from .adapters.builtin.apps import resolve_app

    factory = args.factory
    if args.app == 'demo':
        from . import demo
        app = demo.app_for_cli(args.client_js, sys.stderr)
        if app is None:
            return 2
        factory = False
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
            app = load_app(args.app, factory)
        except (ImportError, AttributeError, ValueError) as exc:
            sys.stderr.write('cannot load %s: %s\n' % (args.app, exc))
            return 2
        factory = False
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
        try:
            ssl_context.load_cert_chain(args.ssl_certfile, args.ssl_keyfile)
        except (OSError, ssl.SSLError) as exc:
            sys.stderr.write('cannot load the TLS certificate %s: %s\n'
                             % (args.ssl_certfile, exc))
            return 2
    scheme = 'https' if ssl_context else 'http'
    print('engineio_fast %s (%s kernels) serving on %s://%s:%d/%s'
          % (__version__, IMPLEMENTATION, scheme, args.host, args.port,
             ' with %d workers' % args.workers if args.workers != 1 else ''),
          flush=True)
    try:
        run(app, host=args.host, port=args.port, ssl=ssl_context,
            loop=args.loop, workers=args.workers, factory=factory,
            backlog=args.backlog,
            limits={'keepalive_timeout': args.timeout_keep_alive},
            proxy_headers=args.proxy_headers,
            forwarded_allow_ips=args.forwarded_allow_ips,
            root_path=args.root_path, access_log=args.access_log,
            limit_concurrency=args.limit_concurrency,
            ws_max_size=args.ws_max_size,
            ping_interval=args.ws_ping_interval,
            ping_timeout=args.ws_ping_timeout, metrics=args.metrics)
    except ImportError as exc:      # --metrics without prometheus_client
        sys.stderr.write('cannot serve %s: %s\n' % (args.app, exc))
        return 2
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
