"""HTTP/1.1 for the built-in server: an asyncio Protocol over httptools.

Keep-alive, pipelined requests answered in order, chunked bodies,
``Expect: 100-continue``, limits on the request line, header bytes and
header count, per-phase timeouts (slowloris), long-poll parking and write
flow control. Engine.IO requests go straight to the engine; the others go
to the ASGIApp through the ASGI bridge; websocket upgrades on the Engine.IO
path are switched to :class:`.ws_protocol.WsProtocol`.

With the compiled kernels this module is its compiled twin: this source
built by Cython with the attribute types of
``src_pyx/twins/engineio_fast/adapters/builtin/_http_protocol_c.pxd``
(setup.py), whose names replace these at the end of the module. So the
classes here have no Python base class (an extension type cannot have
one): :class:`HttpProtocol` has every method of ``asyncio.Protocol``
itself, and every attribute either class sets is declared in that .pxd.
"""

import asyncio
import time
import urllib.parse
from collections import deque
from functools import partial
from typing import Any, Deque, Dict, List, Optional, Tuple

import httptools

from ... import _accel
from ...protocol import engine as _engine
from ...protocol import websocket as _wsp
from ...protocol.http import (
    BAD_REQUEST,
    JSON_TYPE,
    Request,
    error_body,
    parse_query,
)
from ..environ import make_environ_raw
from . import asgi_bridge as _bridge
from . import ws_protocol as _ws
from .wire import plain, render_response

_RESPOND = _engine.RESPOND
_CONNECT = _engine.CONNECT
_WAIT = _engine.WAIT
_WEBSOCKET = _engine.WEBSOCKET

# header dicts kept per connection (a POST's and a GET's)
_HEADER_DICTS = 2
# the largest URL, and header list (bytes of names and values), a
# connection keeps parsed for its next request: an idle connection holds
# no more than a few of these
_MEMO_BYTES = 4096

# the request methods as str, without a decode for each request
_METHODS = {m.encode(): m for m in ('GET', 'POST', 'OPTIONS', 'HEAD', 'PUT',
                                    'DELETE', 'PATCH')}


class _Stop(Exception):
    """Raised from a parser callback after the request was answered."""


class _Reject(Exception):
    """Raised from a parser callback to answer with ``status`` and close."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class ParsedRequest:
    """One request as parsed off the wire."""

    __slots__ = ('method', 'url', 'path', 'query_string', 'headers',
                 'body', 'too_big', 'keep_alive', 'http_version', 'on_eio',
                 'length', 'expect', 'header_bytes', 'proxied')

    def __init__(self):
        self.method = 'GET'
        self.url = b''
        self.path = '/'
        self.query_string = b''
        self.headers = []
        self.body = []
        self.too_big = False
        self.keep_alive = True
        self.http_version = '1.1'
        # whether the path is the Engine.IO path (set with the path)
        self.on_eio = False
        # the first Content-Length and Expect values, as sent (noted as
        # the headers arrive: no second pass over them)
        self.length = None
        self.expect = None
        # bytes of the header names and values (set with the headers)
        self.header_bytes = 0
        # whether a header has the length of X-Forwarded-For or
        # X-Forwarded-Proto: only then can a trusted proxy's headers say
        # something (ProxyHeaders.resolve reads the names)
        self.proxied = False

    def header_dict(self):
        out: Dict[str, str] = {}
        for name, value in self.headers:
            name = name.decode('latin-1').lower()
            value = value.decode('latin-1')
            out[name] = out[name] + ', ' + value if name in out else value
        return out


class HttpProtocol:
    """One client connection while it speaks HTTP (an asyncio protocol:
    see the module's note on the base class)."""

    def __init__(self, ctx):
        self.ctx = ctx
        # set by connection_made, which asyncio calls first
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser: Any = httptools.HttpRequestParser(self)
        # the request being parsed: set by on_message_begin, so the
        # parser's other callbacks of a request find it set
        self.cur: Optional[ParsedRequest] = None
        self.header_bytes = 0
        self.body_size = 0
        self.body_limit = 0
        self.upgrade = False
        self.pending: Deque[ParsedRequest] = deque()
        self.busy = False
        self.closed = False
        self.write_paused = False
        self.drain_waiter = None
        self.deadline = None
        self.peer = None
        self.sockname = None
        self.poll = None         # (session, Request, jsonp) while parked
        self.poll_scheduled = False
        self.bridge_gone = None  # resolved when a bridged client leaves
        self.in_headers = False  # a request's headers are arriving
        self.request_by = 0.0    # the whole request's deadline
        self.trusted = False     # the peer is a trusted proxy
        # when the bytes being parsed arrived (read once per
        # data_received: the parser's callbacks run inside it)
        self.now = 0.0
        # the last query string parsed into a Request's dict, and that
        # dict; the last few header lists (as tuples) and their dicts
        # (both read-only: the next request on this connection with the
        # same query or headers gets them again)
        self.last_query: Tuple[Optional[bytes], Dict[str, str]] = (None, {})
        # the last URL parsed (a valid one), its path, query string and
        # whether the path is the Engine.IO one
        self.last_url: Tuple[Optional[bytes], str, bytes, bool] = \
            (None, '/', b'', False)
        self.header_dicts = {}

    # -- connection -------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self.peer = transport.get_extra_info('peername')
        # the local address is read when a scope needs it (see scope):
        # most connections never do
        proxy = self.ctx.proxy
        if proxy is not None:
            self.trusted = proxy.trusts(self.peer[0] if self.peer else None)
        self.ctx.http_conns.add(self)
        self.deadline = time.monotonic() + \
            self.ctx.limits['keepalive_timeout']
        if self.ctx.shutting_down:
            transport.close()

    def connection_lost(self, exc):
        self.closed = True
        # the parser holds this object's bound methods: without this, each
        # connection would leave a reference cycle for the cyclic collector
        self.parser = None
        self.ctx.http_conns.discard(self)
        for waiter in (self.drain_waiter, self.bridge_gone):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        ctx = self.ctx
        if self.poll is not None:
            s = self.poll[0]
            self.poll = None
            events = ctx.engine.poll_lost(s, ctx.loop.time())
            if events:
                ctx.driver.fire(events)
        cur = self.cur
        if cur is not None and not self.in_headers and not self.upgrade \
                and cur.method == 'POST' and cur.on_eio:
            # the client left before the end of its POST's body
            self.cur = None
            out = ctx.engine.post_lost(self._request(cur), ctx.loop.time())
            if out.events:
                ctx.driver.fire(out.events)

    def eof_received(self):
        # the client half-closed: the transport closes (as the default
        # asyncio.Protocol.eof_received does)
        return None

    def pause_writing(self):
        # a client that sends requests without reading the responses must
        # not grow the write buffer: stop reading until it drains
        self.write_paused = True
        if not self.closed:
            self.transport.pause_reading()

    def resume_writing(self):
        self.write_paused = False
        if not self.closed and not self.upgrade and \
                len(self.pending) <= self.ctx.limits['max_pipelined']:
            self.transport.resume_reading()
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self):
        """Wait until the transport's write buffer is below its mark."""
        if self.write_paused and not self.closed:
            self.drain_waiter = self.ctx.loop.create_future()
            await self.drain_waiter
            self.drain_waiter = None

    def timed_out(self):
        if self.cur is not None and not self.busy:
            self.reject(408)
        else:
            self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.ctx.http_conns.discard(self)
            self.transport.close()

    def reject(self, status):
        """Answer a request that cannot be parsed or served, then close."""
        if self.closed:
            return
        if self.ctx.access_log is not None:
            # the request line, when the request got that far
            cur = self.cur
            self.log_access(None if cur is None or self.in_headers
                            else cur, status)
        if status == 400:
            self.transport.write(render_response(
                400, [('Content-Type', JSON_TYPE)], error_body(BAD_REQUEST),
                False))
        else:
            self.transport.write(plain(status))
        self.close()

    # -- parsing -----------------------------------------------------------
    def data_received(self, data):
        if self.closed:
            return
        self.now = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if self.upgrade:
                self._websocket(data[exc.args[0]:])
            else:
                self.reject(400)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Stop) or self.closed:
                return
            self.reject(cause.status if isinstance(cause, _Reject) else 500)
        except httptools.HttpParserError:
            self.reject(400)

    def on_message_begin(self):
        self.cur = ParsedRequest()
        self.header_bytes = 0
        self.body_size = 0
        self.upgrade = False
        self.in_headers = True
        limits = self.ctx.limits
        now = self.now
        self.request_by = now + limits['request_timeout']
        self.deadline = min(now + limits['header_timeout'], self.request_by)

    def on_url(self, url):
        cur: ParsedRequest = self.cur  # type: ignore[assignment]
        cur.url += url
        if len(cur.url) > self.ctx.limits['max_request_line']:
            raise _Reject(414)

    def on_header(self, name, value):
        limits = self.ctx.limits
        cur: ParsedRequest = self.cur  # type: ignore[assignment]
        headers = cur.headers
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > limits['max_header_bytes'] or \
                len(headers) >= limits['max_headers']:
            raise _Reject(431)
        headers.append((name, value))
        n = len(name)
        if n == 14:
            if cur.length is None and name.lower() == b'content-length':
                cur.length = value
        elif n == 6 and cur.expect is None and name.lower() == b'expect':
            cur.expect = value
        elif n == 15 or n == 17:
            cur.proxied = True

    def on_headers_complete(self):
        cur: ParsedRequest = self.cur  # type: ignore[assignment]
        parser = self.parser
        self.in_headers = False
        cur.header_bytes = self.header_bytes
        ctx = self.ctx
        if ctx.limit_concurrency is not None and ctx.over_limit():
            cur.method = parser.get_method().decode('ascii', 'replace')
            cur.http_version = parser.get_http_version()
            raise _Reject(503)
        method = parser.get_method()
        cur.method = _METHODS.get(method) or method.decode('ascii', 'replace')
        cur.keep_alive = parser.should_keep_alive()
        cur.http_version = parser.get_http_version()
        url = self.last_url
        if url[0] == cur.url:
            # the URL of this connection's last request again
            _, cur.path, cur.query_string, on_eio = url
        else:
            try:
                parsed = httptools.parse_url(cur.url)
            except httptools.HttpParserInvalidURLError:
                raise _Reject(400) from None
            path = (parsed.path or b'/').decode('latin-1')
            cur.path = urllib.parse.unquote(path) if '%' in path else path
            cur.query_string = parsed.query or b''
            on_eio = self.ctx.is_engineio_path(cur.path)
            if len(cur.url) <= _MEMO_BYTES:
                self.last_url = (cur.url, cur.path, cur.query_string,
                                 on_eio)
        cur.on_eio = on_eio
        self.upgrade = parser.should_upgrade()
        self.body_limit = (self.ctx.engine.config.max_http_buffer_size
                           if on_eio else self.ctx.limits['max_bridge_body'])
        self.deadline = min(self.now + self.ctx.limits['body_timeout'],
                            self.request_by)
        length = None
        if on_eio and cur.method == 'POST':
            length = self._content_length(cur)
            if length is not None and length > self.body_limit and \
                    self._too_large(cur):
                raise _Stop()
        if cur.expect is not None:
            if cur.expect.lower() != b'100-continue':
                raise _Reject(417)
            if length is None:
                length = self._content_length(cur)
            if length is not None and length > self.body_limit:
                raise _Reject(413 if not on_eio else 400)
            self.transport.write(b'HTTP/1.1 100 Continue\r\n\r\n')

    @staticmethod
    def _content_length(cur):
        if cur.length is None:
            return None
        try:
            return int(cur.length)
        except ValueError:
            return None

    def on_body(self, body):
        cur: ParsedRequest = self.cur  # type: ignore[assignment]
        self.body_size += len(body)
        # a trickled body gets body_timeout between its chunks, and no more
        # than request_timeout in all
        self.deadline = min(self.now + self.ctx.limits['body_timeout'],
                            self.request_by)
        if self.body_size > self.body_limit:
            if not cur.too_big:
                if cur.on_eio and self._too_large(cur):
                    raise _Stop()
                cur.too_big = True
            return   # the rest is read and dropped
        cur.body.append(body)

    def _too_large(self, r):
        """An Engine.IO body over the limit: when nothing is ahead of it
        on this connection, answer now (the engine closes that session)
        and close the connection rather than read the rest."""
        if self.busy or self.pending:
            return False
        r.too_big = True
        r.keep_alive = False
        self._engineio(r)
        return True

    def on_message_complete(self):
        cur: ParsedRequest = self.cur  # type: ignore[assignment]
        self.cur = None
        if self.upgrade:
            self.cur = cur   # the upgrade handler takes it
            return
        self.deadline = None
        self.pending.append(cur)
        if len(self.pending) > self.ctx.limits['max_pipelined']:
            self.transport.pause_reading()
        if not self.busy:
            self._next()

    # -- dispatch ----------------------------------------------------------
    def _next(self):
        pending = self.pending
        while pending and not self.busy and not self.closed:
            r = pending.popleft()
            if len(pending) == self.ctx.limits['max_pipelined'] and \
                    not self.write_paused:
                self.transport.resume_reading()
            if r.path == self.ctx.metrics_path:
                self._metrics(r)
            elif r.on_eio:
                self._engineio(r)
            else:
                self.busy = True
                self.ctx.spawn(self._bridge(r))
        if not pending and not self.busy and not self.closed:
            self.deadline = time.monotonic() + \
                self.ctx.limits['keepalive_timeout']

    def _metrics(self, r):
        """``/metrics`` (the ``metrics`` option): this process's
        Prometheus metrics, GET only."""
        if r.method != 'GET':
            return self._finish(r, render_response(
                405, [('Content-Type', 'text/plain'), ('Allow', 'GET')],
                b'Method Not Allowed', r.keep_alive))
        exposition = self.ctx.metrics
        self._finish(r, render_response(
            200, [('Content-Type', exposition.content_type)],
            exposition.render(), r.keep_alive))

    def _finish(self, r, data):
        """Write a whole response and move on to the next request."""
        if self.closed:
            return
        self.transport.write(data)
        if self.ctx.access_log is not None:
            self.log_access(r, int(data[9:12]))
        self.busy = False
        if not r.keep_alive or self.ctx.shutting_down:
            self.close()
            return
        self._next()

    def respond(self, r, resp):
        if self.ctx.shutting_down:
            r.keep_alive = False    # say so: the connection closes next
        self._finish(r, render_response(resp.status, resp.headers, resp.body,
                                        r.keep_alive))

    def _request(self, r, is_websocket=False, headers=None):
        body = b''.join(r.body) if r.body else None
        scheme = self.ctx.scheme
        forwarded = None
        if self.trusted:
            # what a trusted proxy's headers say, read once: the environ's
            # scope has the client from it too (the peer and the scheme
            # when no header can be one of them)
            forwarded = self._forwarded(
                r, self.peer[:2] if self.peer else None, scheme)
            scheme = forwarded[1]
        # a client's requests repeat their query (its sid) and headers:
        # parsed once while they stay the same
        qs, query = self.last_query
        if qs != r.query_string:
            qs = r.query_string
            query = parse_query(qs.decode('latin-1'))
            if len(qs) <= _MEMO_BYTES:
                self.last_query = (qs, query)
        if headers is None:
            if r.header_bytes <= _MEMO_BYTES:
                raw = tuple(r.headers)
                known = self.header_dicts
                headers = known.get(raw)
                if headers is None:
                    headers = r.header_dict()
                    if len(known) >= _HEADER_DICTS:
                        known.clear()
                    known[raw] = headers
            else:
                headers = r.header_dict()
        req = Request(r.method, query, headers, scheme, body, is_websocket,
                      partial(self._environ, r, body, forwarded))
        req.too_large = r.too_big
        return req

    def _forwarded(self, r, client, scheme):
        """``(client, scheme)`` of request ``r`` from a trusted proxy:
        what its X-Forwarded-For / -Proto say (proxy.py), ``client`` and
        ``scheme`` when it has no header of their lengths."""
        if not r.proxied:
            return client, scheme
        return self.ctx.proxy.resolve(r.headers, client, scheme)

    def log_access(self, r, status):
        """One access-log line: the client (the proxy's client when the
        peer is trusted), the request line, the status. ``r`` None: the
        request line was not read whole."""
        client = self.peer[:2] if self.peer else None
        if r is None:
            line = '-'
        else:
            if self.trusted:
                client = self._forwarded(r, client, '')[0]
            line = '%s %s HTTP/%s' % (r.method, r.url.decode('latin-1'),
                                      r.http_version)
        self.ctx.access_log('%s - "%s" %d',
                            '%s:%d' % client if client else '-', line,
                            status)

    def scope(self, r, kind='http', headers=None, forwarded=None):
        """An ASGI scope for ``r`` (for the environ and the bridge): with
        a ``root_path``, the path and raw path start with it, as
        uvicorn's do. ``headers``: its header list when the caller fills
        it (see _environ); ``forwarded``: the proxy's ``(client,
        scheme)`` when the caller has read them (see _request)."""
        scheme = self.ctx.scheme
        client = self.peer[:2] if self.peer else None
        if self.trusted:
            # a trusted proxy's X-Forwarded-For / -Proto (proxy.py)
            client, scheme = (forwarded if forwarded is not None else
                              self._forwarded(r, client, scheme))
        if kind == 'websocket':
            scheme = {'https': 'wss', 'http': 'ws'}.get(scheme, scheme)
        elif scheme in ('ws', 'wss'):
            scheme = 'https' if scheme == 'wss' else 'http'
        raw_path = r.url.split(b'?', 1)[0]
        path = r.path
        root_path = self.ctx.root_path
        if root_path:
            path = root_path + path
            raw_path = self.ctx.root_path_bytes + raw_path
        return {
            'type': kind, 'asgi': {'version': '3.0', 'spec_version': '2.3'},
            'http_version': r.http_version, 'method': r.method,
            'scheme': scheme, 'path': path, 'raw_path': raw_path,
            'query_string': r.query_string, 'root_path': root_path,
            'headers': ([(n.lower(), v) for n, v in r.headers]
                        if headers is None else headers),
            'client': client,
            'server': self._sockname(),
        }

    def _sockname(self):
        sockname = self.sockname
        if sockname is None and self.transport is not None:
            sockname = self.sockname = \
                self.transport.get_extra_info('sockname')
        return sockname[:2] if sockname else None

    def _environ(self, r, body, forwarded=None):
        # what adapters.asgi.make_environ gives for self.scope(r), with
        # one pass over the headers for the scope's and the environ's
        lowered: List[Tuple[bytes, bytes]] = []
        scope = self.scope(r, 'http', lowered, forwarded)
        return make_environ_raw(
            'engineio_fast', scope['method'], scope['path'],
            scope['query_string'].decode('latin-1'), scope['scheme'],
            scope['http_version'], r.headers, lowered, scope['client'],
            scope['server'], body,
            {'asgi.scope': scope, 'asgi.receive': None, 'asgi.send': None,
             'asgi': {'scope': scope, 'receive': None, 'send': None}},
            scope['root_path'])

    def _engineio(self, r):
        ctx = self.ctx
        req = self._request(r)
        out = ctx.engine.handle_http(req, ctx.loop.time())
        if out.events:
            ctx.driver.fire(out.events)
        kind = out.kind
        if kind == _RESPOND:
            return self.respond(r, out.response)
        if kind == _CONNECT:
            driver = ctx.driver
            verdict = driver.connect(out, req)
            if verdict.__class__ is tuple:
                return self._connected(r, req, out, verdict)
            self.busy = True
            verdict.add_done_callback(partial(self._connect_ended, r, req,
                                              out))
            return
        # WAIT: park the GET until the engine queues something for it
        self.busy = True
        self.deadline = None
        s = out.session
        self.poll = (s, req, out.jsonp, r)
        s.poll_waker = self._poll_wake

    def _connect_ended(self, r, req, out, task):
        # (the connect handler suspended: its Task's result is the verdict)
        self._connected(r, req, out, self.ctx.driver.verdict(task))

    def _connected(self, r, req, out, verdict):
        done = self.ctx.driver.complete(out, req, verdict)
        self.busy = False
        self.respond(r, done.response)
        if done.events:
            self.ctx.driver.fire(done.events)

    def _poll_wake(self):
        # coalesce everything queued in this loop iteration into one reply
        if not self.poll_scheduled:
            self.poll_scheduled = True
            self.ctx.loop.call_soon(self._poll_flush)

    def _poll_flush(self):
        self.poll_scheduled = False
        poll = self.poll
        if poll is None or self.closed:
            return
        s, req, jsonp, r = poll
        resp = self.ctx.engine.take_poll(s, req, jsonp)
        if resp is None:
            s.poll_waker = self._poll_wake
            return
        self.poll = None
        self.busy = False
        self.respond(r, resp)

    async def _bridge(self, r):
        try:
            if r.too_big:
                return self._finish(r, plain(413))
            if self.ctx.asgi_app is None:
                return self._finish(r, plain(404, r.keep_alive))
            keep = await _bridge.run_http(self, r)
            if self.closed:
                return
            self.busy = False
            if not keep or not r.keep_alive or self.ctx.shutting_down:
                self.close()
            else:
                self._next()
        except Exception:
            self.ctx.driver.logger.exception('error in ASGI app')
            self.close()

    # -- websocket upgrade -------------------------------------------------
    def _websocket(self, rest):
        r: ParsedRequest = self.cur  # type: ignore[assignment]  # (upgrade)
        self.cur = None
        ctx = self.ctx
        if not r.on_eio or self.pending or self.busy:
            return self.reject(400 if r.on_eio else 404)
        headers = r.header_dict()
        hs = _wsp.handshake(r.method, headers, ctx.per_message_deflate)
        if hs.refusal is not None:
            r.keep_alive = False
            return self.respond(r, hs.refusal)
        self.deadline = None
        self.busy = True
        ctx.http_conns.discard(self)
        self.transport.pause_reading()
        req = self._request(r, True, headers)
        out = ctx.engine.handle_http(req, ctx.loop.time())
        if out.events:
            ctx.driver.fire(out.events)
        if out.kind == _CONNECT:
            driver = ctx.driver
            verdict = driver.connect(out, req)
            if verdict.__class__ is tuple:
                return self._ws_connected(r, req, out, verdict, hs, rest)
            verdict.add_done_callback(lambda t: self._ws_connected(
                r, req, out, driver.verdict(t), hs, rest))
            return
        if out.kind == _RESPOND:
            r.keep_alive = False
            return self.respond(r, out.response)
        self._switch(r, out.link, hs, rest)

    def _ws_connected(self, r, req, out, verdict, hs, rest):
        ctx = self.ctx
        done = ctx.driver.complete(out, req, verdict)
        if done.kind == _RESPOND:
            r.keep_alive = False
            return self.respond(r, done.response)
        events = done.events or []
        if self.closed:
            # the client left while its connect handler ran
            events += ctx.engine.ws_closed(done.link, ctx.loop.time())
        else:
            self._switch(r, done.link, hs, rest)
        if events:
            ctx.driver.fire(events)

    def _switch(self, r, link, hs, rest):
        # the 101 and the connection's permessage-deflate come from the
        # handshake decision (protocol.websocket.handshake)
        proto = _ws.WsProtocol(self.ctx, self.transport, link, hs.deflate)
        # (an asyncio protocol without asyncio.Protocol as its base: see
        # ws_protocol's note)
        self.transport.set_protocol(proto)  # type: ignore[arg-type]
        self.closed = True       # this object is done with the connection
        self.parser = None       # (and with its parser: see connection_lost)
        # the 101 and what the engine queued (the open packet) in one write
        proto.start(rest, hs.response)
        if self.ctx.access_log is not None:
            self.log_access(r, 101)
        self.transport.resume_reading()


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
