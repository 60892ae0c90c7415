"""The application under test for the interop suite.

``make_app(**server_options)`` builds an echo server on ``engineio_fast`` plus a
thread-safe :class:`Recorder` of everything the server saw, so tests can assert on
server-side events (connect / message / disconnect with reasons) and on the raw
HTTP/websocket requests that reached the ASGI app.

Messages are echoed back unchanged, except text control commands:

``cmd:burst:N``   send N text messages ``m0`` .. ``m{N-1}`` back to back
``cmd:big:N``     send one text message of N characters (``gen_text(N)``)
``cmd:bin:N``     send one binary message of N bytes (``gen_bytes(N)``)
``cmd:close``     ``await eio.disconnect(sid)``
"""

import json
import os
import threading
import time

import engineio_fast as engineio

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
STATIC_DIR = os.path.join(HERE, 'static')
NODE_MODULES = os.path.join(REPO_ROOT, 'node_modules')
BROWSER_CLIENT_JS = os.path.join(NODE_MODULES, 'engine.io-client', 'dist', 'engine.io.js')

STATIC_FILES = {
    '/': os.path.join(STATIC_DIR, 'index.html'),
    '/index.html': os.path.join(STATIC_DIR, 'index.html'),
    '/eio-client.js': BROWSER_CLIENT_JS,
}


def gen_text(n):
    """Deterministic ASCII text of n characters (the JS drivers build the same)."""
    alphabet = 'abcdefghijklmnopqrstuvwxyz'
    return (alphabet * (n // 26 + 1))[:n]


def gen_bytes(n):
    """Deterministic bytes of length n: byte i is i % 251 (the JS drivers build the same)."""
    return bytes(i % 251 for i in range(n))


class Recorder:
    """Thread-safe log of server-side events.

    Every event is a dict with at least ``event`` (``'connect'``, ``'message'``,
    ``'disconnect'``, ``'http'``, ``'websocket'``), ``sid`` (None for raw request
    events) and ``time`` (``time.monotonic()`` when recorded), ``wall`` (``time.time()``). ``disconnect`` carries
    ``reason``; ``message`` carries ``data``; ``http`` carries ``method``, ``path``,
    ``query`` (dict of str) and ``body`` (bytes, complete); ``websocket`` carries
    ``path`` and ``query``.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._events = []

    def record(self, event, sid=None, **fields):
        entry = {'event': event, 'sid': sid, 'time': time.monotonic(), 'wall': time.time(),
                 **fields}
        with self._cond:
            self._events.append(entry)
            self._cond.notify_all()
        return entry

    def events(self, event=None, sid=None, **match):
        """A snapshot of the recorded events, filtered by kind, sid and exact field values."""
        with self._cond:
            snapshot = list(self._events)
        return [e for e in snapshot if _matches(e, event, sid, match)]

    def messages(self, sid):
        """The data of every message the server received from ``sid``, in order."""
        return [e['data'] for e in self.events('message', sid)]

    def wait_for(self, event=None, sid=None, timeout=5.0, count=1, **match):
        """Block until ``count`` matching events were recorded; return the last of them.

        Raises AssertionError (with the log) after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self._events if _matches(e, event, sid, match)]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f'timed out after {timeout}s waiting for {count} x {event!r} '
                        f'sid={sid!r} {match!r}; log: {self._summary()}')
                self._cond.wait(remaining)

    def disconnect_reason(self, sid, timeout=5.0):
        return self.wait_for('disconnect', sid, timeout=timeout)['reason']

    def _summary(self):
        out = []
        for e in self._events[-60:]:
            short = {k: v for k, v in e.items() if k not in ('time', 'wall', 'body', 'data')}
            if 'data' in e:
                short['data'] = _short(e['data'])
            if 'body' in e:
                short['body'] = _short(e['body'])
            out.append(short)
        return json.dumps(out, default=str)

    def instrument(self, eio):
        """Log every Engine.IO request the server's engine handles (method,
        query, body), whatever server runs it: wraps ``handle_http`` of the
        server's sans-I/O engine, which every adapter calls."""
        recorder = self
        engine = eio._engine
        handle_http = engine.handle_http

        def recording_handle_http(req, now):
            query = dict(req.query)
            if req.is_websocket:
                recorder.record('websocket', path='/engine.io/', query=query)
            else:
                recorder.record('http', method=req.method, path='/engine.io/',
                                query=query, body=req.body or b'')
            return handle_http(req, now)

        engine.handle_http = recording_handle_http
        return eio


def _matches(entry, event, sid, match):
    if event is not None and entry['event'] != event:
        return False
    if sid is not None and entry['sid'] != sid:
        return False
    return all(entry.get(k) == v for k, v in match.items())


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else f'{text[:60]}... ({len(value)} long)'


def make_app(async_mode='asgi', **server_options):
    """Build the echo app under test.

    Returns ``(eio, asgi_app, recorder)``: ``eio`` is an
    ``engineio_fast.AsyncServer(async_mode='asgi', **server_options)``, ``asgi_app``
    the ``engineio_fast.ASGIApp`` serving it (plus ``/`` = static/index.html and
    ``/eio-client.js`` = the official browser client), ``recorder`` a :class:`Recorder`
    already fed by the server's event handlers and, through
    ``recorder.instrument(eio)``, with every Engine.IO request.
    """
    eio = engineio.AsyncServer(async_mode=async_mode, **server_options)
    recorder = Recorder()

    @eio.on('connect')
    async def connect(sid, environ):
        recorder.record('connect', sid, query=environ.get('QUERY_STRING', ''))

    @eio.on('disconnect')
    async def disconnect(sid, reason):
        recorder.record('disconnect', sid, reason=reason)

    @eio.on('message')
    async def message(sid, data):
        recorder.record('message', sid, data=data)
        if isinstance(data, str) and data.startswith('cmd:'):
            await _command(eio, sid, data)
        else:
            await eio.send(sid, data)

    recorder.instrument(eio)
    asgi_app = engineio.ASGIApp(eio, static_files=dict(STATIC_FILES))
    return eio, asgi_app, recorder


async def static_plain(method, path, query):
    """The static files of :data:`STATIC_FILES` for a server framework
    (tests/support.py FrameworkServer's ``plain``)."""
    filename = STATIC_FILES.get(path)
    if filename is None or method != 'GET':
        return 404, 'text/plain', b'not found'
    with open(filename, 'rb') as f:
        body = f.read()
    ctype = 'text/html' if filename.endswith('.html') else \
        'application/javascript'
    return 200, ctype, body


async def _command(eio, sid, command):
    parts = command.split(':')
    name = parts[1] if len(parts) > 1 else ''
    arg = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    if name == 'burst':
        for i in range(arg):
            await eio.send(sid, f'm{i}')
    elif name == 'big':
        await eio.send(sid, gen_text(arg))
    elif name == 'bin':
        await eio.send(sid, gen_bytes(arg))
    elif name == 'close':
        await eio.disconnect(sid)
    else:
        await eio.send(sid, command)
