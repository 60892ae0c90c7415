"""The benchmark app for the synchronous servers (python-engineio's ``Server`` API), on either library.

The same behaviour as ``common.py`` builds for the async targets: every message echoed to its sender,
``bcast:<text>`` sent to every connected sid, heartbeats at the defaults (25 s / 20 s), max payload
1,000,000 bytes, HTTP compression off, every other option at its default (``async_handlers`` included).
The async mode comes from the environment variable ``BENCH_ASYNC_MODE`` (``threading``, ``eventlet``,
``gevent``, ``gevent_uwsgi``), set by ``benchmarks/load/sync_serve.py`` before the WSGI server imports
the app module (``sync_fast_app`` or ``sync_pyeio_app``), after any monkey patching.
"""
import os


def build(engineio):
    """Return ``(eio, app)``: a Server in the mode named by BENCH_ASYNC_MODE and its WSGIApp."""
    mode = os.environ.get('BENCH_ASYNC_MODE')
    if not mode:
        raise RuntimeError('BENCH_ASYNC_MODE is not set (start the app with benchmarks/load/sync_serve.py)')
    eio = engineio.Server(
        async_mode=mode,
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        http_compression=False,
        cors_allowed_origins='*',
        logger=False,
    )
    if eio.async_mode != mode:  # never measure another mode than the one named
        raise RuntimeError(f'asked for async_mode {mode!r}, got {eio.async_mode!r}')
    sids = {}

    @eio.on('connect')
    def connect(sid, environ):
        sids[sid] = None

    @eio.on('disconnect')
    def disconnect(sid, *reason):
        sids.pop(sid, None)

    @eio.on('message')
    def message(sid, data):
        if data.__class__ is str and data.startswith('bcast:'):
            text = data[6:]
            for other in list(sids):
                eio.send(other, text)
        else:
            eio.send(sid, data)

    return eio, engineio.WSGIApp(eio)
