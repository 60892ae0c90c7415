"""Serve a WSGI app on one real server, in this (sub)process.

    python -m tests.sync.serve KIND HOST PORT [--app module:attr]
                               [--hide-geventwebsocket] [--threads N]

Run from the repository root. Never imported by the pytest process: the
eventlet and gevent kinds monkey-patch the interpreter before they import the
app. KIND is one of:

``werkzeug``           werkzeug.serving.run_simple(threaded=True)
``gunicorn-gthread``   exec gunicorn -k gthread --threads N -w 1
``gunicorn-eventlet``  exec gunicorn -k eventlet -w 1 (gunicorn < 26)
``eventlet``           eventlet.monkey_patch(); eventlet.wsgi.server(...)
``gevent``             gevent.monkey.patch_all(); gevent.pywsgi.WSGIServer
``gevent-ws``          the same with geventwebsocket's WebSocketHandler
``uwsgi``              exec uwsgi --http HOST:PORT --http-websockets
                       --gevent 1000 (one worker, early gevent monkey patch)

``--hide-geventwebsocket`` makes ``import geventwebsocket`` fail in this
process (python-engineio's gevent mode then uses simple-websocket, as when
gevent-websocket is not installed). Only meaningful for gevent kinds.
"""

import argparse
import os
import shutil
import sys

KINDS = ('werkzeug', 'gunicorn-gthread', 'gunicorn-eventlet', 'eventlet',
         'gevent', 'gevent-ws', 'uwsgi')


def _load_app(spec):
    import importlib
    module_name, _, attr = spec.partition(':')
    module = importlib.import_module(module_name)
    return getattr(module, attr or 'app')


def _say_listening(kind, host, port):
    print('serve.py: %s listening on http://%s:%d (pid %d)'
          % (kind, host, port, os.getpid()), flush=True)


def uwsgi_binary():
    """The uwsgi executable built for this interpreter, or None."""
    here = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which('uwsgi')


def _gunicorn_has_setting(name):
    from gunicorn import config
    return any(setting.name == name for setting in config.KNOWN_SETTINGS)


def gunicorn_argv(kind, host, port, app, threads):
    argv = [sys.executable, '-m', 'gunicorn', '-w', '1',
            '-b', '%s:%d' % (host, port),
            '--graceful-timeout', '2', '--timeout', '120',
            '--log-level', 'info', '--access-logfile', '-']
    if _gunicorn_has_setting('control_socket_disable'):
        # gunicorn >= 25 otherwise binds one shared ~/.gunicorn/gunicorn.ctl
        argv.append('--no-control-socket')
    if kind == 'gunicorn-gthread':
        argv += ['-k', 'gthread', '--threads', str(threads)]
    else:
        argv += ['-k', 'eventlet', '--worker-connections', '1000']
    return argv + [app]


def uwsgi_argv(host, port, app):
    binary = uwsgi_binary()
    if binary is None:
        raise SystemExit('serve.py: uwsgi executable not found')
    # --http-keepalive: without it uWSGI's HTTP router closes every
    # connection after one response while answering HTTP/1.1 without
    # 'Connection: close', so a client that reuses the connection (httpx,
    # browsers) races against the close
    return [binary, '--http', '%s:%d' % (host, port), '--http-websockets',
            '--http-keepalive',
            '--gevent', '1000', '--gevent-early-monkey-patch',
            '--master', '--processes', '1', '--die-on-term', '--need-app',
            '--module', app, '--pythonpath', os.getcwd(),
            '--buffer-size', '32768', '--http-timeout', '120',
            '--disable-logging']


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.sync.serve')
    parser.add_argument('kind', choices=KINDS)
    parser.add_argument('host')
    parser.add_argument('port', type=int)
    parser.add_argument('--app', default='tests.sync.echo_app:app')
    parser.add_argument('--hide-geventwebsocket', action='store_true')
    parser.add_argument('--threads', type=int, default=50)
    args = parser.parse_args(argv)
    kind, host, port = args.kind, args.host, args.port

    if args.hide_geventwebsocket:
        sys.modules['geventwebsocket'] = None  # import now raises ImportError

    if kind.startswith('gunicorn-'):
        argv = gunicorn_argv(kind, host, port, args.app, args.threads)
        print('serve.py: exec', ' '.join(argv), flush=True)
        os.execv(argv[0], argv)
    if kind == 'uwsgi':
        argv = uwsgi_argv(host, port, args.app)
        print('serve.py: exec', ' '.join(argv), flush=True)
        os.execv(argv[0], argv)

    if kind == 'eventlet':
        import eventlet
        eventlet.monkey_patch()
        import eventlet.wsgi
        app = _load_app(args.app)
        listener = eventlet.listen((host, port))
        _say_listening(kind, host, port)
        eventlet.wsgi.server(listener, app, log_output=True)
        return

    if kind in ('gevent', 'gevent-ws'):
        from gevent import monkey
        monkey.patch_all()
        from gevent.pywsgi import WSGIServer
        handler = None
        if kind == 'gevent-ws':
            from geventwebsocket.handler import WebSocketHandler as handler
        app = _load_app(args.app)
        kwargs = {'handler_class': handler} if handler else {}
        server = WSGIServer((host, port), app, **kwargs)
        server.init_socket()
        _say_listening(kind, host, port)
        server.serve_forever()
        return

    if kind == 'werkzeug':
        from werkzeug.serving import run_simple
        app = _load_app(args.app)
        _say_listening(kind, host, port)
        run_simple(host, port, app, threaded=True, use_reloader=False,
                   use_debugger=False)
        return


if __name__ == '__main__':
    main()
