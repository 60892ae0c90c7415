"""A WSGI app for test_sync_modes.py, run by tests/sync/serve.py in a
subprocess (after any monkey patching). engineio_fast only.

``EIO_ASYNC_MODE`` picks the mode; ``EIO_PING_INTERVAL``/``EIO_PING_TIMEOUT``
set the heartbeat, ``EIO_MAX_HTTP_BUFFER_SIZE`` the message limit,
``EIO_PER_MESSAGE_DEFLATE=1`` enables websocket compression. Messages are
echoed. Routes outside ``/engine.io/``:

``GET /_health``              ``ok``
``GET /_disconnect?sid=SID``  calls ``eio.disconnect(SID)`` here and answers
                              JSON ``{"elapsed": seconds}``
``GET /_count``               JSON: OS threads and live greenlets of this
                              process, open sessions, disconnect reasons
"""

import gc
import json
import os
import sys
import threading
import time
import urllib.parse

import engineio_fast as engineio

eio = engineio.Server(
    async_mode=os.environ.get('EIO_ASYNC_MODE') or None,
    ping_interval=float(os.environ.get('EIO_PING_INTERVAL', '25')),
    ping_timeout=float(os.environ.get('EIO_PING_TIMEOUT', '20')),
    max_http_buffer_size=int(os.environ.get('EIO_MAX_HTTP_BUFFER_SIZE',
                                            '1000000')),
    per_message_deflate=os.environ.get('EIO_PER_MESSAGE_DEFLATE') == '1')
reasons = {}


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    reasons[sid] = reason


def _greenlets():
    try:
        import greenlet
    except ImportError:
        return 0
    return sum(1 for o in gc.get_objects()
               if isinstance(o, greenlet.greenlet) and o and not o.dead)


def _json(start_response, obj):
    body = json.dumps(obj).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


def routes(environ, start_response):
    path = environ.get('PATH_INFO')
    query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    if path == '/_health':
        start_response('200 OK', [('Content-Length', '2')])
        return [b'ok']
    if path == '/_disconnect':
        t0 = time.monotonic()
        eio.disconnect(query['sid'][0])
        return _json(start_response, {'elapsed': time.monotonic() - t0})
    if path == '/_count':
        return _json(start_response, {
            'threads': len(sys._current_frames()),
            # gunicorn gthread's worker pool (ThreadPoolExecutor): its
            # threads outlive the connections they served, and it may add
            # one for any request that comes before the last one's thread
            # marked itself idle
            'executor': sum(1 for t in threading.enumerate()
                            if t.name.startswith('ThreadPoolExecutor')),
            'greenlets': _greenlets(),
            # the handler pool's workers (threads, or greenlets)
            'handlers': eio._dispatcher.workers,
            'sessions': len(eio._engine.sessions),
            # the sids with a GET parked
            'parked': [s.sid for s in eio._engine.sessions.values()
                       if s.poll_pending],
            'reasons': reasons,
        })
    start_response('404 Not Found', [('Content-Length', '0')])
    return []


app = engineio.WSGIApp(eio, routes)
