"""The WSGI app of tests/sync/test_session_rules.py, run by
tests/sync/serve.py in a subprocess (after any monkey patching).
engineio_fast only.

``EIO_ASYNC_MODE`` picks the mode, ``EIO_PING_INTERVAL`` and
``EIO_PING_TIMEOUT`` the heartbeat, ``EIO_LATE_POLL_DELAY`` the engine's
upgrade check interval. Messages are echoed; ``close``
disconnects the sender. The connect handler takes orders from the query
string: ``kick=disconnect|close_all|overflow`` closes the session from inside
the handler (``overflow``: a send over the queue bound), ``refuse=1`` then
refuses it. Routes outside ``/engine.io/``:

``GET /_health``        ``ok``
``GET /_state?sid=SID`` JSON: ``open`` (in the session table), ``closing``
                        (waiting for its last GET), ``parked`` (a GET is
                        parked), the counts of ``sessions`` and
                        ``closing``, and the handler ``events`` of SID
                        (``[name, reason]``, in order)
"""

import json
import os
import threading
import urllib.parse

import engineio_fast as engineio
from engineio_fast import _accel
from engineio_fast.protocol import engine as _engine

if os.environ.get('EIO_LATE_POLL_DELAY'):
    # see tests/io/session_rules.py's LATE_POLL_DELAY (the compiled engine
    # reads its own module's globals)
    for _module in (_engine, _accel.twin(_engine.__name__)):
        if _module is not None:
            _module.LATE_POLL_DELAY = float(os.environ['EIO_LATE_POLL_DELAY'])

eio = engineio.Server(
    async_mode=os.environ.get('EIO_ASYNC_MODE') or None,
    ping_interval=float(os.environ.get('EIO_PING_INTERVAL', '10')),
    ping_timeout=float(os.environ.get('EIO_PING_TIMEOUT', '10')),
    max_queue_bytes=100)
_lock = threading.Lock()    # a green lock once the server monkey-patched
_events = {}


def _add(sid, name, reason=None):
    with _lock:
        _events.setdefault(sid, []).append([name, reason])


@eio.on('connect')
def connect(sid, environ):
    q = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    _add(sid, 'connect')
    kick = q.get('kick', [''])[0]
    if kick == 'disconnect':
        eio.disconnect(sid)
    elif kick == 'close_all':
        eio.disconnect()
    elif kick == 'overflow':
        eio.send(sid, 'x' * 200)
    _add(sid, 'connected')
    return False if q.get('refuse') else None


@eio.on('message')
def message(sid, data):
    if data == 'close':
        eio.disconnect(sid)
    else:
        eio.send(sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    _add(sid, 'disconnect', reason)


def routes(environ, start_response):
    path = environ.get('PATH_INFO')
    if path == '/_health':
        start_response('200 OK', [('Content-Length', '2')])
        return [b'ok']
    if path == '/_state':
        sid = urllib.parse.parse_qs(environ.get('QUERY_STRING', '')).get(
            'sid', [''])[0]
        engine = eio._engine
        with eio._lock:
            s = engine.get(sid) or engine.closing.get(sid)
            state = {
                'open': engine.get(sid) is not None,
                'closing': sid in engine.closing,
                'parked': bool(s is not None and s.poll_waker is not None),
                'sessions': len(engine.sessions),
                'closing_count': len(engine.closing),
            }
        with _lock:
            state['events'] = list(_events.get(sid, ()))
        body = json.dumps(state).encode()
        start_response('200 OK', [('Content-Type', 'application/json'),
                                  ('Content-Length', str(len(body)))])
        return [body]
    start_response('404 Not Found', [('Content-Length', '0')])
    return []


app = engineio.WSGIApp(eio, routes)
