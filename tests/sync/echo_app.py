"""The WSGI Engine.IO app that the real-server tests run in a subprocess.

Imported by ``tests/sync/serve.py`` AFTER any monkey patching. Configured only
through environment variables:

``EIO_IMPL``
    ``engineio`` (python-engineio) or ``engineio_fast`` (default).
``EIO_ASYNC_MODE``
    ``threading``, ``eventlet``, ``gevent`` or ``gevent_uwsgi``.
``EIO_PING_INTERVAL`` / ``EIO_PING_TIMEOUT``
    seconds (int or float), passed to the server when set.
``EIO_SERVER_KWARGS``
    a JSON object merged into the ``Server(...)`` keyword arguments.

Every message is echoed back to its sender with the same type (str or bytes)
unless it is one of the text commands below:

``close``            the server disconnects the sender (``eio.disconnect(sid)``)
``sid``              reply the sender's sid
``transport``        reply ``eio.transport(sid)``
``environ:KEY``      reply the connect environ's KEY (``''`` when missing)
``bulk:N``           reply N text messages ``bulk:0`` .. ``bulk:N-1``
``flood:N:S``        reply N text messages ``I:`` + S ``x`` characters, then
                     ``flood done``
``big:N``            reply one text message of N ``x`` characters
``binbig:N``         reply one binary message of N bytes (``i % 256``)
``sleep:SECONDS``    sleep with ``eio.sleep`` then reply ``slept``
``waitfor:TEXT:SEC`` wait (``eio.sleep`` steps, at most SEC seconds) until this
                     sender's message TEXT was echoed, then reply ``slept``
``broadcast:TEXT``   send TEXT to every connected client (sender included)

Plain HTTP routes (outside ``/engine.io/``) served by the fallback app:

``GET /_record``        JSON: pid, impl, async_mode, server software, connected
                        sids and the list of events (connect / message /
                        disconnect with its reason) seen by this process
``GET /_record/clear``  empties the event list
``GET /_health``        ``ok``
anything else           404
"""

import base64
import json
import os
import threading
import time

IMPL = os.environ.get('EIO_IMPL', 'engineio_fast')
ASYNC_MODE = os.environ.get('EIO_ASYNC_MODE') or None

if IMPL == 'engineio':
    import engineio as eio_module
elif IMPL == 'engineio_fast':
    import engineio_fast as eio_module
else:  # pragma: no cover
    raise RuntimeError('EIO_IMPL must be engineio or engineio_fast, not %r'
                       % IMPL)


def _number(value):
    number = float(value)
    return int(number) if number.is_integer() else number


def server_kwargs():
    kwargs = {'cors_allowed_origins': '*'}
    if ASYNC_MODE:
        kwargs['async_mode'] = ASYNC_MODE
    if os.environ.get('EIO_PING_INTERVAL'):
        kwargs['ping_interval'] = _number(os.environ['EIO_PING_INTERVAL'])
    if os.environ.get('EIO_PING_TIMEOUT'):
        kwargs['ping_timeout'] = _number(os.environ['EIO_PING_TIMEOUT'])
    if os.environ.get('EIO_SERVER_KWARGS'):
        kwargs.update(json.loads(os.environ['EIO_SERVER_KWARGS']))
    return kwargs


eio = eio_module.Server(**server_kwargs())

_lock = threading.Lock()  # a green lock once the server monkey-patched
_events = []
_echoed = set()  # (sid, text) of the text messages echoed so far
_environs = {}


def _record(event, sid, **fields):
    entry = {'event': event, 'sid': sid, 'time': time.time()}
    entry.update(fields)
    with _lock:
        _events.append(entry)


def _describe(data):
    if isinstance(data, (bytes, bytearray)):
        return {'type': 'bytes', 'len': len(data),
                'b64': base64.b64encode(bytes(data)).decode()}
    return {'type': 'str', 'len': len(data), 'text': data}


@eio.on('connect')
def on_connect(sid, environ):
    with _lock:
        _environs[sid] = environ
    _record('connect', sid, query=environ.get('QUERY_STRING', ''),
            transport=_transport(sid))


@eio.on('disconnect')
def on_disconnect(sid, reason=None):
    with _lock:
        _environs.pop(sid, None)
    _record('disconnect', sid, reason=None if reason is None else str(reason))


def _transport(sid):
    try:
        return eio.transport(sid)
    except Exception:  # noqa: BLE001 - the sid may be gone already
        return None


def _command(sid, text):
    """Run a text command; return True when ``text`` was one."""
    if text == 'close':
        eio.disconnect(sid)
    elif text == 'sid':
        eio.send(sid, sid)
    elif text == 'transport':
        eio.send(sid, str(_transport(sid)))
    elif text.startswith('environ:'):
        with _lock:
            environ = _environs.get(sid) or {}
        eio.send(sid, str(environ.get(text[8:], '')))
    elif text.startswith('bulk:'):
        for i in range(int(text[5:])):
            eio.send(sid, 'bulk:%d' % i)
    elif text.startswith('flood:'):
        count, size = (int(v) for v in text[6:].split(':'))
        for i in range(count):
            eio.send(sid, '%d:%s' % (i, 'x' * size))
        eio.send(sid, 'flood done')
    elif text.startswith('big:'):
        eio.send(sid, 'x' * int(text[4:]))
    elif text.startswith('binbig:'):
        eio.send(sid, bytes(i % 256 for i in range(int(text[7:]))))
    elif text.startswith('sleep:'):
        eio.sleep(float(text[6:]))
        eio.send(sid, 'slept')
    elif text.startswith('waitfor:'):
        wanted, _, seconds = text[8:].rpartition(':')
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            with _lock:
                if (sid, wanted) in _echoed:
                    break
            eio.sleep(0.01)
        eio.send(sid, 'slept')
    elif text.startswith('broadcast:'):
        with _lock:
            sids = list(_environs)
        for other in sids:
            try:
                eio.send(other, text[10:])
            except Exception:  # noqa: BLE001 - that client just left
                pass
    else:
        return False
    return True


@eio.on('message')
def on_message(sid, data):
    _record('message', sid, data=_describe(data))
    if isinstance(data, str) and _command(sid, data):
        return
    eio.send(sid, data)
    if isinstance(data, str):
        with _lock:
            if len(_echoed) < 10000:
                _echoed.add((sid, data))


_registry = []


def _exposition():
    from prometheus_client import CollectorRegistry, generate_latest

    from engineio_fast.metrics import EngineCollector
    with _lock:
        if not _registry:
            _registry.append(CollectorRegistry())
            _registry[0].register(EngineCollector(eio))
        return generate_latest(_registry[0])


def _fallback(environ, start_response):
    path = environ.get('PATH_INFO') or '/'
    if path == '/_record' or path == '/_record/clear':
        if path.endswith('/clear'):
            with _lock:
                del _events[:]
        with _lock:
            body = {
                'pid': os.getpid(),
                'impl': IMPL,
                'async_mode': getattr(eio, 'async_mode', ASYNC_MODE),
                'server_software': environ.get('SERVER_SOFTWARE', ''),
                'connected': list(_environs),
                'events': list(_events),
            }
        data = json.dumps(body).encode()
        start_response('200 OK', [('Content-Type', 'application/json'),
                                  ('Content-Length', str(len(data)))])
        return [data]
    if path == '/_metrics' and IMPL == 'engineio_fast':
        # the engine's Prometheus metrics, with EIO_SERVER_KWARGS
        # {"metrics": true} (tests/sync/test_metrics_modes.py)
        data = _exposition()
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', str(len(data)))])
        return [data]
    if path == '/_health':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', '2')])
        return [b'ok']
    start_response('404 Not Found', [('Content-Type', 'text/plain'),
                                     ('Content-Length', '9')])
    return [b'not found']


app = eio_module.WSGIApp(eio, _fallback)
