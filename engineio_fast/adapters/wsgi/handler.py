"""WSGI requests for the synchronous server: polling, the websocket
handshake, and the websocket itself on the connection's own socket.

Polling GETs park on an event of the async mode until the engine queues
something. A websocket takes over the client's socket (each WSGI server
exposes it differently, see :func:`_hijack`) and is served by the thread
or greenlet that received the handshake: it reads and parses frames with
the compiled kernels; writes are made by whoever queued the data, without
blocking (a socket that cannot take more is finished by the server's
service task). No protocol decisions are made here.
"""

import importlib
import os
import socket
import time

from ... import _accel
from ...protocol import engine as _engine
from ...protocol import websocket as _wsp
from ...protocol.http import BAD_REQUEST, Request, parse_query, status_line
from . import connection as _connection

_RESPOND = _engine.RESPOND
_CONNECT = _engine.CONNECT
_WAIT = _engine.WAIT

_K = _accel.active
_parse_frames = _K.parse_frames
_build_frames = _K.build_frames

_MSG_DONTWAIT = getattr(socket, 'MSG_DONTWAIT', 0)
_raw_os = importlib.import_module(os.name)   # never monkey patched
_READ_SIZE = 65536


def _headers(environ):
    headers = {}
    for key, value in environ.items():
        if key.startswith('HTTP_'):
            headers[key[5:].replace('_', '-').lower()] = value
    if environ.get('CONTENT_TYPE'):
        headers['content-type'] = environ['CONTENT_TYPE']
    if environ.get('CONTENT_LENGTH'):
        headers['content-length'] = environ['CONTENT_LENGTH']
    return headers


def _respond(start_response, resp):
    headers = list(resp.headers)
    headers.append(('Content-Length', str(len(resp.body))))
    start_response(status_line(resp.status), headers)
    return [resp.body]


# pongs are not queued behind this many unsent bytes
_PONG_SKIP = 65536

# seconds between two looks at the socket of a parked GET
PEER_CHECK = 1.0

# _read_body's answer for a body the client did not finish sending
CUT_SHORT = object()


def _read_body(environ, limit):
    """The request body; None when it is larger than ``limit`` (then it is
    not read); :data:`CUT_SHORT` when the connection ended before the body
    did (fewer bytes than Content-Length, or the server's input stream
    failed): none of it may reach the handlers."""
    stream = environ.get('wsgi.input')
    if stream is None:
        return b''
    length = environ.get('CONTENT_LENGTH')
    try:
        if length:
            try:
                n = int(length)
            except ValueError:
                return None
            if n < 0 or n > limit:
                return None
            chunks = []
            while n > 0:
                chunk = stream.read(n)
                if not chunk:
                    return CUT_SHORT
                chunks.append(chunk)
                n -= len(chunk)
            return b''.join(chunks)
        if environ.get('wsgi.input_terminated') or \
                'chunked' in environ.get('HTTP_TRANSFER_ENCODING',
                                         '').lower():
            chunks = []
            size = 0
            while True:
                chunk = stream.read(min(65536, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    return None
            return b''.join(chunks)
    except (OSError, ValueError):
        # the WSGI server's input gave up (gevent raises when the client
        # leaves mid-body; a broken chunked encoding)
        return CUT_SHORT
    return b''


#: how long a POST's answer waits for the handlers of its messages
POST_SETTLE = 0.1


def _always():
    return True


def handle(server, environ, start_response):
    """Serve one WSGI request on the Engine.IO path."""
    driver = server.driver
    driver.ensure_service()
    start_response = _connection.prepare(environ, start_response)
    engine = driver.engine
    lock = driver.lock
    method = environ.get('REQUEST_METHOD', 'GET')
    headers = _headers(environ)
    is_ws = _wsp.upgrade_requested(headers)
    req = Request(method, parse_query(environ.get('QUERY_STRING', '')),
                  headers, environ.get('wsgi.url_scheme', 'http'), None,
                  is_ws, environ)
    if is_ws:
        return _websocket(driver, req, environ, start_response)
    if method == 'POST':
        body = _read_body(environ, engine.config.max_http_buffer_size)
        if body is CUT_SHORT:
            # the client left before the end of its body: nothing of it
            # reaches the handlers (the engine ends the session); the 400
            # is for the logs
            out = driver.call(engine.post_lost, req, time.monotonic())
            return _respond(start_response, out.response)
        if body is None:
            req.too_large = True
            body = b''
        req.body = body
    forward = getattr(server.manager, 'forward_request', None)
    if forward is not None:
        # a Redis manager: a session of another worker is served there
        # (engineio_fast/cluster/redis_forward.py)
        sid = req.query.get('sid')
        if sid and engine.get(sid) is None:
            answer = forward(sid, method, environ.get('QUERY_STRING', ''),
                             headers, req.body)
            if answer is not None:
                from ...cluster.redis_forward import status_line
                status, out, payload = answer
                start_response(status_line(status), out)
                return [payload]
    # async_handlers: the pool runs the events' handlers; a POST is
    # answered once they have run, or after POST_SETTLE (a longer handler
    # goes on by itself), so that the quick ones' answers are queued
    # before the client polls for them; else they run here, before the
    # answer
    out = driver.call(engine.handle_http, req, time.monotonic(),
                      alive=_always,
                      settle=POST_SETTLE if method == 'POST' else 0.0)
    kind = out.kind
    if kind == _RESPOND:
        return _respond(start_response, out.response)
    s = out.session
    if kind == _CONNECT:
        # the handlers of a session closed meanwhile run after this one
        done = driver.handshake(out, req, environ)
        return _respond(start_response, done.response)
    # _WAIT: park this GET until the engine queues something for it
    event = driver.mode.Event()
    wake = event.set
    resp = None
    peer = _peer_socket(environ)
    # the engine wakes a parked GET within a ping interval (a ping, or the
    # close of a session that stopped answering); the timeout is a bound
    # of last resort, or, when the client's socket is known, how often it
    # is looked at (a client that left is reported to the engine)
    limit = engine.config.ping_interval + engine.config.ping_timeout
    if peer is not None:
        limit = min(limit, PEER_CHECK)
    lost = False
    try:
        while True:
            with lock:
                if peer is not None and _peer_gone(peer):
                    # the client went away: do not hand it the queue
                    lost = True
                    break
                resp = engine.take_poll(s, req, out.jsonp)
                if resp is None:
                    event.clear()
                    s.poll_waker = wake
            if resp is not None:
                break
            event.wait(limit)
    finally:
        if resp is None and not lost:
            with lock:
                engine.poll_aborted(s)
    if lost:
        driver.call(engine.poll_lost, s, time.monotonic())
    if resp is None:
        # the client is gone; this answer is for the server's logs only
        resp = engine.policy.error(req, BAD_REQUEST)
    return _respond(start_response, resp)


def _peer_socket(environ):
    """The real socket of this request's connection, when the WSGI server
    exposes it (to notice a client that left while its GET was parked)."""
    sock = environ.get('werkzeug.socket') or environ.get('gunicorn.socket')
    if sock is None:
        inp = environ.get('eventlet.input')
        if inp is not None and hasattr(inp, 'get_socket'):
            sock = inp.get_socket()
    if sock is None and 'uwsgi.version' not in environ and \
            environ.get('SERVER_SOFTWARE', '').startswith('gevent'):
        inp = environ.get('wsgi.input')
        rfile = getattr(inp, 'rfile', inp)
        sock = getattr(getattr(rfile, 'raw', None), '_sock', None)
    if sock is None:
        return None
    if _is_tls(sock):
        return None     # no MSG_PEEK through TLS
    sock = _real_socket(sock)
    return sock if hasattr(sock, 'recv') else None


_PEEK = socket.MSG_PEEK | _MSG_DONTWAIT


def _peer_gone(sock):
    """True when the client closed its end (EOF or an error); a pipelined
    next request or nothing at all means it is still there."""
    if not _MSG_DONTWAIT:
        return False
    try:
        return sock.recv(1, _PEEK) == b''
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    except ValueError:    # closed socket object
        return True


# ----------------------------------------------------------------------
# websocket
class _Hijack:
    """How one WSGI server hands over a client's socket."""

    def __init__(self, sock, recv, done, handshake_sent=False, answer=None):
        self.sock = sock          # for non-blocking sends (a real socket)
        self.recv = recv          # blocking or cooperative recv(n)
        self.done = done          # WSGI return value once it is over
        # the server answered the handshake before the application ran
        # (gevent-websocket): it cannot be refused with an HTTP response
        self.handshake_sent = handshake_sent
        # the server's own call that sends the 101 and sets sock and recv
        # (uWSGI), made once the handshake is accepted; None: the 101 of
        # protocol.websocket.handshake is written on sock
        self.answer = answer


def _is_tls(sock):
    import ssl
    return isinstance(sock, ssl.SSLSocket) or 'SSL' in type(sock).__name__


def _real_socket(sock):
    """The OS-level socket behind a green socket (for non-blocking
    sends that never switch greenlets). A TLS socket is kept as it is:
    its bytes must go through TLS."""
    if _is_tls(sock):
        return sock
    cls = type(sock).__module__ or ''
    if cls.startswith('eventlet'):
        return getattr(sock, 'fd', sock)
    if cls.startswith('gevent'):
        return getattr(sock, '_sock', sock)
    return sock


def _hijack(environ):
    """The client's socket and how to end the WSGI call, or None when this
    WSGI server does not expose it."""
    if 'uwsgi.version' in environ:
        return _uwsgi_hijack(environ)
    ws = environ.get('wsgi.websocket')
    if ws is not None and hasattr(ws, 'handler'):
        # gevent-websocket: the handler already answered the handshake
        handler = ws.handler
        rfile = handler.rfile
        read = getattr(rfile, 'read1', None) or rfile.read
        return _Hijack(_real_socket(handler.socket), read, _after_close,
                       handshake_sent=True)
    sock = environ.get('werkzeug.socket')
    if sock is not None:
        return _Hijack(sock, sock.recv, _after_close)
    sock = environ.get('gunicorn.socket')
    if sock is not None:
        def gunicorn_done(start_response):
            # gunicorn's workers end the connection quietly, writing
            # nothing, when the application raises StopIteration
            raise StopIteration()
        return _Hijack(_real_socket(sock), sock.recv, gunicorn_done)
    inp = environ.get('eventlet.input')
    if inp is not None and hasattr(inp, 'get_socket'):
        sock = inp.get_socket()

        def eventlet_done(start_response):
            # eventlet.wsgi writes nothing for a connection marked handled
            import eventlet.wsgi
            local = getattr(eventlet.wsgi, 'WSGI_LOCAL', None)
            if local is not None:
                local.already_handled = True
                return []
            return eventlet.wsgi.ALREADY_HANDLED
        return _Hijack(_real_socket(sock), sock.recv, eventlet_done)
    if environ.get('SERVER_SOFTWARE', '').startswith('gevent'):
        # gevent.pywsgi: for an upgrade request wsgi.input is the
        # connection's buffered reader itself, otherwise an Input holding it
        inp = environ.get('wsgi.input')
        sock = getattr(inp, 'socket', None)
        if sock is None:
            rfile = getattr(inp, 'rfile', inp)
            raw = getattr(rfile, 'raw', None)
            sock = getattr(raw, '_sock', None)
        if sock is not None:
            return _Hijack(_real_socket(sock), sock.recv, _after_close)
    return None


class _FdSocket:
    """The few socket methods the websocket needs, on a bare fd (uWSGI
    hands over a file descriptor, not a socket object)."""

    def __init__(self, fd, wait_read):
        self.fd = fd
        self._wait_read = wait_read
        os.set_blocking(fd, False)

    def fileno(self):
        return self.fd

    def gettimeout(self):
        return 0.0

    def send(self, data, flags=0):
        return _raw_os.write(self.fd, data)

    def recv(self, n):
        while True:
            try:
                return _raw_os.read(self.fd, n)
            except BlockingIOError:
                self._wait_read(self.fd)

    def shutdown(self, how):
        sock = socket.socket(fileno=self.fd)
        try:
            sock.shutdown(how)
        finally:
            sock.detach()


def _uwsgi_hijack(environ):
    import uwsgi
    from gevent.socket import wait_read

    def answer():
        # uWSGI writes the 101 itself (with no extension: no deflate), and
        # only then may the socket be taken over (made non-blocking)
        uwsgi.websocket_handshake(environ.get('HTTP_SEC_WEBSOCKET_KEY', ''),
                                  environ.get('HTTP_ORIGIN', ''))
        hijack.sock = _FdSocket(uwsgi.connection_fd(), wait_read)
        hijack.recv = hijack.sock.recv

    hijack = _Hijack(None, None, lambda start_response: [], answer=answer)
    return hijack


def _after_close(start_response):
    # the socket is shut down by now: the server's attempt to write this
    # response fails quietly (a dropped connection) and it closes the socket
    start_response('200 OK', [('Content-Length', '0')])
    return []


def _websocket(driver, req, environ, start_response):
    engine = driver.engine
    policy = engine.policy
    hijack = _hijack(environ)
    if hijack is None:
        # this WSGI server does not hand over its socket: not a websocket
        req.is_websocket = False
        out = driver.call(engine.handle_http, req, time.monotonic())
        if out.kind == _RESPOND:
            return _respond(start_response, out.response)
        return _respond(start_response, policy.error(req, BAD_REQUEST))
    hs = None
    if not hijack.handshake_sent:
        # uWSGI writes its own 101, with no extension
        hs = _wsp.handshake(req.method, req.headers,
                            driver.per_message_deflate
                            if hijack.answer is None else False)
        if hs.refusal is not None:
            return _respond(start_response, hs.refusal)
    out = driver.call(engine.handle_http, req, time.monotonic())
    if out.kind == _CONNECT:
        out = driver.handshake(out, req, environ)
    if out.kind == _RESPOND:
        return _refuse(hijack, start_response, out.response)
    if hijack.answer is not None:
        try:
            hijack.answer()
        except OSError:
            # the server could not switch: the websocket never opened
            driver.call(engine.ws_closed, out.link, time.monotonic(), True)
            return hijack.done(start_response)
    conn = WsConn(driver, out.link, hijack,
                  hs.deflate if hs is not None else None)
    if hs is not None and hijack.answer is None:
        conn.write(hs.response)
    conn.run()
    return hijack.done(start_response)


def _refuse(hijack, start_response, resp):
    if not hijack.handshake_sent:
        return _respond(start_response, resp)
    # gevent-websocket answered the handshake already: close instead
    try:
        hijack.sock.send(_wsp.close_frame(1008))
    except OSError:
        pass
    return hijack.done(start_response)


class WsConn(_wsp.MessageAssembly):
    """One websocket on a hijacked WSGI connection: its I/O (the protocol
    rules are :class:`~engineio_fast.protocol.websocket.MessageAssembly`'s).
    """

    __slots__ = ('driver', 'link', 'sock', 'recv', 'mu', 'flushing',
                 'again', 'out', 'dead', 'closed', 'close_sent', 'kill_at',
                 'pending_wake', 'fd', 'blocking_send', 'half_close', 'told')

    def __init__(self, driver, link, hijack, deflate):
        _wsp.MessageAssembly.__init__(
            self, deflate, driver.engine.config.max_http_buffer_size)
        self.driver = driver
        self.link = link
        self.sock = hijack.sock
        self.recv = hijack.recv
        self.mu = driver.mode.Lock()
        self.flushing = False
        self.again = False
        self.out = None          # bytes the socket has not taken yet
        self.dead = False        # the socket is unusable
        self.closed = False      # the reader is done
        self.close_sent = False
        self.half_close = False
        self.told = False        # the engine heard of the end
        self.kill_at = None
        self.pending_wake = False
        try:
            self.fd = self.sock.fileno()
        except (OSError, AttributeError):
            self.fd = -1
        if not driver.mode.green and not _is_tls(self.sock) and \
                self.sock.gettimeout():
            # a send must never wait: make it a plain blocking socket and
            # send with MSG_DONTWAIT (the reader blocks; it is ended by a
            # shutdown, never by a timeout)
            self.sock.settimeout(None)
        self.blocking_send = _is_tls(self.sock) or not _MSG_DONTWAIT
        link.waker = self.wake

    # -- writing (any thread) ---------------------------------------------
    def _send_now(self, data):
        """Send what the socket takes without waiting (called under
        :attr:`mu`). TLS sockets (and platforms without MSG_DONTWAIT) send
        everything, waiting as the socket does: flags cannot go through
        TLS."""
        if self.blocking_send:
            self.sock.sendall(data)
            return len(data)
        return self.sock.send(data, _MSG_DONTWAIT)

    def wake(self):
        """The engine queued something (called under the server lock)."""
        if not self.pending_wake:
            self.pending_wake = True
            self.driver.woke(self)

    def write(self, data):
        """Send ``data`` without blocking; what the socket does not take
        waits in :attr:`out` for the service task."""
        watch = False
        with self.mu:
            if self.dead:
                return
            if self.out is not None:
                self.out += data
                return
            try:
                n = self._send_now(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                self._kill_locked()
                return
            if n < len(data):
                self.out = bytearray(memoryview(data)[n:])
                watch = True
        if watch:
            self.driver.watch(self)

    def flush(self):
        """Write what the engine queued for this link, in order; one
        thread at a time, the others leave it to that one."""
        with self.mu:
            if self.flushing:
                self.again = True
                return
            self.flushing = True
        try:
            driver = self.driver
            link = self.link
            take = driver.engine.ws_take
            while True:
                if self.out is not None and self.kill_at is None and \
                        link.closing and not self.dead:
                    # the session ended while this client was not reading:
                    # what waits gets the close timeout to leave, then the
                    # connection is killed (the engine's queue is freed)
                    self.kill_at = time.monotonic() + \
                        driver.ws_close_timeout
                    driver.watch(self)
                if self.out is None and not self.dead:
                    with driver.lock:
                        items = take(link)
                        closing = link.closing
                    if items:
                        if self.deflate is None:
                            self.write(_build_frames(items))
                        else:
                            self.write(self.deflate.frames(items))
                    if closing and self.out is None:
                        self.initiate_close(link.close_code)
                with self.mu:
                    if not self.again:
                        self.flushing = False
                        return
                    self.again = False
        except BaseException:
            with self.mu:
                self.flushing = False
            raise

    def on_writable(self):
        """Service task: the socket can take more. Returns True while
        bytes remain."""
        with self.mu:
            out = self.out
            if out is None or self.dead:
                return False
            try:
                n = self._send_now(out)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                self._kill_locked()
                return False
            del out[:n]
            if out:
                return True
            self.out = None
            if self.half_close:
                self._shut_wr_locked()
        self.flush()
        return self.out is not None

    def initiate_close(self, code):
        """The engine ended this link: close frame, then half-close; the
        reader waits (bounded) for the client to finish."""
        if self.close_sent:
            return
        self.close_sent = True
        # None: a close frame without a status code
        self.write(_wsp.close_frame(code))
        self.kill_at = time.monotonic() + self.driver.ws_close_timeout
        with self.mu:
            # the FIN follows the close frame; if bytes are still waiting,
            # on_writable sends it once they are out
            self.half_close = True
            if self.out is None:
                self._shut_wr_locked()
        self.driver.watch(self)

    def _shut_wr_locked(self):
        if not self.dead:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def kill(self):
        with self.mu:
            self._kill_locked()

    def _kill_locked(self):
        if not self.dead:
            self.dead = True
            self.out = None
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- reading (the connection's own thread) -------------------------------
    def run(self):
        """Serve the websocket until it ends; what it receives goes to the
        handlers (the pool's, or this thread with async_handlers=False)."""
        self.flush()
        buf = bytearray()
        recv = self.recv
        max_size = self.max_size
        receive = self.receive
        try:
            while not self.closed and not self.dead:
                try:
                    data = recv(_READ_SIZE)
                except (OSError, ValueError):
                    break
                if not data:
                    break
                if self.close_sent:
                    continue   # draining until the client closes
                buf += data
                frames, consumed, error = _parse_frames(buf, max_size, True)
                if consumed:
                    del buf[:consumed]
                receive(frames, error)
        finally:
            self.closed = True
            self._finish()

    def _deliver(self, data):
        driver = self.driver
        driver.call(driver.engine.ws_receive, self.link, data,
                    time.monotonic(), alive=self._alive)
        if self.link.closing:
            self.flush()
        return self.closed or self.close_sent

    def _alive(self):
        return not (self.closed or self.dead)

    def _pong(self, payload):
        out = self.out
        if self.close_sent or (out is not None and len(out) > _PONG_SKIP):
            # nothing after our close frame; and a client that pings
            # without reading: RFC 6455 lets us answer only the latest
            # ping, so the pongs cannot pile up in `out`
            return
        self.write(_wsp.pong_frame(payload))

    def _send_close(self, code):
        if self.failed:
            # a protocol violation: close frame and FIN as for a session
            # the engine ended, then the reader drains until the client's
            # FIN, killed at kill_at (MessageAssembly's contract); the
            # session ends now
            self.initiate_close(code)
            self._tell_engine()
            return
        # the client closed: answer and stop
        if not self.close_sent:
            self.close_sent = True
            self.write(_wsp.close_frame(code))
        self.closed = True

    def _tell_engine(self):
        # the engine hears of this websocket's end once
        if not self.told:
            self.told = True
            driver = self.driver
            driver.call(driver.engine.ws_closed, self.link,
                        time.monotonic(), self.failed)

    def _finish(self):
        driver = self.driver
        self._tell_engine()
        # give what is still buffered a bounded time to leave
        deadline = time.monotonic() + driver.ws_close_timeout
        while self.out is not None and not self.dead and \
                time.monotonic() < deadline:
            driver.mode.sleep(0.01)
        self.kill()
