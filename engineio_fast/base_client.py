"""What :class:`~engineio_fast.Client` and :class:`~engineio_fast.AsyncClient`
share: options, handlers, logging, SIGINT handling and the pieces of the
websocket handshake (headers, cookies, TLS) derived from the HTTP session;
then the synchronous client's bounded outgoing queue (:class:`Outbox`) and
in-order handler runner (:class:`Dispatcher`)."""

import json as _stdjson
import logging
import signal
import threading
import time
from collections import deque
from typing import Any

from . import exceptions, packet
from . import json as _json
from .adapters.clients import http_sessions as client_http
from .base_server import HandlerRegistry, make_logger
from .protocol import client_machine as _core

default_logger = logging.getLogger('engineio.client')

#: the connected clients, disconnected on SIGINT when ``handle_sigint``
connected_clients: 'list[Any]' = []
original_signal_handler = None

VALID_TRANSPORTS = ('polling', 'websocket')
# websocket options python-engineio users pass under other names
# (websocket-client's ``header``/``timeout``, aiohttp's ``headers``)
_HEADER_OPTIONS = ('header', 'headers', 'additional_headers')


def signal_handler(sig, frame):
    """SIGINT handler: disconnect every connected synchronous client, then
    run the handler that was installed before (``KeyboardInterrupt`` by
    default).

    The disconnects run in a helper thread joined with a bound, so a signal
    that lands while the main thread holds one of a client's locks cannot
    deadlock."""
    clients = [c for c in connected_clients[:] if not c.is_asyncio_based()]
    if clients:
        def disconnect_all():
            for c in clients:
                try:
                    c.disconnect()
                except Exception:  # pragma: no cover - best effort
                    c.logger.exception('disconnect on SIGINT failed')

        th = threading.Thread(target=disconnect_all, daemon=True)
        th.start()
        th.join(max(c.request_timeout for c in clients) + 1)
    if callable(original_signal_handler):
        return original_signal_handler(sig, frame)
    return signal.default_int_handler(sig, frame)


def _compact_dumps(json_module):
    if json_module is _json:
        return _stdjson.JSONEncoder(separators=(',', ':')).encode
    dumps = json_module.dumps

    def compact(obj):
        return dumps(obj, separators=(',', ':'))
    return compact


def error_body_json(body, loads=_json.loads):
    """The server's error body decoded as JSON, or None (python-engineio
    passes it as the second argument of ``ConnectionError``)."""
    if not body:
        return None
    try:
        return loads(body.decode('utf-8') if isinstance(body, bytes)
                     else body)
    except (ValueError, RecursionError):
        return None


def status_error(status, body, text_fallback=False):
    """The ``ConnectionError`` for a refused connection: the second
    argument is the server's body decoded as JSON (None if it is not JSON,
    as python-engineio gives it; with ``text_fallback``, used for refused
    websocket handshakes, the body's text)."""
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    arg = error_body_json(body)
    if arg is None and text_fallback and body:
        arg = body[:4096].decode('utf-8', 'replace') \
            if isinstance(body, bytes) else body[:4096]
    return exceptions.ConnectionError(
        'Unexpected status code {} in server response'.format(status), arg)


class BaseClient(HandlerRegistry):
    """Options and state common to :class:`Client` and :class:`AsyncClient`.

    Args:
        logger: True to log to stderr, False to log only errors, or a
            :class:`logging.Logger`-like object to log to.
        json: an alternative JSON module (``dumps``/``loads``) used for
            dict/list messages. As in python-engineio it is a process-wide
            setting (it replaces ``Packet.json``).
        request_timeout: seconds allowed for each HTTP request and for the
            websocket handshake (default 5).
        http_session: the HTTP session for polling requests, as in
            python-engineio: a ``requests.Session`` (for :class:`Client`)
            or an ``aiohttp.ClientSession`` (for :class:`AsyncClient`);
            an ``httpx.Client`` / ``httpx.AsyncClient`` works too. An
            instance is used and never closed; a zero-argument callable
            returning one (for :class:`AsyncClient` it may be a coroutine
            function) is called for each connection and its session closed
            at the end. Its cookies, basic auth and TLS configuration also
            apply to the websocket handshake. Without one the client uses
            its own HTTP/1.1 client
            (:mod:`engineio_fast.adapters.clients.http1`), which is faster.
        ssl_verify: False accepts any server certificate (self-signed), on
            polling and websocket alike.
        handle_sigint: disconnect on Ctrl+C (SIGINT) before the previous
            handler runs. Only installed when the client is created (sync)
            or connected (asyncio) in the main thread.
        websocket_extra_options: extra keyword arguments for the
            ``websockets`` package's ``connect()``; ``header``/``headers``
            are merged into the handshake headers and ``timeout`` sets the
            handshake timeout, as python-engineio users pass them.
        timestamp_requests: add a ``t=`` timestamp to each request's query
            string (cache busting).

    ``max_receive_size`` (class attribute, 16 MiB) bounds one incoming
    websocket message and one polling response body; a larger one ends the
    connection with ``reason.TRANSPORT_ERROR``.
    """

    event_names = ['connect', 'disconnect', 'message']
    max_receive_size = 16 * 1024 * 1024
    # outgoing queue bounds: send() waits (backpressure) once this many
    # packets or bytes wait for the transport
    max_queue_items = 4096
    max_queue_bytes = 16 * 1024 * 1024

    class reason:
        """Disconnection reasons passed to the disconnect handler."""
        #: Client-initiated disconnection.
        CLIENT_DISCONNECT = 'client disconnect'
        #: Server-initiated disconnection.
        SERVER_DISCONNECT = 'server disconnect'
        #: Transport error (including a server that went silent).
        TRANSPORT_ERROR = 'transport error'

    def __init__(self, logger=False, json=None, request_timeout=5,
                 http_session=None, ssl_verify=True, handle_sigint=True,
                 websocket_extra_options=None, timestamp_requests=True):
        global original_signal_handler
        if (handle_sigint and original_signal_handler is None
                and not self.is_asyncio_based()
                and threading.current_thread() is threading.main_thread()):
            original_signal_handler = signal.signal(signal.SIGINT,
                                                    signal_handler)
        self.handlers = {}
        self._arity = {}
        self.base_url = None
        self.transports = None
        self.current_transport = None
        self.sid = None
        self.upgrades = None
        self.ping_interval = None
        self.ping_timeout = None
        self.http = None
        self.http_factory = None
        if http_session is not None:
            if isinstance(http_session, type) or (
                    callable(http_session)
                    and not hasattr(http_session, 'request')):
                self.http_factory = http_session
            else:
                self.http = http_session
        self.external_http = self.http is not None
        self.handle_sigint = handle_sigint
        self.ws = None
        self.read_loop_task = None
        self.write_loop_task = None
        self.state = 'disconnected'
        self.ssl_verify = ssl_verify
        self.websocket_extra_options = dict(websocket_extra_options or {})
        self.timestamp_requests = timestamp_requests
        self.request_timeout = request_timeout
        if json is not None:
            packet.Packet.json = json
        self.logger = make_logger(logger, default_logger)
        self._conn = None

    def is_asyncio_based(self):
        return False

    def on(self, event, handler=None):
        """Register an event handler.

        Args:
            event: ``'connect'``, ``'message'`` or ``'disconnect'``.
            handler: the function to call. Without it, ``on`` returns a
                decorator.

        Returns:
            The decorator when ``handler`` is not given.

        Raises:
            ValueError: for an unknown event name.

        The connect handler takes no arguments (raising in it makes
        ``connect()`` fail); the message handler gets the data (str, bytes,
        or the decoded JSON value); the disconnect handler gets the
        ``reason`` (a handler taking no argument still works).
        """
        return self._register(event, handler)

    def transport(self):
        """Return the transport in use: ``'polling'`` or ``'websocket'``
        (None before the first connection)."""
        return self.current_transport

    # -- helpers shared by both I/O layers ----------------------------------

    def _check_connect_args(self, transports):
        if self.state != 'disconnected':
            raise ValueError('Client is not in a disconnected state')
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [t for t in transports if t in VALID_TRANSPORTS]
            if not transports:
                raise ValueError('No valid transports provided')
        self.transports = transports or list(VALID_TRANSPORTS)

    def _json_codec(self):
        json_module = packet.Packet.json
        return json_module.loads, _compact_dumps(json_module)

    def _disconnect_args(self, reason):
        arity = self._arity.get('disconnect')
        if arity is not None and arity < 1:
            return ()
        return (reason,)

    def _adopt_handshake(self, core, transport):
        self.sid = core.sid
        self.upgrades = core.upgrades
        self.ping_interval = core.ping_interval
        self.ping_timeout = core.ping_timeout
        self.current_transport = transport

    def _reset(self):
        self.state = 'disconnected'
        self.sid = None

    def _url_timestamp(self):
        if not self.timestamp_requests:
            return ''
        return _core.timestamp_param(time.time())

    def _wrap_http(self):
        """The adapter for the user's session (``self.http``), or None."""
        if self.http is None:
            return None
        return client_http.wrap(self.http, not self.external_http,
                                self.ssl_verify, self.is_asyncio_based())

    def _default_http(self):
        """Our own HTTP session for a connection, closed at its end."""
        adapter = client_http.default(self.ssl_verify,
                                      self.is_asyncio_based())
        self.http = adapter.session
        return adapter

    def _forget_http(self, adapter, detached):
        if not self.external_http and (
                adapter is None or not detached
                or self.http is adapter.session):
            self.http = None

    def _request_args(self, conn, read_timeout, body):
        """The arguments after ``(method, url)`` of an adapter's
        ``request()``."""
        headers = conn.headers
        if body is not None:
            headers = dict(headers)
            headers['Content-Type'] = 'text/plain;charset=UTF-8'
            body = body.encode('utf-8')
        return (headers, body, min(self.request_timeout, read_timeout),
                read_timeout, self.max_receive_size)

    def _ws_options(self, url, headers, http):
        """Keyword arguments for the websockets package's ``connect()``;
        ``http`` is the connection's HTTP adapter (or None)."""
        extra = dict(self.websocket_extra_options)
        headers = dict(headers)
        for name in _HEADER_OPTIONS:
            more = extra.pop(name, None)
            if isinstance(more, (list, tuple)):
                # websocket-client's form: ['Name: value', ...]
                more = dict(h.split(':', 1) if isinstance(h, str) else h
                            for h in more)
                more = {k.strip(): v.strip() for k, v in more.items()}
            if more:
                headers.update(dict(more))
        if 'timeout' in extra:
            extra.setdefault('open_timeout', extra.pop('timeout'))
        if http is not None:
            given = {k.lower(): k for k in headers}
            for name, value in http.ws_headers('http' + url[2:]).items():
                key = given.get(name.lower())
                if key is None:
                    headers[name] = value
                elif name.lower() == 'cookie':
                    # the session's cookies first, then the caller's
                    headers[key] = value + '; ' + headers[key]
        options = {'additional_headers': headers,
                   'open_timeout': self.request_timeout,
                   'close_timeout': self.request_timeout,
                   'ping_interval': None,
                   'compression': None,
                   'max_size': self.max_receive_size}
        if url.startswith('wss://'):
            options['ssl'] = (http.ws_ssl() if http is not None
                              else client_http.ssl_context(self.ssl_verify))
        options.update(extra)
        return options

    def _log_packet(self, direction, ptype, data):
        if self.logger.isEnabledFor(logging.INFO):
            name = (packet.packet_names[ptype]
                    if 0 <= ptype < len(packet.packet_names) else 'UNKNOWN')
            self.logger.info('%s packet %s data %s', direction, name,
                             '<binary>' if isinstance(data, bytes) else data)


# -- thread helpers of the synchronous client ---------------------------------

_monotonic = time.monotonic
# a handler that has run this long while messages wait gets a helper
# worker, so one that waits for a later message (python-socketio's call())
# cannot deadlock the connection
STALL_SECONDS = 0.1
MAX_WORKERS = 8
MAX_PENDING_MESSAGES = 1024
WORKER_IDLE_SECONDS = 5.0


class Outbox:
    """Outgoing items waiting for the polling writer (or for the websocket
    to take over). Bounded once ``bounded`` is set: ``put`` then waits for
    room; ``force`` puts (pongs, close) never wait."""

    def __init__(self, max_items, max_bytes):
        lock = threading.Lock()
        self._ready = threading.Condition(lock)
        self._space = threading.Condition(lock)
        self._items = []
        self._bytes = 0
        self._closed = False
        self._max_items = max_items
        self._max_bytes = max_bytes
        self.bounded = False

    def put(self, item, force=False):
        size = _core.item_size(item)
        with self._ready:
            if not force and self.bounded:
                while (not self._closed and self._items
                       and (len(self._items) >= self._max_items
                            or self._bytes + size > self._max_bytes)):
                    self._space.wait()
            if self._closed:
                return False
            self._items.append(item)
            self._bytes += size
            self._ready.notify()
            return True

    def take(self, block=True):
        """All waiting items; None once closed and drained."""
        with self._ready:
            while block and not self._items and not self._closed:
                self._ready.wait()
            items = self._items
            if not items:
                return None if self._closed else []
            self._items = []
            self._bytes = 0
            self._space.notify_all()
            return items

    def close(self, discard=False):
        with self._ready:
            self._closed = True
            if discard:
                self._items = []
                self._bytes = 0
            self._ready.notify_all()
            self._space.notify_all()


class _StallWatch:
    """One thread per process that gives stalled dispatchers a helper
    worker (see :class:`Dispatcher`)."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._watched = set()
        self._thread = None

    def add(self, dispatcher):
        with self._cond:
            if dispatcher in self._watched:
                return
            self._watched.add(dispatcher)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name='engineio-client-stallwatch',
                    daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while not self._watched:
                    self._cond.wait()
                self._cond.wait(STALL_SECONDS)
                watched = list(self._watched)
            now = _monotonic()
            for d in watched:
                try:
                    keep = d._check(now)
                except Exception:  # pragma: no cover - never kill the watch
                    keep = False
                if not keep:
                    with self._cond:
                        if not d._watched:
                            self._watched.discard(d)


_stall_watch = _StallWatch()


class Dispatcher:
    """Runs a connection's message handlers in arrival order on a worker
    thread, off the reader (a handler may block without stalling the
    heartbeat). When the running handlers make no progress for
    ``STALL_SECONDS`` while messages wait, a helper worker is added (up to
    ``MAX_WORKERS``); extra workers retire once idle. ``put`` waits while
    ``MAX_PENDING_MESSAGES`` are pending (backpressure on the reader)."""

    def __init__(self, logger):
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._space = threading.Condition(lock)
        self._items = deque()
        self._workers = 0
        self._idle = 0
        self._closed = False
        self._progress = 0.0
        self._watched = False
        self._threads = set()
        self._logger = logger

    def put(self, fn, args, force=False):
        with self._cond:
            while (not force and not self._closed
                   and len(self._items) >= MAX_PENDING_MESSAGES):
                self._space.wait()
            if self._closed:
                return False
            self._items.append((fn, args))
            self._wake()
            return True

    def finish(self, fn, args):
        """Queue a last call, after which the workers end."""
        with self._cond:
            if self._closed:
                return False
            self._items.append((fn, args))
            self._closed = True
            self._wake()
            return True

    def _wake(self):
        if self._idle:
            self._cond.notify()
        if not self._workers:
            self._spawn()
        elif len(self._items) > self._idle and not self._watched:
            # more waiting than idle workers (an idle count includes a
            # worker notified but not yet running): watch for a stall
            self._watched = True
            _stall_watch.add(self)

    def close(self):
        """Drop what is pending; the workers end after their current call."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()
            self._space.notify_all()

    def in_worker(self):
        return threading.current_thread() in self._threads

    def _spawn(self):
        self._workers += 1
        self._progress = _monotonic()
        threading.Thread(target=self._run, name='engineio-client-handler',
                         daemon=True).start()

    def _check(self, now):
        with self._cond:
            if len(self._items) <= self._idle:
                self._watched = False
                return False
            if (now - self._progress >= STALL_SECONDS
                    and self._workers < MAX_WORKERS):
                self._spawn()
            return True

    def _run(self):
        me = threading.current_thread()
        cond = self._cond
        with cond:
            self._threads.add(me)
            try:
                while True:
                    if not self._items:
                        if self._closed or self._idle:
                            return
                        self._idle += 1
                        cond.wait(WORKER_IDLE_SECONDS)
                        self._idle -= 1
                        if not self._items:
                            if self._closed or self._workers > 1:
                                return
                            continue
                    fn, args = self._items.popleft()
                    self._space.notify()
                    cond.release()
                    try:
                        fn(*args)
                    except Exception:
                        self._logger.exception('message handler error')
                    finally:
                        cond.acquire()
                        self._progress = _monotonic()
            finally:
                self._workers -= 1
                self._threads.discard(me)
