"""The asyncio Engine.IO server (python-engineio's ``AsyncServer`` API)."""

import asyncio
import functools
import inspect
import types
from typing import (
    Any,
    AsyncContextManager,
    Awaitable,
    Dict,
    Iterable,
    List,
    Literal,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
    cast,
)

from . import base_server
from . import sio_accel as _sio_accel
from ._eager import EagerStarter
from .adapters import frameworks as _frameworks
from .async_socket import AsyncSocket
from .base_server import LoggerOption
from .packet import Packet
from .protocol import engine as _engine
from .protocol.engine import Event, Outcome, Session, Verdict
from .protocol.http import Cookie, CorsOrigins, Request
from .protocol.outcome import PingInterval
from .protocol.packets import Data, Item

# a handler's Task, or one that runs handlers in order
_Task = asyncio.Future[Any]

_CoroutineType = types.CoroutineType


class AsyncDriver(base_server.BaseDriver):
    """What the asyncio adapters (ASGI, the built-in server) may use of an
    :class:`AsyncServer`; the contract is written in
    :mod:`engineio_fast.adapters`. One per server (``server.driver``).

    The hot entries are the server's bound methods themselves (no extra
    call per message): :attr:`fire`, :attr:`now`, :attr:`spawn`.
    """

    __slots__ = ('fire', 'now', 'spawn')
    _server: 'AsyncServer'

    def __init__(self, server: 'AsyncServer') -> None:
        super().__init__(server)
        self.fire = server._fire_events
        self.now = server._now
        self.spawn = server._spawn

    async def dispatch(self, events: Sequence[Event]) -> None:
        """Run the handlers of ``events`` and wait for those that must end
        first (see :meth:`AsyncServer._fire_events`)."""
        pending = self.fire(events)
        if pending is not None:
            await pending

    def connect(self, out: Outcome, req: Request) -> Union[Verdict, _Task]:
        """Start the connect handler of a :data:`~protocol.engine.CONNECT`
        outcome, eagerly.

        Returns:
            The verdict ``(accepted, value)`` when the handler finished;
            else a Task: pass it, once done, to :meth:`verdict`.
        """
        return self._server._connect_now(cast(Session, out.session), req)

    @staticmethod
    def verdict(task: _Task) -> Verdict:
        """The verdict of a connect handler that ran as a Task."""
        if task.cancelled() or task.exception() is not None:
            return _engine.REFUSED
        return _engine.connect_verdict(task.result())

    def complete(self, out: Outcome, req: Request,
                 verdict: Verdict) -> Outcome:
        """:meth:`Engine.connect_done` now: the Outcome that answers the
        handshake (dispatch its ``events`` after answering)."""
        return self.engine.connect_done(out, req, verdict, self.now())

    async def handshake(self, out: Outcome, req: Request) -> Outcome:
        """Run the connect handler to its end, then :meth:`complete`."""
        verdict = self.connect(out, req)
        if verdict.__class__ is not tuple:
            verdict = _engine.connect_verdict(await cast(_Task, verdict))
        return self.complete(out, req, cast(Verdict, verdict))

    async def shutdown(self) -> None:
        """The server's :meth:`AsyncServer.shutdown`."""
        await self._server.shutdown()


class AsyncServer(base_server.AsyncioUtilities,
                  base_server.BaseServer):
    """An Engine.IO server for asyncio.

    Args:
        async_mode: ``'aiohttp'``, ``'sanic'``, ``'tornado'`` or
            ``'asgi'``. When not given, the first of them whose framework
            is installed, in that order (python-engineio's rule). The mode
            names the framework that :meth:`attach` and
            :meth:`handle_request` expect, but every server takes every
            kind of request: an ASGI ``(scope, receive, send)`` is served
            in any mode, so ``ASGIApp(AsyncServer())`` works even where
            aiohttp is installed (python-engineio needs
            ``async_mode='asgi'`` there).
        ping_interval: seconds between pings (int or float), or a tuple
            ``(interval, grace)``; the advertised interval includes the
            grace. Default 25.
        ping_timeout: seconds to wait for a pong. Default 20.
        max_http_buffer_size: the largest POST body or websocket message, in
            bytes; advertised as ``maxPayload``. Default 1,000,000.
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
        async_handlers: run message handlers concurrently with the receive
            loop. Default True.
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
            :class:`engineio_fast.AsyncRedisManager` makes ``send()``,
            ``send_packet()``, ``disconnect()`` and :meth:`broadcast`
            reach the sessions of every process sharing its Redis.
            Default: an in-process manager (this process's sessions).
        connect_timeout: for a python-socketio server on this one: seconds
            a client has to connect to a namespace after the handshake,
            else it is disconnected. Default 45 (the JavaScript server's
            ``connectTimeout``); see :mod:`engineio_fast.sio_wire`.
    """

    _socket_class = AsyncSocket

    def is_asyncio_based(self) -> bool:
        """Whether this is an asyncio server: True."""
        return True

    def async_modes(self) -> List[str]:
        """The async modes, python-engineio's default order first:
        ``['aiohttp', 'sanic', 'tornado', 'asgi']``."""
        return list(_frameworks.ORDER)

    def _default_manager(self) -> Any:
        from .cluster.manager import AsyncManager
        return AsyncManager()

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
        super().__init__(
            _frameworks.select_mode(async_mode), ping_interval, ping_timeout,
            max_http_buffer_size,
            allow_upgrades, http_compression, compression_threshold, cookie,
            cors_allowed_origins, cors_credentials, logger, json,
            async_handlers, monitor_clients, transports, **kwargs)
        self._engine.timer_hook = self._arm_timer
        self._timer_handle: Optional[asyncio.TimerHandle] = None
        self._timer_when: Optional[float] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._tasks: Set[_Task] = set()
        # handlers' first steps run at once, in a lent Task
        self._eager = EagerStarter(self._track)
        # one partial per event name (see _guard), the message one at hand
        self._guards: Dict[str, Any] = {}
        self._guard_message = self._guard('message')
        #: what the asyncio adapters may use of this server
        self.driver = AsyncDriver(self)

    # ------------------------------------------------------------------
    # heartbeat: one timer per server
    def _arm_timer(self, when: float) -> None:
        loop = self._loop
        if loop is None:
            try:
                loop = self._loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self.manager.start()
        handle = self._timer_handle
        if handle is not None:
            if cast(float, self._timer_when) <= when:
                return
            handle.cancel()
        self._timer_when = when
        self._timer_handle = loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer_handle = None
        self._timer_when = None
        loop = cast(asyncio.AbstractEventLoop, self._loop)   # (armed on it)
        events = self._engine.tick(loop.time())
        if events:
            self._spawn(self._dispatch(events))
        nd = self._engine.next_deadline()
        if nd is not None:
            self._arm_timer(nd)

    def _now(self) -> float:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
            self.manager.start()
        return loop.time()

    def _spawn(self, coro: Awaitable[Any]) -> _Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _track(self, task: _Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------
    # handlers: every adapter starts them at once, with no await and no
    # loop turn, inside a lent Task (engineio_fast/_eager.py) that goes on
    # with the handler only if it suspends
    def _call_now(self, event: str, args: Tuple[Any, ...]) -> Tuple[bool, Any]:
        """Call a handler eagerly. Returns ``(done, value)``: done with the
        handler's return value, or not done with the Task that finishes a
        coroutine handler that suspended."""
        handler = self.handlers.get(event)
        if handler is None:
            return True, None
        try:
            ret = handler(*self._handler_args(event, args))
            if ret.__class__ is not _CoroutineType:
                if ret is None or not inspect.isawaitable(ret):
                    return True, ret
                return False, self._spawn(self._call_guarded(event, ret))
            return self._eager.start(ret, self._guard(event))
        except Exception:
            self.logger.exception('%s handler error', event)
            return True, False if event == 'connect' else None

    def _guard(self, event: str) -> Any:
        """``_call_guarded`` bound to ``event``: what finishes a handler
        that suspended (one partial per event name, made once)."""
        guard = self._guards.get(event)
        if guard is None:
            guard = self._guards[event] = functools.partial(
                self._call_guarded, event)
        return guard

    async def _call_guarded(self, event: str,
                            awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger.exception('%s handler error', event)
            return False if event == 'connect' else None

    def _fire_events(self, events: Sequence[Event]) -> Optional[_Task]:
        """Dispatch engine events now, in order.

        A message handler that suspends runs on by itself when
        ``async_handlers`` is set. Any other handler that suspends (a
        message one without ``async_handlers``, a disconnect one) must end
        before the next event: the rest then runs after it, and the Task
        doing that is returned (None when everything finished).
        """
        for i, (name, sid, arg) in enumerate(events):
            if name == 'message':
                # the hot path, without _call_now's generality
                handler = self.handlers.get('message')
                if handler is None:
                    continue
                try:
                    ret = handler(sid, arg)
                    if ret.__class__ is _CoroutineType:
                        done, task = self._eager.start(
                            ret, self._guard_message)
                        if done:
                            continue
                    elif ret is not None and inspect.isawaitable(ret):
                        task = self._spawn(self._call_guarded(
                            'message', ret))
                    else:
                        continue
                except Exception:
                    self.logger.exception('message handler error')
                    continue
                if self.async_handlers:
                    continue
            else:
                done, task = self._call_now(name, (sid, arg))
                if done:
                    continue
            return self._spawn(self._fire_after(task, events[i + 1:]))
        return None

    async def _fire_after(self, task: Awaitable[Any],
                          rest: Sequence[Event]) -> None:
        await task
        if rest:
            pending = self._fire_events(rest)
            if pending is not None:
                await pending

    async def _dispatch(self, events: Sequence[Event]) -> None:
        """Dispatch engine events and wait for the handlers that
        :meth:`_fire_events` says must be waited for."""
        pending = self._fire_events(events)
        if pending is not None:
            await pending

    def _start_eager(self, coro: Any, event: str = 'hook') -> Tuple[bool, Any]:
        """Run ``coro`` now, in a Task of its own (see
        :mod:`engineio_fast._eager`): ``(True, value)`` when it ended, else
        ``(False, task)`` with the Task that finishes it."""
        return self._eager.start(
            coro, self._guard(event))

    def _register(self, event: str, handler: Any) -> Any:
        if handler is not None:
            _sio_accel.attached(handler, AsyncServer)
        return super()._register(event, handler)

    def _send_ping_now(self, session: Session) -> None:
        self._engine.send_ping(session)

    def _connect_now(self, session: Session,
                     req: Request) -> Union[Verdict, _Task]:
        """Run the connect handler eagerly: ``(accepted, value)`` when it
        finished, else a Task resolving to its return value."""
        if 'connect' not in self.handlers:
            return True, None    # no handler: no environ to build
        environ = req.environ
        done, ret = self._call_now('connect', (session.sid, environ))
        if not done:
            return ret
        return _engine.connect_verdict(ret)

    # ------------------------------------------------------------------
    # public API
    async def send(self, sid: str, data: Data) -> None:
        """Send a message to a client.

        Args:
            sid: the client's session id.
            data: str, bytes, dict or list (dicts and lists are JSON).

        Sending to an unknown or closed sid logs a warning and returns.
        With the ``queue_high_water`` option, a send to a client holding
        that many bytes not yet taken by its transport first waits for
        them to be taken (at most ``queue_wait_timeout`` seconds).
        """
        # the hot path: no await, no clock read, no task
        engine = self._engine
        s = engine.sessions.get(sid)
        if s is None:
            return self._send_elsewhere(sid, self._broadcast_item(data))
        if s.queue_bytes >= engine.high_water:
            await self._wait_drain(s)
        if data.__class__ is str:
            ret = engine.send(s, '4' + data)
        else:
            ret = engine.send(s, self._encode_message(data))
        if ret is not True:
            self._send_failed(s, ret)

    async def send_packet(self, sid: str, pkt: Packet) -> None:
        """Send a raw :class:`engineio_fast.packet.Packet` to a client
        (waiting as :meth:`send` does)."""
        s = self._engine.sessions.get(sid)
        if s is not None and s.queue_bytes >= self._engine.high_water:
            await self._wait_drain(s)
        self._send_item(sid, self._encode_packet(pkt))

    def _send_item(self, sid: str, item: Item) -> None:
        """Queue an encoded packet for ``sid`` (here, or through the
        manager to its owner), now."""
        s = self._engine.get(sid)
        if s is None:
            return self._send_elsewhere(sid, item)
        ret = self._engine.send(s, item)
        if ret is not True:
            self._send_failed(s, ret)

    def _send_items(self, sid: str, items: Sequence[Item]) -> None:
        """Queue ``items`` for ``sid`` as one (a Socket.IO binary packet's
        parts), now."""
        s = self._engine.get(sid)
        if s is None:
            for item in items:
                self._send_elsewhere(sid, item)
            return
        if len(items) == 1:
            ret = self._engine.send(s, items[0])
        else:
            ret = self._engine.send_many(s, items)
        if ret is not True:
            self._send_failed(s, ret)

    def _send_elsewhere(self, sid: str, item: Item) -> None:
        """``sid`` is no session here: its owner's, through the manager,
        or the closed-sid warning."""
        if not self.manager.forward(sid, b'm', item):
            self._log_send_to_closed(sid)

    def _remote_message(self, sid: str, item: Item) -> None:
        """A message another process sent to a session of this one (the
        Redis manager's reader calls this)."""
        if self._foreign_sid(sid):
            return
        s = self._engine.sessions.get(sid)
        if s is None:
            return self._log_send_to_closed(sid)
        ret = self._engine.send(s, item)
        if ret is not True:
            self._send_failed(s, ret)

    def _remote_close(self, sid: str) -> None:
        """Another process disconnected a session of this one."""
        if not self._foreign_sid(sid):
            self._spawn(self.disconnect(sid))

    def _broadcast_local(self, item: Item, skip: Iterable[str]) -> None:
        """Queue ``item`` for this process's sessions not in ``skip``."""
        events = self._send_local_items(item, skip)
        if events:
            self._spawn(self._dispatch(events))

    async def broadcast(self, data: Data,
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

    async def _wait_drain(self, s: Session) -> None:
        """Back-pressure (``queue_high_water``): wait until the session's
        queue is taken by its transport, or it ends, or
        ``queue_wait_timeout`` seconds pass (the send then goes on, up to
        ``max_queue_bytes``)."""
        loop = asyncio.get_running_loop()
        drained = loop.create_future()

        def wake() -> None:
            if not drained.done():
                drained.set_result(None)

        if not self._engine.wait_drain(s, wake):
            return
        timeout = self._engine.config.queue_wait_timeout
        try:
            await asyncio.wait_for(drained, timeout)
        except asyncio.TimeoutError:
            self._engine.forget_drain(s, wake)

    def buffered_amount(self, sid: str) -> int:
        """Bytes queued for a client and not yet handed to its transport
        (its connection's own write buffer, at most the transport's
        high-water mark, is not counted); 0 for an unknown sid."""
        s = self._engine.sessions.get(sid)
        return s.queue_bytes if s is not None else 0

    def _send_failed(self, s: Session,
                     ret: Union[Literal[False], Event, str, None]) -> None:
        if ret is False:
            self._log_send_to_closed(s.sid)
        elif ret.__class__ is tuple:   # the send queue overflowed: closed
            self._spawn(self._dispatch([cast(Event, ret)]))

    async def get_session(self, sid: str) -> Dict[str, Any]:
        """Return the user session dict of a client.

        Raises:
            KeyError: if ``sid`` is not connected.
        """
        return self._session_for_api(sid).user_session

    async def save_session(self, sid: str, session: Dict[str, Any]) -> None:
        """Store ``session`` as the user session of a client."""
        self._session_for_api(sid).user_session = session

    def session(self, sid: str) -> AsyncContextManager[Dict[str, Any]]:
        """The user session as an async context manager that saves it on
        exit::

            async with eio.session(sid) as session:
                session['username'] = username
        """
        server = self

        class _SessionContext:
            async def __aenter__(self) -> Dict[str, Any]:
                self.session = await server.get_session(sid)
                return self.session

            async def __aexit__(self, *exc: Any) -> None:
                await server.save_session(sid, self.session)

        return _SessionContext()

    async def disconnect(self, sid: Optional[str] = None) -> None:
        """Disconnect one client (``sid``) or every client (None).

        The disconnect handler runs with reason ``'server disconnect'``.
        A ``sid`` of another process is disconnected there (with a Redis
        client manager); None disconnects this process's clients.
        """
        if (sid is not None and self._engine.get(sid) is None and
                self.manager.forward(sid, b'c', None)):
            return
        events = self._disconnect_events(sid, self._now())
        if events:
            await self._dispatch(events)

    def attach(self, app: Any, engineio_path: str = 'engine.io') -> None:
        """Serve Engine.IO on an aiohttp ``web.Application`` or a Sanic
        app, under ``/<engineio_path>/``.

        The route takes every method (the engine answers the ones it does
        not serve with its 400), and the app's shutdown (aiohttp's
        ``on_shutdown``, Sanic's ``before_server_stop``) runs
        :meth:`shutdown`. For Tornado use
        :func:`engineio_fast.get_tornado_handler`; for ASGI servers,
        :class:`engineio_fast.ASGIApp`.

        Raises:
            ValueError: ``app`` is neither.
        """
        from .adapters.frameworks import attach
        attach(self, app, '/' + engineio_path.strip('/') + '/')

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        """Handle an Engine.IO request.

        Args:
            *args: an ASGI ``(scope, receive, send)``, whatever the async
                mode; or an aiohttp or Sanic request (then the response to
                return from the route handler is returned).
        """
        if len(args) != 1:
            from .adapters import asgi as _asgi_driver
            return await _asgi_driver.handle(self, *args, **kwargs)
        from .adapters.frameworks import handle_request
        return await handle_request(self, args[0])

    async def shutdown(self) -> None:
        """Disconnect every client and stop the heartbeat timer."""
        await self.disconnect()
        handle = self._timer_handle
        if handle is not None:
            handle.cancel()
            self._timer_handle = None
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._eager.close()
        await self.manager.close()
