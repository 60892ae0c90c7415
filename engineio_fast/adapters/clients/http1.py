"""A small, fast HTTP/1.1 client for the Engine.IO clients' long-polling.

:class:`Http1Session` (blocking sockets; thread-safe) and
:class:`AsyncHttp1Session` (asyncio: one ``asyncio.Protocol`` per
connection, no streams) send one request at a time per connection and keep
connections alive per origin. Responses are parsed with httptools. The two
sessions differ only in I/O: URL parsing, the request bytes, the response
parser (:class:`_Response`, which also bounds and decodes the body), the
cookie jar and the pool are shared.

Deliberately small: no proxies (``HTTP_PROXY`` and friends are ignored), no
redirects, no authentication, no request streaming or pipelining. Cookies
are host-only. The DNS lookup is not bounded by ``connect_timeout`` in the
blocking session.
"""

import asyncio
import collections
import functools
import http.cookiejar
import re
import select
import socket
import ssl
import threading
import time
import zlib
from typing import Any, cast

import httptools

# (typeshed leaves it out: it is not in the module's __all__)
_http2time = http.cookiejar.http2time  # type: ignore[attr-defined]

__all__ = ['HttpError', 'ConnectError', 'ReadTimeout', 'ResponseTooLarge',
           'ProtocolError', 'Http1Session', 'AsyncHttp1Session']

MAX_BODY = 16 * 1024 * 1024
MAX_HEAD = 64 * 1024        # bound on a response's header section
_RECV = 65536
_monotonic = time.monotonic


class HttpError(Exception):
    """Base class of the errors of this module."""


class ConnectError(HttpError):
    """DNS, TCP connect or TLS handshake failed or timed out, or the session
    is closed."""


class ReadTimeout(HttpError):
    """No complete response within ``read_timeout``."""


class ResponseTooLarge(HttpError):
    """The body (raw or decoded) is larger than ``max_body``."""


class ProtocolError(HttpError):
    """A malformed or truncated response, or a broken connection."""


class _Stale(ProtocolError):
    """A reused keep-alive connection failed before any response byte came:
    the server had closed it while idle. The request is retried once."""


# -- URLs and requests --------------------------------------------------------

_URL = re.compile(r'(https?)://([^/?#\s@]+)((?:[/?][^#\s]*)?)(?:#.*)?\Z',
                  re.I | re.S)
_AUTHORITY = re.compile(
    r'(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._~-]+))(?::(\d{1,5}))?\Z')

_Request = collections.namedtuple(
    '_Request', 'origin data head_only max_body reused')


@functools.lru_cache(maxsize=64)
def _origin(scheme, authority):
    """``(scheme, host, port, host_header)``: the pool key of a URL."""
    m = _AUTHORITY.match(authority)
    if m is None:
        raise ValueError('invalid host in URL: %r' % authority)
    ipv6, name, port = m.groups()
    scheme = scheme.lower()
    default = 443 if scheme == 'https' else 80
    port = int(port) if port else default
    if not 0 < port < 65536:
        raise ValueError('invalid port in URL: %r' % authority)
    host = ipv6 or name.lower()
    host_header = '[%s]' % host if ipv6 else host
    if port != default:
        host_header += ':%d' % port
    return scheme, host, port, host_header


def _split(url):
    """``(origin, target)`` of an http(s) URL; the path and query are kept
    verbatim as the request target."""
    m = _URL.match(url)
    if m is None:
        raise ValueError('not an http(s) URL: %r' % (url,))
    target = m.group(3)
    if not target.startswith('/'):
        target = '/' + target
    return _origin(m.group(1), m.group(2)), target


def _request_bytes(method, target, host_header, headers, body, cookie):
    """The request head (plus body). The caller's headers win over ours; a
    caller's Cookie is appended to the jar's."""
    lines = []
    given = set()
    if headers:
        for name, value in (headers.items() if hasattr(headers, 'items')
                            else headers):
            key = name.lower()
            if key == 'cookie':
                cookie = '%s; %s' % (cookie, value) if cookie else value
                continue
            given.add(key)
            lines.append('%s: %s\r\n' % (name, value))
    if 'host' not in given:
        lines.insert(0, 'Host: %s\r\n' % host_header)
    if 'accept-encoding' not in given:
        lines.append('Accept-Encoding: gzip, deflate\r\n')
    if 'user-agent' not in given:
        lines.append('User-Agent: engineio-fast\r\n')
    if body is not None and 'content-length' not in given:
        lines.append('Content-Length: %d\r\n' % len(body))
    if cookie:
        lines.append('Cookie: %s\r\n' % cookie)
    head = '%s %s HTTP/1.1\r\n%s\r\n' % (method, target, ''.join(lines))
    # each line ends with our CRLF: any other CR or LF came from the caller
    # (header injection), as would a space in the method
    n = len(lines) + 2
    if head.count('\n') != n or head.count('\r') != n or ' ' in method:
        raise ValueError('CR, LF or space in the method or a header')
    data = head.encode('latin-1')
    return data + body if body else data


# -- responses ----------------------------------------------------------------

class _Response:
    """httptools callbacks collecting one response; ``feed(b'')`` is EOF.

    Raises (from ``feed``) the HttpError the response deserves. ``done``
    turns true once the final response is complete; 1xx interim responses
    are skipped."""

    __slots__ = ('parser', 'head_only', 'max_body', 'nbytes', 'hsize',
                 'status', 'headers_done', 'done', 'keep_alive', 'extra',
                 'length', 'chunked', 'encoding', 'cookies', 'chunks',
                 'raw', 'size', 'inflate', 'body')

    def __init__(self, req):
        self.parser = httptools.HttpResponseParser(self)
        self.head_only = req.head_only
        self.max_body = req.max_body
        self.nbytes = self.hsize = self.raw = self.size = 0
        self.status = None
        self.headers_done = self.done = self.keep_alive = self.extra = False
        self.cookies = []
        self.chunks = []
        # a zlib decompressor; b'deflate' until the first bytes say which
        # kind; None without a content encoding
        self.inflate: Any = None
        self.body = None
        self.on_message_begin()

    def feed(self, data):
        if not data:
            return self._eof()
        self.nbytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            err = exc.__context__   # what our callback raised
            if isinstance(err, HttpError):
                raise err from None
            raise ProtocolError('bad response: %r' % err) from err
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
            if not self.done:   # else junk after a complete response
                raise ProtocolError('malformed response: %s' % e) from None
            self.extra = True
        # httptools buffers a header line until it ends: bound that too
        if not self.headers_done and self.nbytes > MAX_HEAD:
            raise ProtocolError('response header section too large')

    def _eof(self):
        if self.nbytes == 0:
            raise _Stale('connection closed before any response byte')
        if self.headers_done and self.length is None and not self.chunked:
            self.keep_alive = False     # a close-delimited body
            return self._complete()
        raise ProtocolError('connection closed mid-response')

    def _count(self, n):
        self.hsize += n
        if self.hsize > MAX_HEAD:
            raise ProtocolError('response header section too large')

    def on_message_begin(self):
        if self.done:
            self.extra = True   # bytes after the response: don't reuse
        self.length = self.encoding = None
        self.chunked = False

    def on_status(self, status):
        self._count(len(status) + 15)

    def on_header(self, name, value):
        self._count(len(name) + len(value) + 4)
        if self.headers_done:
            return      # a trailer of a chunked body
        name = name.lower()
        if name == b'content-length':
            self.length = int(value)    # httptools checked the digits
        elif name == b'transfer-encoding':
            self.chunked = b'chunked' in value.lower()
        elif name == b'content-encoding':
            self.encoding = value.strip().lower()
        elif name == b'set-cookie':
            self.cookies.append(value.decode('latin-1'))

    def on_headers_complete(self):
        status = self.parser.get_status_code()
        if status < 200:
            return      # interim (100 Continue): the real response follows
        self.status = status
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()
        if self.length is not None and self.length > self.max_body:
            raise ResponseTooLarge('Content-Length %d > %d' % (
                self.length, self.max_body))
        if self.head_only:
            self._complete()    # no body, whatever the headers say
        elif self.encoding in (b'gzip', b'x-gzip'):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == b'deflate':
            self.inflate = b'deflate'   # zlib or raw: see the first bytes

    def on_body(self, data):
        if self.done:
            return
        self.raw += len(data)
        if self.raw > self.max_body:
            raise ResponseTooLarge('body larger than %d' % self.max_body)
        if self.inflate is not None:
            data = self._decode(data)
        self.chunks.append(data)

    def on_message_complete(self):
        if self.headers_done and not self.done:
            self._complete()

    def _decode(self, data, flush=False):
        d = self.inflate
        if d == b'deflate':
            # "deflate" is meant to be zlib-wrapped, but some servers send
            # a raw stream: a zlib header is 0x?8 and a multiple of 31
            wrapped = (len(data) > 1 and data[0] & 0x0F == 8
                       and (data[0] << 8 | data[1]) % 31 == 0)
            d = self.inflate = zlib.decompressobj(
                zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        room = self.max_body - self.size
        try:
            # at most room + 1 bytes: a zip bomb never allocates more
            out = d.flush() if flush else d.decompress(data, room + 1)
        except zlib.error as exc:
            raise ProtocolError('bad %s body: %s' % (
                cast(bytes, self.encoding).decode(), exc)) from None
        if len(out) > room:
            raise ResponseTooLarge('decoded body larger than %d' % (
                self.max_body))
        self.size += len(out)
        return out

    def _complete(self):
        if self.inflate is not None and self.inflate != b'deflate':
            self.chunks.append(self._decode(b'', True))
        self.body = b''.join(self.chunks)
        self.done = True


# -- cookies ------------------------------------------------------------------

class _CookieJar:
    """Host-only cookies: ``{host: {name: (value, secure, expires)}}``."""

    def __init__(self):
        self._hosts = {}

    def store(self, host, lines):
        now = time.time()
        jar = self._hosts.setdefault(host, {})
        for line in lines:
            first, *attrs = line.split(';')
            name, eq, value = first.partition('=')
            name = name.strip()
            if not eq or not name:
                continue
            expires = max_age = None
            secure = False
            for attr in attrs:
                key, _, arg = attr.partition('=')
                key = key.strip().lower()
                if key == 'max-age':
                    try:
                        max_age = now + int(arg)
                    except ValueError:
                        pass
                elif key == 'expires':
                    expires = _http2time(arg.strip())
                elif key == 'secure':
                    secure = True
            expires = max_age if max_age is not None else expires
            if expires is not None and expires <= now:
                jar.pop(name, None)
            else:
                jar[name] = (value.strip(), secure, expires)

    def header(self, host, https):
        jar = self._hosts.get(host)
        if not jar:
            return None
        now = time.time()
        pairs = []
        for name, (value, secure, expires) in list(jar.items()):
            if expires is not None and expires <= now:
                jar.pop(name, None)
            elif https or not secure:
                pairs.append('%s=%s' % (name, value))
        return '; '.join(pairs) or None


# -- the pool, shared by both sessions ----------------------------------------

class _Pool:
    """Idle keep-alive connections per origin, the busy ones (so close()
    reaches them), the cookie jar, and the steps of a request that do no
    I/O. A connection object has ``usable()``, ``close()`` and
    ``roundtrip()``."""

    def __init__(self, ssl_context=None, max_idle_per_origin=2):
        self._ssl = ssl_context
        self._max_idle = max_idle_per_origin
        self._idle = {}     # origin -> [connection], the newest last
        self._busy = set()
        self._lock = threading.Lock()
        self._closed = False
        self._jar = _CookieJar()

    def cookie_header(self, url):
        """The Cookie header the next request to ``url`` would carry
        (``'a=1; b=2'``), or None."""
        (scheme, host, _, _), _ = _split(url)
        return self._jar.header(host, scheme == 'https')

    def _ssl_context(self):
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _prepare(self, method, url, headers, body, max_body):
        origin, target = _split(url)
        scheme, host, _, host_header = origin
        cookie = self._jar.header(host, scheme == 'https')
        data = _request_bytes(method, target, host_header, headers, body,
                              cookie)
        return _Request(origin, data, method == 'HEAD', max_body, False)

    def _check_open(self):
        if self._closed:
            raise ConnectError('the session is closed')

    def _checkout(self, req):
        """An idle connection to the request's origin that still looks
        usable, or None."""
        with self._lock:
            idle = self._idle.get(req.origin)
            while idle:
                conn = idle.pop()
                if conn.usable():
                    self._busy.add(conn)
                    return conn
                conn.close()
        return None

    def _register(self, conn):
        """A new connection, now busy (closed if the session closed while
        it was being made)."""
        with self._lock:
            if not self._closed:
                self._busy.add(conn)
                return conn
        conn.close()
        raise ConnectError('the session is closed')

    def _finish(self, req, conn, resp):
        """Pool or close ``conn`` after a complete response; the result."""
        if resp.cookies:
            self._jar.store(req.origin[1], resp.cookies)
        with self._lock:
            self._busy.discard(conn)
            idle = self._idle.setdefault(req.origin, [])
            if (resp.keep_alive and not resp.extra and not self._closed
                    and len(idle) < self._max_idle):
                idle.append(conn)
                conn = None
        if conn is not None:
            conn.close()
        return resp.status, resp.body

    def _failed(self, req, conn, exc, resp):
        """Close ``conn`` after ``exc``; the exception to raise."""
        with self._lock:
            self._busy.discard(conn)
        conn.close()
        if not isinstance(exc, Exception):
            return exc      # CancelledError, KeyboardInterrupt...
        err: Exception
        if self._closed:
            err = ConnectError('the session is closed')
        elif isinstance(exc, _Stale) and not req.reused:
            err = ProtocolError(str(exc))   # retried only if reused
        elif isinstance(exc, HttpError):
            return exc
        elif isinstance(exc, (socket.timeout, TimeoutError)):
            err = ReadTimeout('no complete response within read_timeout')
        elif req.reused and resp.nbytes == 0 and isinstance(
                exc, (ConnectionError, ssl.SSLError)):
            err = _Stale('reused connection failed: %r' % exc)
        elif isinstance(exc, OSError):
            err = ProtocolError('connection failed: %r' % exc)
        else:
            return exc
        err.__cause__ = exc
        return err

    def _shutdown(self):
        with self._lock:
            self._closed = True
            conns = list(self._busy)
            for idle in self._idle.values():
                conns.extend(idle)
            self._idle.clear()
            self._busy.clear()
        for conn in conns:
            conn.close()


# -- blocking I/O -------------------------------------------------------------

if hasattr(select, 'poll'):
    def _readable(sock):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
else:  # pragma: no cover - Windows
    def _readable(sock):
        return bool(select.select([sock], [], [], 0)[0])


class _SyncConn:
    __slots__ = ('sock',)

    def __init__(self, sock):
        self.sock = sock

    def usable(self):
        # idle, there is nothing to read: readable means EOF, a reset or junk
        sock = self.sock
        return not (_readable(sock) or isinstance(sock, ssl.SSLSocket)
                    and sock.pending())

    def close(self):
        try:
            # wakes a recv() blocked in another thread (close() does not);
            # the plain socket's shutdown, to leave the TLS object alone
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def roundtrip(self, data, resp, timeout):
        sock = self.sock
        deadline = _monotonic() + timeout
        while timeout > 0:
            sock.settimeout(timeout)
            if data:
                sock.sendall(data)
                data = None
            else:
                resp.feed(sock.recv(_RECV))
                if resp.done:
                    return
            timeout = deadline - _monotonic()
        raise ReadTimeout('no complete response within read_timeout')


class Http1Session(_Pool):
    """A blocking HTTP/1.1 client with a keep-alive pool; thread-safe.

    Args:
        ssl_context: the ``ssl.SSLContext`` for https (default:
            ``ssl.create_default_context()``).
        max_idle_per_origin: idle connections kept per (scheme, host, port);
            concurrent requests open more, closed when done.
    """

    def request(self, method, url, headers=None, body=None, *,
                connect_timeout=5.0, read_timeout=5.0, max_body=MAX_BODY):
        """Send a request and read the whole response.

        Args:
            method: ``'GET'``, ``'POST'``...
            url: ``http://`` or ``https://`` URL; its path and query are
                sent verbatim.
            headers: a dict or a list of ``(name, value)`` pairs; they win
                over the defaults (Host, Accept-Encoding, User-Agent,
                Content-Length); a Cookie is appended to the jar's.
            body: ``bytes`` or None.
            connect_timeout: bound on TCP connect plus TLS handshake.
            read_timeout: bound on the time from sending the request to the
                end of the response.
            max_body: bound on the body, raw and decoded.

        Returns:
            ``(status, body)``, the body decoded if gzip or deflate.

        Raises:
            ConnectError, ReadTimeout, ResponseTooLarge, ProtocolError;
            ValueError for a bad URL or a CR/LF in a header.
        """
        req = self._prepare(method, url, headers, body, max_body)
        conn = self._checkout(req)
        if conn is not None:
            try:
                return self._exchange(req._replace(reused=True), conn,
                                      read_timeout)
            except _Stale:
                pass    # closed by the server while idle: once more, fresh
        conn = self._connect(req.origin, connect_timeout)
        return self._exchange(req, conn, read_timeout)

    def close(self):
        """Close every connection, idle or in use; later requests raise
        ConnectError."""
        self._shutdown()

    def _connect(self, origin, timeout):
        self._check_open()
        scheme, host, port, _ = origin
        deadline = _monotonic() + timeout
        sock = None
        try:
            sock = socket.create_connection((host, port), timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == 'https':
                sock.settimeout(max(deadline - _monotonic(), 1e-3))
                sock = self._ssl_context().wrap_socket(
                    sock, server_hostname=host)
        except OSError as exc:
            if sock is not None:
                sock.close()
            raise ConnectError('cannot connect to %s port %d: %s' % (
                host, port, exc)) from exc
        return self._register(_SyncConn(sock))

    def _exchange(self, req, conn, read_timeout):
        resp = _Response(req)
        try:
            conn.roundtrip(req.data, resp, read_timeout)
        except BaseException as exc:
            # _failed sets the cause itself
            raise self._failed(req, conn, exc, resp)  # noqa: B904
        return self._finish(req, conn, resp)


# -- asyncio I/O --------------------------------------------------------------

class _AsyncConn(asyncio.Protocol):
    """One connection: the task in ``roundtrip`` sleeps on ``waiter``,
    which the protocol callbacks resolve (never with an exception: errors go
    to ``error``, so no future holds an unretrieved one)."""

    __slots__ = ('loop', 'transport', 'resp', 'error', 'waiter', 'paused',
                 'lost')

    def __init__(self, loop):
        self.loop = loop
        # set by connection_made, which asyncio calls first
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.resp = self.error = self.waiter = None
        self.paused = self.lost = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        resp = self.resp
        if resp is None or resp.done or self.error is not None:
            # nobody asked: junk, or the server closing an idle connection
            if data and not self.lost:
                self.transport.abort()
            self.lost = True
            return
        try:
            resp.feed(data)
        except Exception as exc:
            return self._wake(exc)
        if resp.done:
            self._wake()

    def eof_received(self):
        self.data_received(b'')

    def connection_lost(self, exc):
        if exc is None:
            self.data_received(b'')
        elif self.resp is not None:
            self._wake(exc)
        self.lost = True
        self.paused = False
        self._wake()

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        self._wake()

    def _wake(self, exc=None):
        if exc is not None and self.error is None:
            self.error = exc
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _timeout(self):
        self._wake(ReadTimeout('no complete response within read_timeout'))

    async def _wait(self):
        if self.error is None:
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.error is not None:
            raise self.error

    def usable(self):
        return not (self.lost or self.transport.is_closing()) and (
            self.loop is asyncio.get_running_loop())

    def close(self):
        self.lost = True
        try:
            self.transport.abort()
        except RuntimeError:    # its event loop is closed: nothing to do
            pass

    async def roundtrip(self, data, resp, timeout):
        self.resp = resp
        self.error = None
        timer = self.loop.call_later(timeout, self._timeout)
        try:
            while self.paused:  # our earlier bytes are still unsent
                await self._wait()
            self.transport.write(data)
            while not resp.done:
                await self._wait()
        finally:
            timer.cancel()
            self.resp = None


class AsyncHttp1Session(_Pool):
    """The asyncio twin of :class:`Http1Session`: the same arguments and
    behaviour; ``request`` and ``close`` are coroutines. Safe for concurrent
    requests from several tasks of one event loop."""

    async def request(self, method, url, headers=None, body=None, *,
                      connect_timeout=5.0, read_timeout=5.0,
                      max_body=MAX_BODY):
        """Send a request and read the whole response; see
        :meth:`Http1Session.request`. Cancelling the task closes the
        connection."""
        req = self._prepare(method, url, headers, body, max_body)
        idle = self._checkout(req)
        if idle is not None:
            try:
                return await self._exchange(
                    req._replace(reused=True), idle, read_timeout)
            except _Stale:
                pass    # closed by the server while idle: once more, fresh
        return await self._exchange(
            req, await self._connect(req.origin, connect_timeout),
            read_timeout)

    async def _connect(self, origin, timeout):
        self._check_open()
        scheme, host, port, _ = origin
        loop = asyncio.get_running_loop()
        tls = self._ssl_context() if scheme == 'https' else None
        try:
            _, conn = await asyncio.wait_for(loop.create_connection(
                functools.partial(_AsyncConn, loop), host, port, ssl=tls,
                server_hostname=host if tls else None), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectError('cannot connect to %s port %d: %r' % (
                host, port, exc)) from exc
        return self._register(conn)

    async def _exchange(self, req, conn, read_timeout):
        resp = _Response(req)
        try:
            await conn.roundtrip(req.data, resp, read_timeout)
        except BaseException as exc:
            # _failed sets the cause itself
            raise self._failed(req, conn, exc, resp)  # noqa: B904
        return self._finish(req, conn, resp)

    async def close(self):
        """Close every connection, idle or in use; later requests raise
        ConnectError."""
        self._shutdown()
        await asyncio.sleep(0)  # let the transports call connection_lost
