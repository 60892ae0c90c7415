"""Serve a Socket.IO test app on one real server, in this subprocess.

    python -m tests.socketio.serve KIND HOST PORT --app module:attr

KIND ``builtin`` (engineio_fast's built-in server, ``engineio_fast.run(app)``)
and ``uvicorn`` serve an ASGI app here; ``aiohttp``, ``sanic`` and
``tornado`` serve the module's AsyncServer (``--app module:sio``, made in
that async mode) as python-socketio documents it, with the module's
``route`` answering its plain HTTP routes (tests/socketio/matrix_serve.py);
``flask-threading``, ``flask-eventlet`` and ``flask-gevent``
run Flask-SocketIO's own ``socketio.run(app)`` (the app module's
``socketio`` and ``app``), which picks Werkzeug, eventlet.wsgi or gevent's
pywsgi from the server's async mode; every other kind is one of
``tests.sync.serve``'s WSGI servers, which serves it.
"""

import importlib
import sys

ASYNC_KINDS = ('builtin', 'uvicorn')
FLASK_RUN_KINDS = ('flask-threading', 'flask-eventlet', 'flask-gevent')
FRAMEWORK_KINDS = ('aiohttp', 'sanic', 'tornado')


def flask_run(kind, host, port, spec):
    if kind == 'flask-eventlet':
        import eventlet
        eventlet.monkey_patch()
    elif kind == 'flask-gevent':
        from gevent import monkey
        monkey.patch_all()
    module = importlib.import_module(spec.partition(':')[0])
    print('serve.py: %s listening on http://%s:%d' % (kind, host, port),
          flush=True)
    module.socketio.run(module.app, host=host, port=port,
                        allow_unsafe_werkzeug=True, use_reloader=False,
                        log_output=False)


def framework_run(kind, host, port, spec):
    from tests.socketio.matrix_serve import SERVE
    module = importlib.import_module(spec.partition(':')[0])
    print('serve.py: %s listening on http://%s:%d' % (kind, host, port),
          flush=True)
    SERVE[kind](module.sio, port, host=host, routes=module.route)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    kind = argv[0]
    if kind in FLASK_RUN_KINDS:
        return flask_run(kind, argv[1], int(argv[2]),
                         argv[argv.index('--app') + 1])
    if kind in FRAMEWORK_KINDS:
        return framework_run(kind, argv[1], int(argv[2]),
                             argv[argv.index('--app') + 1])
    if kind not in ASYNC_KINDS:
        from tests.sync import serve
        return serve.main(argv)
    host, port = argv[1], int(argv[2])
    spec = argv[argv.index('--app') + 1]
    from tests.sync.serve import _load_app
    app = _load_app(spec)
    print('serve.py: %s listening on http://%s:%d' % (kind, host, port),
          flush=True)
    if kind == 'builtin':
        import engineio_fast
        engineio_fast.run(app, host=host, port=port)
    else:
        import uvicorn
        uvicorn.run(app, host=host, port=port, loop='uvloop',
                    http='httptools', ws='websockets', log_level='warning',
                    lifespan='off')


if __name__ == '__main__':
    main()
