"""Clients and targets for the conformance suite.

A *target* is one server running the conformance app (tests/conformance/
apps.py, or js/server.mjs on the official server) on 127.0.0.1:

``node``                the official engine.io 6 server from node_modules
``uvicorn``             ASGIApp under uvicorn (in this process)
``builtin``             engineio_fast's built-in server (in this process)
``aiohttp`` ``sanic`` ``tornado``  the AsyncServer attached to each framework
                        (in this process, tests/support.py FrameworkServer)
``werkzeug`` ...        the sync Server under a WSGI server, in a subprocess
                        (tests/sync/servers.py)

The clients speak HTTP/1.1 and websocket over real sockets:

:class:`Agent`          HTTP/1.1 with a keep-alive pool, as Node's agent: a
                        request takes the connection freed last, or opens one
:class:`RawRequest`     one request on a socket of its own, written by hand,
                        for requests cut short and clients that vanish
:func:`ws_open`         a websocket (the ``websockets`` package's sync client)

Every wait here is bounded.
"""

import concurrent.futures
import http.client
import json
import os
import select
import socket
import subprocess
import threading
import time
import urllib.parse

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as _ws_connect

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_SERVER = os.path.join(HERE, 'js', 'server.mjs')
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

FRAMEWORKS = ['aiohttp', 'sanic', 'tornado']
TARGETS = ['node', 'uvicorn', 'builtin'] + FRAMEWORKS + [
    'werkzeug', 'gunicorn-gthread', 'eventlet', 'gevent', 'gevent-ws',
    'uwsgi']
OURS = TARGETS[1:]

PING_INTERVAL = 0.3
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1000000
# seconds a loaded 2-core machine may add to a protocol deadline
SLACK = 1.0
# a request or websocket read that should be answered at once
QUICK = 3.0
START_TIMEOUT = 15.0
EIO = '/engine.io/'
SEP = '\x1e'

# the errors a client sees when the server ends a connection abnormally
RESET_ERRORS = (OSError, http.client.HTTPException)


def eio_path(sid=None, transport='polling', **extra):
    """The Engine.IO request path for ``sid`` (None: a handshake)."""
    query = {'EIO': '4', 'transport': transport}
    if sid is not None:
        query['sid'] = sid
    query.update(extra)
    return EIO + '?' + urllib.parse.urlencode(query)


def packets(body):
    """The packets of a polling payload (a str)."""
    return body.split(SEP) if body else []


# ---------------------------------------------------------------------------
# HTTP
class Reply:
    """A complete HTTP response: ``status``, ``headers`` (lower-case names),
    ``body`` (bytes) and ``text``."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return '<Reply %s %r>' % (self.status, self.body[:120])


class Agent:
    """HTTP/1.1 client on 127.0.0.1:``port`` with a keep-alive pool.

    Like Node's http agent: a request takes the idle connection freed last
    (one that the server has closed meanwhile is dropped first), or opens
    one; the connection goes back to the pool unless the response said
    ``Connection: close``. Requests may run at once (``start``, ``many``);
    each takes its own connection.
    """

    def __init__(self, port, host='127.0.0.1', timeout=QUICK, workers=8):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._lock = threading.Lock()
        self._idle = []
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix='agent')

    def _take(self, timeout):
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return http.client.HTTPConnection(self.host, self.port,
                                                  timeout=timeout)
            sock = conn.sock
            if sock is not None and not select.select([sock], [], [], 0)[0]:
                sock.settimeout(timeout)
                return conn
            conn.close()  # closed by the server (or junk): not reusable

    def request(self, method, path, body=None, headers=None, timeout=None):
        """Send one request and read the whole response.

        Args:
            method: ``'GET'``, ``'POST'``, ...
            path: the request target.
            body: str or bytes, or None.
            headers: extra request headers.
            timeout: seconds for the connect and each read (default: the
                agent's).

        Returns:
            A :class:`Reply`.

        Raises:
            OSError, http.client.HTTPException: when the server ends the
                connection instead of answering (``RESET_ERRORS``).
        """
        timeout = self.timeout if timeout is None else timeout
        if isinstance(body, str):
            body = body.encode('utf-8')
        conn = self._take(timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            res = conn.getresponse()
            data = res.read()
        except BaseException:
            conn.close()
            raise
        reply = Reply(res.status, {k.lower(): v for k, v in res.getheaders()},
                      data)
        if res.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        return reply

    def start(self, method, path, body=None, headers=None, timeout=None):
        """``request`` in a worker thread; returns its Future."""
        return self._pool.submit(self.request, method, path, body, headers,
                                 timeout)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request('POST', path, body=body, **kwargs)

    def many(self, method, paths, timeout=QUICK * 4):
        """GET (or ``method``) every path, up to ``workers`` at once: the
        Replies in order. Raises AssertionError if they are not all answered
        within ``timeout`` seconds, or the error that ended one."""
        futures = [self.start(method, path) for path in paths]
        done, pending = concurrent.futures.wait(futures, timeout)
        for future in pending:
            future.cancel()
        assert not pending, '%d of %d requests unanswered after %.1f s' % (
            len(pending), len(paths), timeout)
        return [future.result() for future in futures]

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def outcome(future, timeout):
    """The Reply of a started request, or the exception that ended it; an
    AssertionError if it is still running after ``timeout`` seconds."""
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise AssertionError('no answer within %.1f s' % timeout) from None
    except RESET_ERRORS as exc:
        return exc


class RawRequest:
    """One HTTP request written by hand on a socket of its own.

    Args:
        port: the server's port on 127.0.0.1.
        method, path: the request line.
        headers: header lines to send (``Host`` is added).
    """

    def __init__(self, port, method, path, headers=(), timeout=QUICK):
        self.sock = socket.create_connection(('127.0.0.1', port),
                                             timeout=timeout)
        lines = ['%s %s HTTP/1.1' % (method, path),
                 'Host: 127.0.0.1:%d' % port] + list(headers)
        self.sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())

    def send(self, data):
        self.sock.sendall(data)

    def vanish(self):
        """Close the socket at once, as a client that goes away."""
        self.sock.close()

    def read_response(self, timeout=QUICK):
        """Read one response (Content-Length bodies): a :class:`Reply`.

        Raises:
            AssertionError: no complete response within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        data = b''
        while True:
            head, sep, rest = data.partition(b'\r\n\r\n')
            if sep:
                lines = head.decode('latin-1').split('\r\n')
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(':')
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get('content-length', '0'))
                if len(rest) >= length:
                    return Reply(int(lines[0].split()[1]), headers,
                                 rest[:length])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError('no complete response within %.1f s: %r'
                                     % (timeout, data[:200]))
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError('connection closed after %r'
                                     % data[:200])
            data += chunk

    def closed_by_server(self, timeout=QUICK):
        """True if the server closes the connection within ``timeout``
        (anything it sends first is read and dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------
# Engine.IO over polling
def handshake(agent, **query):
    """Open a polling session: returns ``(sid, open_packet_dict)``."""
    reply = agent.get(eio_path(**query))
    assert reply.status == 200, reply
    assert reply.text.startswith('0'), reply
    info = json.loads(reply.text[1:].split(SEP)[0])
    return info['sid'], info


# ---------------------------------------------------------------------------
# websocket
def ws_open(target, sid=None, transport='websocket', timeout=QUICK, **query):
    """Open a websocket to the Engine.IO path (101 done).

    Raises:
        websockets.exceptions.InvalidStatus: the server answered the
            upgrade request with another status (``.response.status_code``).
    """
    query = {'EIO': '4', 'transport': transport, **query}
    if sid is not None:
        query['sid'] = sid
    query = {k: v for k, v in query.items() if v is not None}
    url = '%s%s?%s' % (target.ws_url, EIO, urllib.parse.urlencode(query))
    ws = _ws_connect(url, open_timeout=timeout, close_timeout=1,
                     ping_interval=None, max_size=None, compression=None)
    # entered here, so a caller may use it before its own ``with`` (newer
    # websockets warn about a connection used without one); __exit__ closes
    return ws.__enter__()


def ws_recv(ws, timeout=QUICK):
    """The next message (str or bytes); AssertionError if none comes within
    ``timeout`` or the socket closes first."""
    try:
        return ws.recv(timeout=timeout)
    except TimeoutError:
        raise AssertionError('no websocket message within %.1f s'
                             % timeout) from None
    except ConnectionClosed as exc:
        raise AssertionError('websocket closed instead: %r' % exc) from None


def ws_closed_within(ws, timeout):
    """Read (and drop) messages until the server closes the websocket:
    ``(True, messages)``, or ``(False, messages)`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, seen
        try:
            seen.append(ws.recv(timeout=remaining))
        except TimeoutError:
            return False, seen
        except ConnectionClosed:
            return True, seen


def assert_no_session(target, **query):
    """A websocket request (``query``: its Engine.IO arguments) that must not
    reach a session: refused with 400, or accepted (101) and closed before
    any packet, the JavaScript server's way for a bad ``EIO`` and the only
    way left to a server whose websocket handshake happens before the app
    runs (gevent-websocket)."""
    try:
        ws = ws_open(target, **query)
    except InvalidStatus as exc:
        assert exc.response.status_code == 400, exc
        return
    with ws:
        closed, seen = ws_closed_within(ws, QUICK)
    assert closed and seen == [], (query, seen)


def ws_session(target):
    """Open a websocket session: ``(ws, sid)`` after its open packet."""
    ws = ws_open(target)
    try:
        first = ws_recv(ws)
        assert isinstance(first, str) and first.startswith('0'), first
        return ws, json.loads(first[1:])['sid']
    except BaseException:
        ws.close()
        raise


def ws_upgrade(target, agent, sid):
    """Upgrade polling session ``sid``: probe, then a GET that must get the
    noop, then ``5``. Returns the websocket."""
    ws = ws_open(target, sid=sid)
    try:
        ws.send('2probe')
        assert ws_recv(ws) == '3probe'
        reply = agent.get(eio_path(sid), timeout=QUICK)
        if (reply.status, reply.text) == (200, '2'):
            # a heartbeat came due before the probe (the servers ping
            # every 300 ms; a loaded machine gets there): answered, the
            # noop follows on the next GET
            assert agent.post(eio_path(sid), '3').status == 200
            reply = agent.get(eio_path(sid), timeout=QUICK)
        assert (reply.status, reply.text) == (200, '6'), reply
        ws.send('5')
        return ws
    except BaseException:
        ws.close()
        raise


# ---------------------------------------------------------------------------
# targets
class Target:
    """A running server: ``kind``, ``port``, ``url``, ``ws_url``, ``ours``;
    ``state()`` and ``disconnect(sid)`` use the app's plain routes."""

    def __init__(self, kind, port, stop, output=lambda: ''):
        self.kind = kind
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.ws_url = 'ws://127.0.0.1:%d' % port
        self.ours = kind != 'node'
        self._stop = stop
        self.output = output

    def _control(self, path):
        conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=QUICK)
        try:
            conn.request('GET', path)
            res = conn.getresponse()
            body = res.read()
        finally:
            conn.close()
        assert res.status == 200, (path, res.status, body[:200])
        return json.loads(body)

    def state(self):
        """The app's ``/_conf/state``: ``sessions``, ``reasons``, ..."""
        return self._control('/_conf/state')

    def disconnect(self, sid):
        """The server disconnects ``sid`` (from outside its requests)."""
        self._control('/_conf/disconnect?' + urllib.parse.urlencode(
            {'sid': sid}))

    def reasons(self, sid, count=1, timeout=2.0):
        """The disconnect reasons the app recorded for ``sid`` once there
        are ``count`` of them (or what there is after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.state()['reasons'].get(sid, [])
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def stop(self):
        self._stop()

    def __repr__(self):
        return '<Target %s %s>' % (self.kind, self.url)


def _start_node():
    proc = subprocess.Popen(['node', NODE_SERVER, '0'], cwd=REPO_ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    line = b''
    while not line.endswith(b'\n'):
        remaining = deadline - time.monotonic()
        ready = remaining > 0 and select.select([proc.stdout], [], [],
                                                remaining)[0]
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b''
        if not chunk:
            proc.kill()
            proc.wait(5)
            raise RuntimeError('js/server.mjs did not start: %r' % line)
        line += chunk

    def stop():
        proc.stdin.close()  # the server exits when its stdin closes
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()

    return Target('node', json.loads(line)['port'], stop)


def _start_in_process(kind):
    from ..support import BuiltinServer, LiveServer
    from .apps import make_asgi_app

    server_class = LiveServer if kind == 'uvicorn' else BuiltinServer
    live = server_class(make_asgi_app()).start()
    if not live.started:
        raise RuntimeError('%s did not start: %r' % (kind, live.error))
    return Target(kind, live.port, live.stop)


def _start_framework(kind):
    from ..support import FrameworkServer
    from .apps import make_async_server, make_plain

    eio, record = make_async_server(kind)
    live = FrameworkServer(kind, eio, make_plain(eio, record)).start()
    return Target(kind, live.port, live.stop)


def _start_subprocess(kind):
    from ..sync.servers import ServerProcess

    srv = ServerProcess(kind, app='tests.conformance.wsgi_app:app').start()
    return Target(kind, srv.port, srv.stop, srv.output)


def start_target(kind):
    """Start the server ``kind`` (one of :data:`TARGETS`): a Target."""
    if kind == 'node':
        return _start_node()
    if kind in ('uvicorn', 'builtin'):
        return _start_in_process(kind)
    if kind in FRAMEWORKS:
        return _start_framework(kind)
    return _start_subprocess(kind)
