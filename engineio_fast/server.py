"""The synchronous Engine.IO server (python-engineio's ``Server`` API) for
WSGI: threading, eventlet, gevent and gevent_uwsgi.

It drives the same sans-I/O engine as :class:`AsyncServer`. One lock
guards the engine; handlers always run outside it. There is one service
task per server (heartbeats and stalled websocket writes) and no thread or
greenlet per client, message or ping: handlers run in order per session,
by a small pool of reused workers (or, with ``async_handlers=False``, in
the thread that received the message); see adapters/wsgi/dispatch.py."""

import threading
import time
from typing import (
    Any,
    Callable,
    ContextManager,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Type,
    Union,
    cast,
)

from . import base_server
from . import sio_accel as _sio_accel
from .adapters.wsgi import modes as _modes
from .adapters.wsgi.dispatch import (
    Dispatcher,
    current_sid,
    parked_wait,
    parking_event,
)
from .adapters.wsgi.service import Service
from .base_server import LoggerOption
from .middleware import StartResponse, WSGIEnviron
from .packet import Packet
from .protocol import engine as _engine
from .protocol.engine import Event, Outcome, Session, Verdict
from .protocol.http import Cookie, CorsOrigins, Request
from .protocol.outcome import PingInterval
from .protocol.packets import Data, Item
from .socket import Socket


def _sids(events: Sequence[Event]) -> Sequence[str]:
    """The sessions of ``events``, each once, in order."""
    if len(events) == 1:
        return (events[0][1],)
    seen = []
    for ev in events:
        if ev[1] not in seen:
            seen.append(ev[1])
    return seen


class SyncDriver(base_server.BaseDriver):
    """What the WSGI adapter (adapters/wsgi/handler.py) may use of a
    :class:`Server`; the contract is written in :mod:`engineio_fast.adapters`.
    One per server (``server.driver``).

    Attributes:
        engine: the sans-I/O :class:`~engineio_fast.protocol.engine.Engine`
            (call it under :attr:`lock`, or through :meth:`call`).
        lock: the lock that guards the engine.
        mode: the async mode (``Event``, ``Lock``, ``sleep``, ``green``).
        logger: the server's logger.
        per_message_deflate: the websocket compression option.
        ws_close_timeout: how long a closing websocket may take.
        call: :meth:`Server._locked`: ``call(fn, *args, alive=None)`` runs
            an engine method under the lock, then writes the websockets it
            woke and runs the handlers of the events it returned (a list,
            or an Outcome's ``events``); returns what ``fn`` returned.
        ensure_service: start the server's service task if it is not
            running (first thing for every request).
        watch: ``watch(conn)``: the service task finishes ``conn``'s
            pending writes and kills it at ``conn.kill_at``.
    """

    __slots__ = ('lock', 'mode', 'ws_close_timeout', 'call',
                 'ensure_service', 'watch')
    _server: 'Server'

    def __init__(self, server: 'Server') -> None:
        super().__init__(server)
        self.lock = server._lock
        self.mode = server._mode
        self.ws_close_timeout = server._ws_close_timeout
        self.call = server._locked
        self.ensure_service = server._ensure_service
        self.watch = server._service.watch

    def woke(self, conn: Any) -> None:
        """A websocket the engine woke (called under :attr:`lock`, from
        the link's waker): ``conn.flush()`` runs once the lock is
        released."""
        self._server._woken.append(conn)

    def handshake(self, out: Outcome, req: Request,
                  environ: Dict[str, Any]) -> Outcome:
        """Run the connect handler of a :data:`CONNECT` outcome in this
        thread, then complete the handshake
        (:meth:`Engine.connect_done`, under the lock; the events of a
        session closed meanwhile go to their handlers).

        Returns:
            The Outcome that answers the handshake.
        """
        verdict = self._server._run_connect(cast(Session, out.session),
                                            environ)
        return self.call(self.engine.connect_done, out, req, verdict,
                         time.monotonic())


class Server(base_server.BaseServer):
    """An Engine.IO server for WSGI applications.

    Args:
        async_mode: ``'threading'``, ``'eventlet'``, ``'gevent'`` or
            ``'gevent_uwsgi'``. When not given, the first of eventlet,
            gevent_uwsgi, gevent and threading whose packages are
            installed is used (python-engineio's order).
        ping_interval: seconds between pings (int or float), or a tuple
            ``(interval, grace)``. Default 25.
        ping_timeout: seconds to wait for a pong. Default 20.
        max_http_buffer_size: the largest POST body or websocket message,
            in bytes; advertised as ``maxPayload``. Default 1,000,000.
        allow_upgrades: allow polling to websocket upgrades. Default True.
        http_compression: gzip/deflate polling responses. Default True.
        compression_threshold: smallest response to compress. Default 1024.
        cookie: None, a cookie name, or a dict of cookie attributes.
        cors_allowed_origins: None (same origin), ``'*'``, a str, a list,
            or a callable; ``[]`` disables CORS handling.
        cors_credentials: send Access-Control-Allow-Credentials. Default
            True.
        logger: True, False, or a ``logging.Logger``.
        json: an alternative json module.
        async_handlers: True (default): handlers run in a pool of
            reused threads (greenlets in the green modes), so the
            connection goes on reading while they run, and a POST is
            answered once they have run or after 0.1 s, whichever comes
            first (what quick handlers send is then queued before the
            client polls for it); a session's handlers start in the order its
            client sent the messages, and one that runs long while more
            messages of its session wait no longer holds them up.
            python-engineio starts a thread per message instead. False:
            handlers run in the thread that received the messages, in
            order, before the POST is answered or the next websocket
            message is read.
        monitor_clients: accepted for compatibility; heartbeats always run.
        transports: the allowed transports. Default both.
        max_connections: the most sessions open at once (this server's,
            in this process); a handshake past it, polling or websocket,
            is refused with a 503 and ``{"code":4,"message":"Too many
            connections"}`` before anything is made. Default None (no
            bound).
        handshake_rate_limit: ``(count, seconds)``: each client address
            (the environ's ``REMOTE_ADDR``: the proxy's client where the
            server trusts the proxy's headers) may open ``count`` sessions
            at once, then ``count`` more per ``seconds``; a handshake past
            it gets a 429 and ``{"code":4,"message":"Too many
            handshakes"}``. 65,536 addresses are remembered at most.
            Default None (no limit).
        metrics: True: count what the server does for Prometheus from
            the start (see :mod:`engineio_fast.metrics`; also
            ``engineio_fast.metrics.enable(server)`` later). Default False
            (nothing is counted).
        max_queue_bytes: the most bytes queued for one client (not yet
            taken by its transport: a client that does not read). Default
            16 MiB or 8 x ``max_http_buffer_size``, the larger.
        queue_overflow: what a send past ``max_queue_bytes`` does:
            ``'disconnect'`` (default: the client is disconnected with
            reason ``'transport error'``) or ``'drop'`` (that message is
            dropped for that client, which stays connected; counted in the
            log once per client).
        queue_high_water: back-pressure: :meth:`send` and
            :meth:`send_packet` to a client holding this many queued bytes
            wait until its transport takes them (or it goes), at most
            ``queue_wait_timeout`` seconds (default 10), then queue.
            :meth:`broadcast` never waits (one slow client must not hold
            the others back). Default None (sends never wait, as
            python-engineio's). :meth:`buffered_amount` reads the queue.
        client_manager: the client manager (:attr:`manager`):
            :class:`engineio_fast.RedisManager` makes ``send()``,
            ``send_packet()``, ``disconnect()`` and :meth:`broadcast`
            reach the sessions of every process sharing its Redis.
            Default: an in-process manager (this process's sessions).
        connect_timeout: for a python-socketio server on this one: seconds
            a client has to connect to a namespace after the handshake,
            else it is disconnected. Default 45 (the JavaScript server's
            ``connectTimeout``); see :mod:`engineio_fast.sio_wire`.
    """

    _socket_class = Socket

    def async_modes(self) -> List[str]:
        """The async modes, python-engineio's default order first."""
        return list(_modes.ORDER)

    def _default_manager(self) -> Any:
        from .cluster.manager import Manager
        return Manager()

    @property
    def async_handlers(self) -> bool:
        """Whether handlers run in the handler pool (True) or in the
        thread that received their messages; it may be changed at any
        time (Flask-SocketIO's test client sets it)."""
        return self._async_handlers

    @async_handlers.setter
    def async_handlers(self, value: bool) -> None:
        self._async_handlers = bool(value)
        dispatcher = getattr(self, '_dispatcher', None)
        if dispatcher is not None:
            with self._lock:
                dispatcher.inline = not value

    def __init__(self, async_mode: Optional[str] = None,
                 ping_interval: PingInterval = 25, ping_timeout: float = 20,
                 max_http_buffer_size: int = 1000000,
                 allow_upgrades: bool = True, http_compression: bool = True,
                 compression_threshold: int = 1024, cookie: Cookie = None,
                 cors_allowed_origins: CorsOrigins = None,
                 cors_credentials: bool = True, logger: LoggerOption = False,
                 json: Any = None, async_handlers: bool = True,
                 monitor_clients: Optional[bool] = None,
                 transports: Union[None, str, Sequence[str]] = None,
                 **kwargs: Any) -> None:
        # resolve the mode first: the base class only checks the name
        self._mode = _modes.select_mode(async_mode)
        self._ws_close_timeout = float(kwargs.pop('ws_close_timeout', 5.0))
        super().__init__(
            self._mode.name, ping_interval, ping_timeout,
            max_http_buffer_size, allow_upgrades, http_compression,
            compression_threshold, cookie, cors_allowed_origins,
            cors_credentials, logger, json, async_handlers, monitor_clients,
            transports, **kwargs)
        self._lock = threading.Lock()
        self._woken: List[Any] = []
        self._service = Service(self)
        self._dispatcher = Dispatcher(self)
        self._engine.timer_hook = self._service.timer_hook
        #: what the WSGI adapter may use of this server
        self.driver = SyncDriver(self)

    def _register(self, event: str, handler: Any) -> Any:
        if handler is not None:
            _sio_accel.attached(handler, Server)
        return super()._register(event, handler)

    # ------------------------------------------------------------------
    # internals shared with the drivers
    def _ensure_service(self) -> None:
        if not self._service.running:
            with self._lock:
                self._service.start()
        # every request: a Redis manager registers this process before
        # its first sid is minted (concurrent first requests wait for it)
        self.manager.start()

    def _take_woken(self) -> List[Any]:
        """Websocket connections the engine woke (call under the lock)."""
        woken = self._woken
        if woken:
            self._woken = []
            for conn in woken:
                conn.pending_wake = False
        return woken

    @staticmethod
    def _flush(woken: List[Any]) -> None:
        for conn in woken:
            conn.flush()

    def _locked(self, fn: Callable[..., Any], *args: Any,
                alive: Optional[Callable[[], bool]] = None,
                settle: float = 0.0) -> Any:
        """Call the engine (``fn(*args)``) under the lock, then flush the
        websockets it woke and run the handlers of the events it returned
        (a list, or an Outcome's ``events``): see :meth:`_run_events`.
        Returns what ``fn`` returned."""
        with self._lock:
            result = fn(*args)
            events = result if result.__class__ in (list, tuple) \
                else getattr(result, 'events', None)
            todo = self._dispatcher.queue(events) if events else None
            woken = self._take_woken()
        if woken:
            self._flush(woken)
        if events:
            self._run_events(events, todo, alive, settle)
        return result

    def _run_events(self, events: Sequence[Event], todo: Any,
                    alive: Optional[Callable[[], bool]] = None,
                    settle: float = 0.0) -> None:
        """Run the handlers of ``events``, queued by ``_dispatcher.queue``
        (which returned ``todo``): in this thread with
        async_handlers=False, else by the handler pool. ``alive`` is given
        by a thread that reads a client: it then waits while that client's
        session has too many events waiting (see dispatch.py); ``settle``
        (a POST's thread): it waits up to that many seconds for the
        handlers to have run."""
        d = self._dispatcher
        if d.inline:
            d.run_here(_sids(events))
            return
        if todo:
            d.submit(todo)
        if alive is not None:
            d.wait_for_room(_sids(events), alive)
        if settle:
            d.wait_for_handlers(_sids(events), settle)

    def _tick(self, now: float) -> None:
        with self._lock:
            events = self._engine.tick(now)
            todo = self._dispatcher.queue(events) if events else None
            woken = self._take_woken()
        if woken:
            self._flush(woken)
        if events:
            if self._dispatcher.inline:
                # ping timeouts: the disconnect handlers must not hold up
                # the service task (one task per batch, not per client)
                self._mode.spawn(self._run_events, events, todo)
            else:
                self._run_events(events, todo)

    def _send_ping_now(self, session: Session) -> None:
        self._locked(self._engine.send_ping, session)

    def _fire_event(self, ev: Event) -> None:
        """Run the handler of one engine event in this thread."""
        name, sid, arg = ev
        handler = self.handlers.get(name)
        if handler is None:
            return
        try:
            if name == 'message':
                handler(sid, arg)
            else:
                handler(*self._handler_args(name, (sid, arg)))
        except Exception:
            self.logger.exception('%s handler error', name)

    def _run_connect(self, session: Session,
                     environ: Dict[str, Any]) -> Verdict:
        """Run the connect handler; returns (accepted, rejection value)."""
        handler = self.handlers.get('connect')
        if handler is None:
            return True, None
        try:
            ret = handler(session.sid, environ)
        except Exception:
            self.logger.exception('connect handler error')
            return _engine.REFUSED
        return _engine.connect_verdict(ret)

    # ------------------------------------------------------------------
    # public API
    def send(self, sid: str, data: Data) -> None:
        """Send a message to a client.

        Args:
            sid: the client's session id.
            data: str, bytes, dict or list (dicts and lists are JSON).

        Sending to an unknown or closed sid logs a warning and returns.
        With the ``queue_high_water`` option, a send to a client holding
        that many bytes not yet taken by its transport first waits for
        them to be taken (at most ``queue_wait_timeout`` seconds).
        """
        item: Item
        if data.__class__ is str:
            item = '4' + data
        else:
            item = self._encode_message(data)
        if self._engine.config.queue_high_water is not None:
            self._wait_drain(sid)
        self._send_item(sid, item)

    def send_packet(self, sid: str, pkt: Packet) -> None:
        """Send a raw :class:`engineio_fast.packet.Packet` to a client
        (waiting as :meth:`send` does)."""
        if self._engine.config.queue_high_water is not None:
            self._wait_drain(sid)
        self._send_item(sid, self._encode_packet(pkt))

    def _wait_drain(self, sid: str) -> None:
        """Back-pressure: wait (in the way of the async mode) until the
        session's queue is taken by its transport, it ends, or
        ``queue_wait_timeout`` seconds pass."""
        event = self.create_event()
        wake = event.set
        with self._lock:
            s = self._engine.sessions.get(sid)
            if s is None or not self._engine.wait_drain(s, wake):
                return
        if not event.wait(self._engine.config.queue_wait_timeout):
            with self._lock:
                self._engine.forget_drain(s, wake)

    def buffered_amount(self, sid: str) -> int:
        """Bytes queued for a client and not yet handed to its transport
        (its connection's own write buffer is not counted); 0 for an
        unknown sid."""
        with self._lock:
            s = self._engine.sessions.get(sid)
            return s.queue_bytes if s is not None else 0

    def _send_item(self, sid: str, item: Item) -> None:
        self._send_items(sid, (item,))

    def _send_items(self, sid: str, items: Sequence[Item]) -> None:
        """Queue ``items`` for ``sid`` as one: nothing another thread sends
        comes between them (a Socket.IO binary packet's parts)."""
        engine = self._engine
        with self._lock:
            s = engine.sessions.get(sid)
            if s is None:
                ret: Any = False
            elif len(items) == 1:
                ret = engine.send(s, items[0])
            else:
                ret = engine.send_many(s, items)
            todo = None
            if ret is not True and ret is not False and ret is not None:
                todo = self._dispatcher.queue([ret])
            woken = self._take_woken() if self._woken else None
        if woken:
            self._flush(woken)
        if ret is not True:
            if ret is False:
                # another process's session: its owner gets them in this
                # order (each through the one forwarding channel)
                if s is not None or not all(
                        [self.manager.forward(sid, b'm', item)
                         for item in items]):
                    self._log_send_to_closed(sid)
            elif ret is not None:   # the send queue overflowed: closed
                self._run_events([ret], todo)

    def _remote_message(self, sid: str, item: Item) -> None:
        """A message another process sent to a session of this one (the
        Redis manager's reader calls this)."""
        if not self._foreign_sid(sid):
            self._send_item(sid, item)   # (a sid of ours is never forwarded)

    def _remote_close(self, sid: str) -> None:
        """Another process disconnected a session of this one."""
        if not self._foreign_sid(sid):
            self.disconnect(sid)

    def _broadcast_local(self, item: Item, skip: Iterable[str]) -> None:
        """Queue ``item`` for this process's sessions not in ``skip``."""
        with self._lock:
            events = self._send_local_items(item, skip)
            todo = self._dispatcher.queue(events) if events else None
            woken = self._take_woken()
        if woken:
            self._flush(woken)
        if events:
            self._run_events(events, todo)

    def broadcast(self, data: Data,
                  skip_sid: base_server.SkipSid = None) -> None:
        """Send a message to every connected client, of every process
        with a Redis client manager.

        Args:
            data: str, bytes, dict or list (dicts and lists are JSON),
                encoded once.
            skip_sid: a sid, or an iterable of sids, not to send to.

        Clients closed meanwhile are skipped without a warning.
        """
        self._broadcast(data, skip_sid)

    def get_session(self, sid: str) -> Dict[str, Any]:
        """Return the user session dict of a client.

        Raises:
            KeyError: if ``sid`` is not connected.
        """
        return self._session_for_api(sid).user_session

    def save_session(self, sid: str, session: Dict[str, Any]) -> None:
        """Store ``session`` as the user session of a client."""
        self._session_for_api(sid).user_session = session

    def session(self, sid: str) -> ContextManager[Dict[str, Any]]:
        """The user session as a context manager that saves it on
        exit::

            with eio.session(sid) as session:
                session['username'] = username
        """
        server = self

        class _SessionContext:
            def __enter__(self) -> Dict[str, Any]:
                self.session = server.get_session(sid)
                return self.session

            def __exit__(self, *exc: Any) -> None:
                server.save_session(sid, self.session)

        return _SessionContext()

    def disconnect(self, sid: Optional[str] = None) -> None:
        """Disconnect one client (``sid``) or every client (None).

        Returns at once in every mode: the client's pending poll is
        answered with the close packet, a websocket gets it and a close
        frame. The disconnect handler runs here, with reason
        ``'server disconnect'`` (after the handlers of messages the client
        sent before, unless this is called from one of them). A ``sid``
        of another process is disconnected there (with a Redis client
        manager); None disconnects this process's clients.
        """
        if (sid is not None and self._engine.get(sid) is None and
                self.manager.forward(sid, b'c', None)):
            return
        d = self._dispatcher
        with self._lock:
            events = self._disconnect_events(sid, time.monotonic())
            todo = d.queue(events) if events else None
            woken = self._take_woken()
        if woken:
            self._flush(woken)
        if not events:
            return
        here = current_sid.get()
        for each in _sids(events):
            if each == here:
                # from a handler of this very session: its chain waits for
                # that handler, so run the disconnect handler now
                d.fire_now(each, [ev for ev in events if ev[1] == each])
            else:
                d.drain(each, hold=sid is not None)
        if todo:
            d.submit(todo)   # found empty if drained here

    def handle_request(self, environ: WSGIEnviron,
                       start_response: StartResponse) -> Iterable[bytes]:
        """Handle an Engine.IO request (the WSGI entry point)."""
        from .adapters.wsgi import handler as _wsgi
        return _wsgi.handle(self, environ, start_response)

    def shutdown(self) -> None:
        """Disconnect every client and stop the service task."""
        self.disconnect()
        self._service.stop()
        self.manager.close()

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> Any:
        """Run ``target(*args, **kwargs)`` in a thread (threading) or a
        greenlet (eventlet, gevent); returns the thread/greenlet object,
        which has ``join()``. Started from a handler of a session (as
        python-socketio runs each event), the task counts as a handler of
        that session: the session's disconnect handler runs after it, as
        adapters/wsgi/dispatch.py says."""
        return self._mode.background(self._dispatcher.adopt(target), *args,
                                     **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep for ``seconds`` in the way of the async mode."""
        return parked_wait(self._mode.sleep, seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """Return a queue object of the async mode."""
        return self._mode.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> Type[Exception]:
        """Return the queue empty exception of the async mode."""
        return self._mode.QueueEmpty

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """Return an event object of the async mode."""
        return parking_event(self._mode.Event)(*args, **kwargs)
