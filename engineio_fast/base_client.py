"""What :class:`~engineio_fast.Client` and :class:`~engineio_fast.AsyncClient`
share: options, handlers, logging, SIGINT handling, the websocket handshake
options derived from the HTTP session, and the connection flow itself.

The protocol decisions are the client machine's
(:class:`~engineio_fast.protocol.client_machine.ClientMachine`). The order in
which a client performs I/O around it (the handshake, the connect handler,
the websocket probe, the polling loops, the disconnect) is written once
here, as *flows*: generators that yield the I/O they need as
``(function, *args)`` steps. :func:`drive` performs a flow: it calls each
step's function, awaits the result when it is awaitable (``AsyncClient``'s
steps are coroutines, ``Client``'s return at once), sends the result back
into the flow or throws the exception in. The step functions are a
client's I/O primitives, its ``_io_*`` methods::

    _io_request(conn, method, url, timeout, body=None) -> (status, bytes)
    _io_ws_open(conn, url) -> ws       _io_ws_recv(ws, timeout) -> message
    _io_ws_send(ws, item)              _io_ws_abort(ws)     _io_ws_close(ws)
    _io_send_last(conn, item)          _io_call(fn, *args) -> its result
    _io_perform(conn, actions)         _io_switch(conn, ws)
    _io_take(conn) -> items or None    _io_wait_end(conn)
    _io_stop(conn)                     _io_join(conn, abort)
    _io_finalize(conn)                 _io_close_http(conn)

and a client also gives ``_connection(machine, headers)`` (its
:class:`Connection`), ``_spawn(target, conn, name)`` (a thread or a task
running ``target(conn)``), ``_read_loop(conn)``, ``_write_loop(conn)``,
``_ws_reader(conn)`` and ``_run(flow)``.

A connection's ``lock`` serialises the events passed to its machine (a lock
in ``Client``, whose reader, writer and callers are threads; a no-op in
``AsyncClient``); no flow holds it across a step.
"""

import logging
import signal
import threading
import time
import types
from inspect import isawaitable
from typing import (
    Any,
    Callable,
    ContextManager,
    Dict,
    Generator,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from . import json as _json
from . import packet
from .adapters.clients import http_sessions as client_http
from .adapters.clients import websocket as ws_io
from .base_server import Handler, HandlerRegistry, LoggerOption, make_logger
from .exceptions import ConnectionError
from .protocol import client_machine as cm
from .protocol.client_machine import Action, ClientMachine
from .protocol.packets import Data, Item

_T = TypeVar('_T')
_H = TypeVar('_H', bound=Handler)

#: a flow (see above): yields steps ``(function, *args)``, is sent their
#: results, returns a ``_T``
Flow = Generator[Tuple[Any, ...], Any, _T]

default_logger = logging.getLogger('engineio.client')
_CLOSED = cm.CLOSED
_MESSAGE = cm.MESSAGE

#: the connected clients, disconnected on SIGINT when ``handle_sigint``
connected_clients: List[Any] = []
original_signal_handler: Any = None

# websocket options python-engineio users pass under other names
# (websocket-client's ``header``/``timeout``, aiohttp's ``headers``)
_HEADER_OPTIONS = ('header', 'headers', 'additional_headers')


def signal_handler(sig: int, frame: Any) -> Any:
    """SIGINT handler: disconnect every connected synchronous client, then
    run the handler that was installed before (``KeyboardInterrupt`` by
    default).

    The disconnects run in a helper thread joined with a bound, so a signal
    that lands while the main thread holds one of a client's locks cannot
    deadlock."""
    clients = [c for c in connected_clients[:] if not c.is_asyncio_based()]
    if clients:
        def disconnect_all() -> None:
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


def _compact_dumps(json_module: Any) -> Callable[[Any], str]:
    if json_module is _json:
        return _json.compact_dumps
    dumps = json_module.dumps

    def compact(obj: Any) -> str:
        return dumps(obj, separators=(',', ':'))
    return compact


@types.coroutine
def drive(flow: Flow[_T], asynchronous: bool = True) -> Flow[_T]:
    """Perform ``flow`` (see the module docstring) and return what it
    returns. A generator-based coroutine: ``AsyncClient`` awaits it;
    ``Client`` (``asynchronous`` False: its steps never return an
    awaitable) runs it to its end with one ``send(None)``."""
    value = error = None
    try:
        while True:
            try:
                step = flow.send(value) if error is None \
                    else flow.throw(error)
            except StopIteration as done:
                return done.value
            value = error = None
            try:
                value = step[0](*step[1:])
                if asynchronous and isawaitable(value):
                    value = yield from value.__await__()
            except Exception as exc:
                error = exc
    finally:
        flow.close()


class Connection:
    """One connection: its machine and the I/O objects a client keeps for
    it (each client adds its own).

    Args:
        machine: the connection's :class:`ClientMachine`.
        headers: the extra HTTP headers of every request.
        outbox: the queue of items for the polling writer.
        lock: the context manager that serialises the machine's events.
        now: the client's monotonic clock (a function).
    """

    #: set when the connection is over (a threading or asyncio Event)
    finished: Any

    def __init__(self, machine: ClientMachine, headers: Dict[str, str],
                 outbox: Any, lock: ContextManager[Any],
                 now: Callable[[], float]) -> None:
        self.machine = machine
        self.headers = headers
        self.outbox = outbox
        self.lock = lock
        self.now = now
        self.http: Any = None   # a client_http adapter
        self.ws: Any = None     # the websocket carrying the session
        self.reader: Any = None     # the reader's thread or task
        self.writer: Any = None     # the writer's thread or task


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
        CLIENT_DISCONNECT = cm.CLIENT_DISCONNECT
        #: Server-initiated disconnection.
        SERVER_DISCONNECT = cm.SERVER_DISCONNECT
        #: Transport error (including a server that went silent).
        TRANSPORT_ERROR = cm.TRANSPORT_ERROR

    # what each client provides (see the module docstring)
    _io_request: Callable[..., Any]
    _io_ws_open: Callable[..., Any]
    _io_ws_recv: Callable[..., Any]
    _io_ws_send: Callable[..., Any]
    _io_ws_abort: Callable[..., Any]
    _io_ws_close: Callable[..., Any]
    _io_send_last: Callable[..., Any]
    _io_call: Callable[..., Any]
    _io_perform: Callable[..., Any]
    _io_switch: Callable[..., Any]
    _io_take: Callable[..., Any]
    _io_wait_end: Callable[..., Any]
    _io_stop: Callable[..., Any]
    _io_join: Callable[..., Any]
    _io_finalize: Callable[..., Any]
    _io_close_http: Callable[..., Any]
    _connection: Callable[[ClientMachine, Dict[str, str]], Connection]
    _spawn: Callable[..., Any]
    _read_loop: Callable[..., Any]
    _write_loop: Callable[..., Any]
    _ws_reader: Callable[..., Any]

    def __init__(self, logger: LoggerOption = False, json: Any = None,
                 request_timeout: float = 5, http_session: Any = None,
                 ssl_verify: bool = True, handle_sigint: bool = True,
                 websocket_extra_options: Optional[Dict[str, Any]] = None,
                 timestamp_requests: bool = True) -> None:
        global original_signal_handler
        if (handle_sigint and original_signal_handler is None
                and not self.is_asyncio_based()
                and threading.current_thread() is threading.main_thread()):
            original_signal_handler = signal.signal(signal.SIGINT,
                                                    signal_handler)
        self.handlers = {}
        self._arity = {}
        self.base_url: Optional[str] = None
        self.transports: Optional[List[str]] = None
        self.current_transport: Optional[str] = None
        self.sid: Optional[str] = None
        self.upgrades: Optional[List[str]] = None
        self.ping_interval: Optional[float] = None
        self.ping_timeout: Optional[float] = None
        self.http: Any = None
        self.http_factory: Any = None
        if http_session is not None:
            if isinstance(http_session, type) or (
                    callable(http_session)
                    and not hasattr(http_session, 'request')):
                self.http_factory = http_session
            else:
                self.http = http_session
        self.external_http = self.http is not None
        self.handle_sigint = handle_sigint
        self.ws: Any = None
        self.read_loop_task: Any = None
        self.write_loop_task: Any = None
        self.state = 'disconnected'
        self.ssl_verify = ssl_verify
        self.websocket_extra_options = dict(websocket_extra_options or {})
        self.timestamp_requests = timestamp_requests
        self.request_timeout = request_timeout
        if json is not None:
            packet.Packet.json = json
        self.logger = make_logger(logger, default_logger)
        self._conn: Optional[Connection] = None

    def is_asyncio_based(self) -> bool:
        """Whether this is an asyncio client."""
        return False

    def transport(self) -> Optional[str]:
        """Return the transport in use: ``'polling'`` or ``'websocket'``
        (None before the first connection)."""
        return self.current_transport

    # -- helpers of both clients --------------------------------------------

    def _machine(self, url: str, transports: Union[None, str, Sequence[str]],
                 engineio_path: str) -> ClientMachine:
        """The machine for a new connection (ValueError for no valid
        transport, or a client that is connected)."""
        if self.state != 'disconnected':
            raise ValueError('Client is not in a disconnected state')
        json_module = packet.Packet.json
        machine = cm.ClientMachine(url, engineio_path, transports,
                                   json_module.loads,
                                   _compact_dumps(json_module), self.logger)
        self.transports = machine.transports
        return machine

    def _disconnect_args(self, reason: Optional[str]) -> Tuple[Any, ...]:
        arity = self._arity.get('disconnect')
        if arity is not None and arity < 1:
            return ()
        return (reason,)

    def _reset(self) -> None:
        self.state = 'disconnected'
        self.sid = None

    def _remove_connected(self) -> None:
        try:
            connected_clients.remove(self)
        except ValueError:
            pass

    def _url_timestamp(self) -> str:
        if not self.timestamp_requests:
            return ''
        return cm.timestamp_param(time.time())

    def _wrap_http(self) -> Any:
        """The adapter for the user's session (``self.http``), or None."""
        if self.http is None:
            return None
        return client_http.wrap(self.http, not self.external_http,
                                self.ssl_verify, self.is_asyncio_based())

    def _default_http(self) -> Any:
        """Our own HTTP session for a connection, closed at its end."""
        adapter = client_http.default(self.ssl_verify,
                                      self.is_asyncio_based())
        self.http = adapter.session
        return adapter

    def _forget_http(self, adapter: Any, detached: bool) -> None:
        if not self.external_http and (
                adapter is None or not detached
                or self.http is adapter.session):
            self.http = None

    def _request_args(self, conn: Connection, read_timeout: float,
                      body: Optional[str]) -> Tuple[Any, ...]:
        """The arguments after ``(method, url)`` of an adapter's
        ``request()``."""
        headers = conn.headers
        data = None
        if body is not None:
            headers = dict(headers)
            headers['Content-Type'] = 'text/plain;charset=UTF-8'
            data = body.encode('utf-8')
        return (headers, data, min(self.request_timeout, read_timeout),
                read_timeout, self.max_receive_size)

    def _ws_options(self, url: str, headers: Dict[str, str],
                    http: Any) -> Dict[str, Any]:
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

    def _log_packet(self, direction: str, ptype: int, data: Any) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            name = (packet.packet_names[ptype]
                    if 0 <= ptype < len(packet.packet_names) else 'UNKNOWN')
            self.logger.info('%s packet %s data %s', direction, name,
                             '<binary>' if isinstance(data, bytes) else data)

    def _outgoing(self, conn: Connection, data: Data) -> Optional[Item]:
        """The item for ``send(data)`` on ``conn`` (the current
        connection), or None when not connected (the message is
        dropped)."""
        if self.state != 'connected' or conn.machine.state is _CLOSED:
            return None
        item = conn.machine.encode_message(data)
        self._log_packet('Sending', _MESSAGE, data)
        return item

    def _release(self, conn: Connection) -> bool:
        """Forget ``conn`` if it is the current connection; True if it
        was."""
        if self._conn is not conn:
            return False
        self._remove_connected()
        self._reset()
        return True

    def _start(self, conn: Connection) -> None:
        """Start the loops of an open session: the reader, and while
        polling the writer."""
        m = conn.machine
        with conn.lock:
            m.touch(conn.now())     # connect()'s time is not the server's
        if m.state is cm.POLLING:
            conn.outbox.bounded = True
            conn.writer = self.write_loop_task = self._spawn(
                self._write_loop, conn, 'writer')
        if m.state is cm.POLLING or m.state is cm.WEBSOCKET:
            conn.reader = self.read_loop_task = self._spawn(
                self._read_loop, conn, 'reader')

    # -- the flows ----------------------------------------------------------

    def _connect_flow(self, url: str, headers: Optional[Dict[str, str]],
                      transports: Union[None, str, Sequence[str]],
                      engineio_path: str) -> Flow[Optional[bool]]:
        """``connect()``: the handshake, the connect handler, the packets
        that came with the open packet, the upgrade, then the loops."""
        m = self._machine(url, transports, engineio_path)
        if self.http is None and self.http_factory is not None:
            self.http = yield self._io_call, self.http_factory
        conn = self._connection(m, dict(headers or {}))
        conn.http = self._wrap_http()
        if conn.http is None and m.transport == 'polling':
            conn.http = self._default_http()
        try:
            if m.transport == 'polling':
                actions = yield from self._polling_handshake(conn)
            else:
                actions = yield from self._websocket_handshake(conn)
        except Exception:
            yield self._io_close_http, conn
            self._reset()
            raise
        hs = cast(cm.Handshake, m.handshake)    # (the handshake succeeded)
        self.sid = m.sid
        self.upgrades = hs.upgrades
        self.ping_interval = hs.ping_interval
        self.ping_timeout = hs.ping_timeout
        self.current_transport = m.transport
        self.base_url = m.url
        self._conn = conn
        self.state = 'connected'
        connected_clients.append(self)
        handler = self.handlers.get('connect')
        if handler is not None:
            try:
                yield self._io_call, handler
            except Exception as exc:
                self.logger.exception('connect handler error')
                yield from self._abandon_flow(conn)
                raise ConnectionError(
                    'Connect handler failed: ' + str(exc)) from None
        if actions and m.state is not cm.CLOSED:
            yield self._io_perform, conn, actions
        yield from self._upgrade_flow(conn)
        self._start(conn)
        return True if m.transports[0] == 'websocket' else None

    def _polling_handshake(self, conn: Connection) -> Flow[List[Action]]:
        m = conn.machine
        url = self.base_url = m.poll_url
        self.logger.info('Attempting polling connection to %s', url)
        try:
            status, body = yield (self._io_request, conn, 'GET',
                                  url + self._url_timestamp(),
                                  self.request_timeout)
        except client_http.TooLarge:
            m.handshake_unreadable()
        except Exception as exc:
            self.logger.info('HTTP GET request to %s failed with error %s.',
                             url, exc)
            m.handshake_unreachable(str(exc))
        actions = m.handshake_response(status, body, conn.now())
        self.logger.info('Polling connection accepted with %s',
                         cast(cm.Handshake, m.handshake).data)
        return actions

    def _websocket_handshake(self, conn: Connection) -> Flow[List[Action]]:
        m = conn.machine
        url = self.base_url = m.ws_url
        self.logger.info('Attempting WebSocket connection to %s', url)
        try:
            ws = yield (self._io_ws_open, conn,
                        url + self._url_timestamp())
        except ws_io.ERRORS as exc:
            refused = ws_io.refusal(exc)
            if refused is not None:
                m.handshake_refused(*refused)
            self.logger.info('WebSocket connection failed: %s', exc)
            m.handshake_unreachable(str(exc))
        try:
            message = yield self._io_ws_recv, ws, self.request_timeout
            actions = m.handshake_message(message, conn.now())
        except ws_io.ERRORS:
            yield self._io_ws_abort, ws
            m.handshake_unreadable()
        except cm.HandshakeError:
            yield self._io_ws_abort, ws
            raise
        conn.ws = self.ws = ws
        self.logger.info('WebSocket connection accepted with %s',
                         cast(cm.Handshake, m.handshake).data)
        return actions

    def _abandon_flow(self, conn: Connection) -> Flow[None]:
        """The connect handler failed: tell the server (best effort) and
        drop the connection."""
        self._remove_connected()
        with conn.lock:
            actions = conn.machine.abandon()
        for kind, item in actions:
            if kind == cm.SEND and conn.ws is not None:
                yield self._io_send_last, conn, item
                yield self._io_ws_close, conn.ws
            elif kind == cm.SEND:
                try:
                    yield (self._io_request, conn, 'POST',
                           conn.machine.poll_url, self.request_timeout, item)
                except Exception:
                    pass
        self._conn = None
        yield self._io_close_http, conn
        self._reset()

    def _upgrade_flow(self, conn: Connection) -> Flow[None]:
        """The websocket upgrade, when the machine wants one. It runs in
        ``connect()`` before the polling loops start (as python-engineio
        orders it), so when the machine asks to pause polling there is no
        request in flight to wait for."""
        m = conn.machine
        lock = conn.lock
        with lock:
            pending = list(m.begin_upgrade())
        ws = None
        while pending:
            kind, arg = pending.pop(0)
            try:
                if kind == cm.OPEN_PROBE:
                    self.logger.info('Attempting WebSocket upgrade to %s',
                                     arg)
                    ws = yield (self._io_ws_open, conn,
                                arg + self._url_timestamp())
                    with lock:
                        pending += m.probe_opened()
                elif kind == cm.PROBE_SEND:
                    yield self._io_ws_send, ws, arg
                elif kind == cm.PROBE_RECV:
                    message = yield (self._io_ws_recv, ws,
                                     self.request_timeout)
                    with lock:
                        pending += m.probe_message(message)
                elif kind == cm.PAUSE_POLLING:
                    with lock:
                        pending += m.polling_paused()
                elif kind == cm.SWITCH:
                    yield self._io_switch, conn, ws
                    self.logger.info('WebSocket upgrade was successful')
                elif kind == cm.ABORT_PROBE and ws is not None:
                    yield self._io_ws_abort, ws
                    ws = None
            except Exception as exc:
                with lock:
                    pending = list(m.probe_failed(repr(exc)))
        if ws is not None and conn.ws is not ws:
            # the session closed during the probe
            yield self._io_ws_abort, ws

    def _poll_flow(self, conn: Connection) -> Flow[None]:
        """The polling reader: one GET after another while the session
        polls; each read waits no longer than the heartbeat deadline."""
        m = conn.machine
        lock = conn.lock
        now = conn.now
        while m.state is cm.POLLING:
            with lock:
                actions = m.expire(now())
            if not actions:
                try:
                    status, body = yield (
                        self._io_request, conn, 'GET',
                        m.poll_url + self._url_timestamp(),
                        max(m.time_left(now()), 0))
                except Exception as exc:
                    with lock:
                        actions = m.transport_lost(
                            'Polling GET failed: %s' % exc, now())
                else:
                    with lock:
                        actions = m.receive_payload(status, body, now())
            if actions:
                yield self._io_perform, conn, actions
            with lock:
                # time spent waiting for the handlers is not the server's
                m.touch(now())

    def _post_flow(self, conn: Connection) -> Flow[None]:
        """The polling writer: what is queued goes out in POSTs that fit the
        server's ``maxPayload``, until the queue is closed and drained."""
        m = conn.machine
        while True:
            items = yield self._io_take, conn
            if items is None:
                return
            for body in m.payloads(items):
                try:
                    status, _ = yield (self._io_request, conn, 'POST',
                                       m.poll_url, self.request_timeout,
                                       body)
                except Exception as exc:
                    with conn.lock:
                        actions = m.transport_lost(
                            'Polling POST failed: %s' % exc, conn.now())
                else:
                    with conn.lock:
                        actions = m.post_answer(status)
                if actions:
                    yield self._io_perform, conn, actions

    def _read_flow(self, conn: Connection) -> Flow[None]:
        """The reader: the polling GETs, or the websocket's ``_ws_reader``;
        whatever ends it ends the session, if nothing else did."""
        detail = 'the reader ended'
        clean = False
        try:
            if conn.machine.state is cm.POLLING:
                yield from self._poll_flow(conn)
            else:
                yield self._ws_reader, conn
        except ws_io.ERRORS as exc:
            detail = 'WebSocket connection closed: %s' % exc
            clean = ws_io.closed_cleanly(exc)
        except Exception:
            self.logger.exception('Unexpected error in the read loop')
        with conn.lock:
            actions = conn.machine.transport_lost(detail, conn.now(), clean)
        if actions:
            yield self._io_perform, conn, actions

    def _disconnect_flow(self, abort: bool,
                         reason: Optional[str]) -> Flow[None]:
        """``disconnect()``: the close packet, the disconnect handler, the
        websocket's closing handshake, the loops' end (unless ``abort``)."""
        conn = self._conn
        if conn is None or conn.finished.is_set():
            self._reset()
            return
        with conn.lock:
            actions = conn.machine.disconnect(reason)
        if not actions:
            # already ending (server close, transport error, another
            # caller): wait for it, unless that would wait for ourselves
            if not abort:
                yield self._io_wait_end, conn
            return
        if self.state == 'connected':
            self.state = 'disconnecting'
        self._log_packet('Sending', cm.CLOSE, None)
        for kind, item in actions:
            if kind == cm.SEND:
                yield self._io_send_last, conn, item
        yield self._io_stop, conn
        yield from self._disconnect_handler_flow(conn.machine.reason)
        if conn.ws is not None:
            yield self._io_ws_close, conn.ws
        yield self._io_join, conn, abort
        yield self._io_finalize, conn

    def _disconnect_handler_flow(self, reason: Optional[str]) -> Flow[None]:
        handler = self.handlers.get('disconnect')
        if handler is None:
            return
        try:
            yield (self._io_call, handler) + self._disconnect_args(reason)
        except Exception:
            self.logger.exception('disconnect handler error')
