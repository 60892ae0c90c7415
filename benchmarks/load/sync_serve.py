"""Start one synchronous (WSGI) benchmark server: the sync targets of ``run.py --group sync``.

    python -m benchmarks.load.sync_serve KIND IMPL --port PORT [--host H] [--threads N]

Run from the repository root (run.py does). ``IMPL`` is ``fast`` (``apps/sync_fast_app.py``, engineio_fast)
or ``pyeio`` (``apps/sync_pyeio_app.py``, python-engineio); both get the same server, the same flags and
the same async mode, passed to the app in ``BENCH_ASYNC_MODE``. ``KIND``:

``gthread``  exec gunicorn -k gthread -w 1 --threads N (mode ``threading``). Both libraries hold one
             thread per websocket connection (python-engineio a second one in simple-websocket), so N
             must exceed the scenario's concurrent connections.
``eventlet`` eventlet.monkey_patch(), then eventlet.wsgi.server (mode ``eventlet``); one process.
``gevent``   gevent.monkey.patch_all(), then gevent.pywsgi.WSGIServer with geventwebsocket's
             WebSocketHandler (mode ``gevent``); one process. python-engineio's gevent mode does
             websocket through gevent-websocket when it is installed, so both libraries get that handler.
``uwsgi``    exec uwsgi --http-socket --gevent 1000 (mode ``gevent_uwsgi``): one process, no master,
             no HTTP router in front (the worker itself speaks HTTP and websocket). --http-socket has no
             HTTP keep-alive (it closes after every response), so run.py tells the generator to open a
             connection per polling request (``http_close``): --http11-socket aborts uWSGI 2.0.31's gevent
             loop under gevent 26 on the second request of a connection (AttributeError:
             'gevent.libev.corecext.io' object has no attribute 'stop'), and the --http router would add a
             second process, not counted in the server's CPU time.

Monkey patching happens here, before the app module is imported. Access logs are off everywhere, and
TCP_NODELAY is on for every server's connections (gunicorn sets it itself; see ``nodelay``).
"""
import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

MODE = {'gthread': 'threading', 'eventlet': 'eventlet', 'gevent': 'gevent', 'uwsgi': 'gevent_uwsgi'}
APP = {'fast': 'benchmarks.load.apps.sync_fast_app', 'pyeio': 'benchmarks.load.apps.sync_pyeio_app'}
BACKLOG = 1024  # S3 opens 50 and S1 up to 100 connections at once; eventlet's default listen backlog is 50


def uwsgi_binary():
    """The uwsgi executable next to this interpreter, else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which('uwsgi')


def gunicorn_argv(host, port, module, threads):
    from gunicorn import config
    argv = [sys.executable, '-m', 'gunicorn', '-w', '1', '-k', 'gthread', '--threads', str(threads),
            '--worker-connections', str(max(1000, 2 * threads)), '-b', f'{host}:{port}',
            '--backlog', str(BACKLOG), '--graceful-timeout', '2', '--timeout', '120',
            '--log-level', 'warning']
    if any(s.name == 'control_socket_disable' for s in config.KNOWN_SETTINGS):
        argv.append('--no-control-socket')  # gunicorn >= 25 otherwise shares one ~/.gunicorn/gunicorn.ctl
    return argv + [module + ':app']


def uwsgi_argv(host, port, module):
    binary = uwsgi_binary()
    if binary is None:
        raise SystemExit('sync_serve.py: no uwsgi executable')
    return [binary, '--http-socket', f'{host}:{port}', '--tcp-nodelay', '--gevent', '1000',
            '--gevent-early-monkey-patch',
            '--processes', '1', '--die-on-term', '--need-app', '--module', module + ':app',
            '--pythonpath', REPO, '--buffer-size', '32768', '--listen', str(BACKLOG), '--disable-logging']


def nodelay(listener):
    """TCP_NODELAY on the listening socket (Linux: inherited by every accepted connection), as gunicorn
    does on its own and uwsgi with --tcp-nodelay. Without it gevent.pywsgi answers one keep-alive request
    per ~40 ms (its small writes wait for the client's delayed ACK), whichever library serves them."""
    import socket
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m benchmarks.load.sync_serve', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kind', choices=list(MODE))
    ap.add_argument('impl', choices=list(APP))
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--threads', type=int, default=1100, help='gthread only (default 1100)')
    args = ap.parse_args(argv)
    os.environ['BENCH_ASYNC_MODE'] = MODE[args.kind]
    module = APP[args.impl]
    sys.stdout.flush()

    if args.kind == 'gthread':
        cmd = gunicorn_argv(args.host, args.port, module, args.threads)
        os.execv(cmd[0], cmd)
    if args.kind == 'uwsgi':
        cmd = uwsgi_argv(args.host, args.port, module)
        os.execv(cmd[0], cmd)

    import importlib
    if args.kind == 'eventlet':
        import eventlet
        eventlet.monkey_patch()
        import eventlet.wsgi
        app = importlib.import_module(module).app
        listener = eventlet.listen((args.host, args.port), backlog=BACKLOG)
        nodelay(listener)
        eventlet.wsgi.server(listener, app, log_output=False, max_size=100_000)
        return
    if args.kind == 'gevent':
        from gevent import monkey
        monkey.patch_all()
        from gevent.pywsgi import WSGIServer
        from geventwebsocket.handler import WebSocketHandler
        app = importlib.import_module(module).app
        server = WSGIServer((args.host, args.port), app, handler_class=WebSocketHandler, log=None,
                            backlog=BACKLOG)
        server.init_socket()
        nodelay(server.socket)
        server.serve_forever()
        return


if __name__ == '__main__':
    main()
