"""What the sync and asyncio servers share: options, handlers, logging and
the bridge from API calls to the sans-I/O engine."""

import asyncio
import inspect
import json as _stdjson
import logging
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

from . import _accel
from . import base_socket as _base_socket
from . import json as _json
from .cluster import node as _node
from .packet import Packet
from .protocol import engine as _engine
from .protocol import http as _http
from .protocol.http import POST_OK_BODY, POST_OK_TYPE, payload_answer
from .protocol.outcome import Event, PingInterval
from .protocol.packets import MESSAGE as _MESSAGE
from .protocol.packets import Data, Item
from .protocol.session import OPEN as _OPEN
from .protocol.session import Session

default_logger = logging.getLogger('engineio.server')

#: an event handler: a function or a coroutine function (see ``on()``)
Handler = Callable[..., Any]
_H = TypeVar('_H', bound=Handler)

#: ``broadcast()``'s ``skip_sid``: a sid, some sids, or None
SkipSid = Union[None, str, Iterable[str]]

#: the ``logger`` option: True, False, or a logger to use
LoggerOption = Union[bool, logging.Logger]


def _positional_arity(handler: Handler) -> Optional[int]:
    """How many positional arguments ``handler`` takes (None: any)."""
    try:
        sig = inspect.signature(handler)
    except (TypeError, ValueError):
        return None
    count = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def make_logger(logger: LoggerOption,
                default: logging.Logger) -> logging.Logger:
    """The logger for a server or client's ``logger`` option: a Logger
    given as is, else ``default`` at INFO (True) or ERROR (False) when its
    level was never set."""
    if not isinstance(logger, bool):
        return logger
    if default.level == logging.NOTSET:
        default.setLevel(logging.INFO if logger else logging.ERROR)
        default.addHandler(logging.StreamHandler())
    return default


class HandlerRegistry:
    """``on()``'s registration, shared by the servers and the clients
    (which need ``event_names``, ``handlers`` and ``_arity``)."""

    event_names: List[str]
    handlers: Dict[str, Handler]
    _arity: Dict[str, Optional[int]]

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[_H], _H]:
        ...

    @overload
    def on(self, event: str, handler: Handler) -> None:
        ...

    def on(self, event: str, handler: Optional[Handler] = None) -> Any:
        """Register an event handler.

        Args:
            event: ``'connect'``, ``'message'`` or ``'disconnect'``.
            handler: the function to call. Without it, ``on`` returns a
                decorator.

        Returns:
            The decorator when ``handler`` is not given.

        Raises:
            ValueError: for an unknown event name.

        On a server, the connect handler gets ``(sid, environ)`` and
        rejects the client by returning False or any JSON value; the
        message handler gets ``(sid, data)``; the disconnect handler gets
        ``(sid, reason)`` (a handler taking only ``sid`` still works).

        On a client, the connect handler takes no arguments (raising in it
        makes ``connect()`` fail); the message handler gets the data (str,
        bytes, or the decoded JSON value); the disconnect handler gets the
        ``reason`` (a handler taking no argument still works).
        """
        return self._register(event, handler)

    def _register(self, event: str,
                  handler: Optional[Handler]) -> Optional[Callable[[_H], _H]]:
        if event not in self.event_names:
            raise ValueError('Invalid event')

        def set_handler(handler: _H) -> _H:
            self.handlers[event] = handler
            self._arity[event] = _positional_arity(handler)
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None


class AsyncioUtilities:
    """The asyncio helpers python-engineio gives both :class:`AsyncServer`
    and :class:`AsyncClient`."""

    def start_background_task(self, target: Callable[..., Awaitable[Any]],
                              *args: Any,
                              **kwargs: Any) -> 'asyncio.Future[Any]':
        """Run ``target(*args, **kwargs)`` (a coroutine function) as a
        task; returns the :class:`asyncio.Task`."""
        return asyncio.ensure_future(target(*args, **kwargs))

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep for ``seconds`` without blocking the loop."""
        return await asyncio.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> 'asyncio.Queue[Any]':
        """Return an :class:`asyncio.Queue`."""
        return asyncio.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> Type[asyncio.QueueEmpty]:
        """Return :class:`asyncio.QueueEmpty`."""
        return asyncio.QueueEmpty

    def create_event(self, *args: Any, **kwargs: Any) -> asyncio.Event:
        """Return an :class:`asyncio.Event`."""
        return asyncio.Event(*args, **kwargs)


class BaseDriver:
    """What every adapter may use of a server (``server.driver``): the
    engine, the logger and the websocket compression option. The sync and
    asyncio servers' drivers add their own (see
    :mod:`engineio_fast.adapters` for the whole contract)."""

    __slots__ = ('engine', 'logger', 'per_message_deflate', '_server')

    def __init__(self, server: 'BaseServer') -> None:
        self._server = server
        self.engine = server._engine
        self.logger = server.logger
        self.per_message_deflate = server.per_message_deflate


class BaseServer(HandlerRegistry):
    """Options and state common to :class:`Server` and
    :class:`AsyncServer`."""

    compression_methods = ['gzip', 'deflate']
    event_names = ['connect', 'disconnect', 'message']
    valid_transports = ['polling', 'websocket']

    class reason:
        """Disconnection reasons passed to the disconnect handler."""
        #: Server-initiated disconnection.
        SERVER_DISCONNECT = _engine.DISCONNECT_SERVER
        #: Client-initiated disconnection.
        CLIENT_DISCONNECT = _engine.DISCONNECT_CLIENT
        #: Ping timeout.
        PING_TIMEOUT = _engine.DISCONNECT_PING_TIMEOUT
        #: Transport close.
        TRANSPORT_CLOSE = _engine.DISCONNECT_TRANSPORT_CLOSE
        #: Transport error.
        TRANSPORT_ERROR = _engine.DISCONNECT_TRANSPORT_ERROR

    def __init__(self, async_mode: Optional[str] = None,
                 ping_interval: PingInterval = 25,
                 ping_timeout: float = 20,
                 max_http_buffer_size: int = 1000000,
                 allow_upgrades: bool = True, http_compression: bool = True,
                 compression_threshold: int = 1024,
                 cookie: _http.Cookie = None,
                 cors_allowed_origins: _http.CorsOrigins = None,
                 cors_credentials: bool = True, logger: LoggerOption = False,
                 json: Any = None, async_handlers: bool = True,
                 monitor_clients: Optional[bool] = None,
                 transports: Union[None, str, Sequence[str]] = None,
                 **kwargs: Any) -> None:
        client_manager = kwargs.pop('client_manager', None)
        modes = self.async_modes()
        if async_mode is None:
            async_mode = modes[0]
        elif async_mode not in modes:
            raise ValueError('Invalid async_mode specified')
        self.async_mode = async_mode
        self.ping_interval: float
        self.ping_interval_grace_period: float
        if isinstance(ping_interval, (tuple, list)):
            self.ping_interval = ping_interval[0]
            self.ping_interval_grace_period = ping_interval[1]
        else:
            self.ping_interval = ping_interval
            self.ping_interval_grace_period = 0
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie = cookie
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.async_handlers = async_handlers
        # websocket permessage-deflate on the built-in server: off by
        # default, like the JavaScript server's perMessageDeflate
        self.per_message_deflate = kwargs.pop('per_message_deflate', False)
        # seconds a python-socketio client has to connect to a namespace
        # (None: 45, the JavaScript server's connectTimeout; sio_wire.py)
        self.connect_timeout: Optional[float] = kwargs.pop(
            'connect_timeout', None)
        self.monitor_clients = (monitor_clients if monitor_clients is not None
                                else True)
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [t for t in transports if t in self.valid_transports]
            if not transports:
                raise ValueError('No valid transports provided')
        self.transports: List[str] = transports or list(
            self.valid_transports)
        self.handlers = {}
        self._arity = {}
        if json is not None:
            from . import packet as _packet
            _packet.Packet.json = json
        self.json: Any = json if json is not None else _json
        self.logger = make_logger(logger, default_logger)
        compact_dumps: Callable[[Any], str]
        if self.json is _json:
            compact_dumps = _stdjson.JSONEncoder(separators=(',', ':')).encode
        else:
            dumps = self.json.dumps

            def compact_dumps(obj: Any) -> str:
                return dumps(obj, separators=(',', ':'))

        self._dumps = compact_dumps
        self._encode_value = _accel.active.encode_value
        config = _engine.EngineConfig(
            ping_interval=ping_interval, ping_timeout=ping_timeout,
            max_http_buffer_size=max_http_buffer_size,
            allow_upgrades=allow_upgrades, transports=self.transports,
            upgrade_timeout=kwargs.pop('upgrade_timeout', 10.0),
            max_queue_bytes=kwargs.pop('max_queue_bytes', None),
            max_connections=kwargs.pop('max_connections', None),
            handshake_rate_limit=kwargs.pop('handshake_rate_limit', None),
            queue_high_water=kwargs.pop('queue_high_water', None),
            queue_wait_timeout=kwargs.pop('queue_wait_timeout', 10.0),
            queue_overflow=kwargs.pop('queue_overflow', 'disconnect'))
        policy = _http.HttpPolicy(
            cors_allowed_origins=cors_allowed_origins,
            cors_credentials=cors_credentials, cookie=cookie,
            http_compression=http_compression,
            compression_threshold=compression_threshold)
        self._engine = _engine.Engine(config, policy, self.json.loads,
                                      compact_dumps, logger=self.logger)
        _node.attach(self._engine)
        if kwargs.pop('metrics', False):
            # opt-in counting for Prometheus (engineio_fast/metrics.py)
            from .protocol import stats as _stats
            _stats.meter(self._engine)
        manager = client_manager
        #: the client manager: this process's sessions by default, every
        #: process's with a Redis manager (engineio_fast/cluster/)
        self.manager: Any = (manager if manager is not None
                             else self._default_manager())
        self.manager.attach(self)
        self.logger.info('Server initialized for %s.', self.async_mode)
        _base_socket.register(self)

    def is_asyncio_based(self) -> bool:
        """Whether this is an asyncio server."""
        return False

    def _default_manager(self) -> Any:
        """The in-process client manager of this kind of server."""
        raise NotImplementedError

    def _broadcast_item(self, data: Data) -> Item:
        if data.__class__ is str:
            return '4' + cast(str, data)
        return self._encode_message(data)

    def _broadcast(self, data: Data, skip_sid: SkipSid) -> None:
        """``broadcast()`` of both servers: encoded once, queued for this
        process's sessions, published to the others through the manager."""
        item = self._broadcast_item(data)
        skip = self._skip_set(skip_sid)
        self._broadcast_local(item, skip)
        self.manager.publish(item, skip)

    def _broadcast_local(self, item: Item, skip: Iterable[str]) -> None:
        raise NotImplementedError

    @staticmethod
    def _skip_set(skip_sid: SkipSid) -> FrozenSet[str]:
        if skip_sid is None:
            return frozenset()
        if isinstance(skip_sid, str):
            return frozenset((skip_sid,))
        return frozenset(skip_sid)

    def _foreign_sid(self, sid: str) -> bool:
        """A sid a Redis entry names that this process did not mint
        (logged: the entry is dropped)."""
        if _node.is_mine(sid):
            return False
        self.logger.warning('Redis entry for sid %s, not of this process '
                            '(%s): dropped', sid, _node.node_id())
        return True

    def _send_local_items(self, item: Item,
                          skip: Iterable[str]) -> List[Event]:
        """Queue ``item`` for every open session not in ``skip``;
        returns the events of sessions closed by a full queue."""
        engine = self._engine
        skipped = skip if isinstance(skip, (set, frozenset)) else set(skip)
        events: List[Event] = []
        for s in list(engine.sessions.values()):
            if s.state != _OPEN or s.sid in skipped:
                continue
            ret = engine.send(s, item)
            if ret.__class__ is tuple:      # closed by its full queue
                events.append(cast(Event, ret))
        return events

    def async_modes(self) -> List[str]:
        """The async modes this server can run in, the default first."""
        return []

    def _handler_args(self, event: str,
                      args: Tuple[Any, ...]) -> Tuple[Any, ...]:
        """Trim ``args`` for a legacy one-argument disconnect handler."""
        if event == 'disconnect':
            arity = self._arity.get(event)
            if arity is not None and arity < 2:
                return args[:1]
        return args

    def transport(self, sid: str) -> str:
        """Return the transport of a client: ``'polling'`` or
        ``'websocket'``.

        Raises:
            KeyError: if ``sid`` is not connected.
        """
        s = self._engine.get(sid)
        if s is None:
            raise KeyError(sid)
        return s.transport

    def generate_id(self) -> str:
        """Generate a unique session id (20 url-safe characters)."""
        return self._engine.sessions.new_sid()

    def _encode_message(self, data: Data) -> Item:
        return self._encode_value(_MESSAGE, data, False, self._dumps)

    def _encode_packet(self, pkt: Packet) -> Item:
        if pkt.binary:
            return bytes(pkt.data)
        return pkt.encode(b64=False)

    def _session_for_api(self, sid: str) -> Session:
        s = self._engine.get(sid)
        if s is None:
            raise KeyError('Session is disconnected')
        return s

    def _disconnect_events(self, sid: Optional[str],
                           now: float) -> List[Event]:
        """Close ``sid`` (every session when None) as a server disconnect;
        returns the engine events whose handlers must run."""
        if sid is None:
            return self._engine.close_all(_engine.DISCONNECT_SERVER, now)
        return self._close_events(sid, _engine.DISCONNECT_SERVER, now)

    def _close_events(self, sid: Optional[str], reason: str,
                      now: float) -> List[Event]:
        """Close the session ``sid`` (if there is one) for ``reason``;
        returns the engine events whose handlers must run."""
        engine = self._engine
        s = engine.get(sid) if sid else None
        ev = engine.close(s, reason, now) if s is not None else None
        return [ev] if ev is not None else []

    def _log_send_to_closed(self, sid: str) -> None:
        self.logger.warning('Cannot send to sid %s', sid)

    # ------------------------------------------------------------------
    # python-engineio's internals that python-socketio's admin
    # instrumentation uses (see base_socket.py)
    _socket_class: Type[_base_socket.BaseSocket]
    # what replaced _ok (None: nothing); an attribute, not a look into
    # __dict__: on CPython >= 3.11 a materialized instance dict makes every
    # attribute read of the server slower
    _ok_hook: Optional[Callable[..., Dict[str, Any]]] = None

    @property
    def sockets(self) -> _base_socket.SocketsView:
        """sid -> socket object of every session (python-engineio's
        ``eio.sockets``; a live read-only view)."""
        return _base_socket.SocketsView(self)

    def _get_socket(self, sid: str) -> Any:
        """The socket object of ``sid``.

        Raises:
            KeyError: ``sid`` is not a connected session.
        """
        s = self._engine.get(sid)
        if s is None:
            raise KeyError('Session not found')
        return self._socket_class._of(self, s)

    @property
    def _ok(self) -> Callable[..., Dict[str, Any]]:
        """Renders every 200 answer to a polling request (python-engineio's
        ``_ok``); assigning another callable routes the answers through it
        (see base_socket.py), assigning the original back stops that."""
        hook = self._ok_hook
        return hook if hook is not None else self._render_ok

    @_ok.setter
    def _ok(self, fn: Callable[..., Dict[str, Any]]) -> None:
        self._ok_hook = None if fn == self._render_ok else fn
        _base_socket.refresh(self)

    def _render_ok(self, packets: Optional[List[Packet]] = None,
                   headers: Optional[List[Tuple[str, str]]] = None,
                   jsonp_index: Optional[int] = None) -> Dict[str, Any]:
        """The 200 answer carrying ``packets`` (None: the answer to a
        POST) as python-engineio's response dict, before CORS and
        compression: what the server sends when ``_ok`` is not replaced.
        """
        if packets is None:
            return {'status': '200 OK',
                    'headers': [('Content-Type', POST_OK_TYPE)],
                    'response': POST_OK_BODY}
        kernels = _accel.active
        text = kernels.encode_payload([p.encode(b64=True) for p in packets])
        out, body = payload_answer(text, jsonp_index, kernels.jsonp_wrap)
        return {'status': '200 OK', 'headers': out + list(headers or ()),
                'response': body}
