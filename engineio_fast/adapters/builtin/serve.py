"""The built-in server: listening, signals and graceful shutdown."""

import asyncio
import gc
import logging
import signal
import socket
import ssl as _ssl
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
    cast,
)

from ...async_server import AsyncServer
from .apps import resolve_app
from .asgi_bridge import Lifespan
from .context import ServerContext
from .http_protocol import HttpProtocol
from .proxy import ProxyHeaders, default_allow_ips
from .routed import RoutedHttpProtocol

logger = logging.getLogger('engineio_fast.server')


def check_options(root_path: str = '', backlog: int = 2048,
                  limit_concurrency: Optional[int] = None,
                  ws_max_size: Optional[int] = None,
                  ping_interval: Optional[float] = None,
                  ping_timeout: Optional[float] = None) -> None:
    """Raise ValueError naming the first :class:`BuiltinServer` option out
    of range."""
    if root_path and (not root_path.startswith('/') or
                      not root_path.isascii()):
        raise ValueError('root_path must be empty or an ASCII path '
                         'starting with "/", not %r' % (root_path,))
    if backlog < 1:
        raise ValueError('backlog must be at least 1, not %r' % (backlog,))
    for name, value in (('limit_concurrency', limit_concurrency),
                        ('ws_max_size', ws_max_size)):
        if value is not None and value < 1:
            raise ValueError('%s must be at least 1, not %r'
                             % (name, value))
    for name, seconds in (('ping_interval', ping_interval),
                          ('ping_timeout', ping_timeout)):
        if seconds is not None and not seconds > 0:
            raise ValueError('%s must be > 0, not %r' % (name, seconds))


def split_app(app: Any) -> Tuple[AsyncServer, Any]:
    """``(AsyncServer, the ASGI app for other requests or None)`` for what
    ``run`` was given (:func:`.apps.resolve_app` without the path).

    Raises:
        TypeError: ``app`` cannot be served (the message says why).
    """
    served = resolve_app(app)
    return served.eio, served.asgi_app


class BuiltinServer:
    """Serve an :class:`~engineio_fast.AsyncServer` from an asyncio Protocol
    on uvloop + httptools: the server itself, an
    :class:`~engineio_fast.ASGIApp` wrapping it, python-socketio's
    ``AsyncServer`` or ``ASGIApp``, or an ASGI app (FastAPI, Starlette) with
    one of those mounted (see :mod:`.apps`).

    Args:
        app: what to serve.
        host: the address to listen on (default ``127.0.0.1``).
        port: the port (default 5000; 0 picks a free one).
        ssl: an :class:`ssl.SSLContext` to serve https/wss.
        limits: overrides for :data:`.context.DEFAULT_LIMITS`.
        per_message_deflate: negotiate websocket compression (default: the
            AsyncServer's ``per_message_deflate`` option, off).
        sock: an already bound listening socket to use instead of host/port.
        backlog: the listen backlog.
        router: a :class:`engineio_fast.cluster.handoff.Router` when this
            server is one worker among several (set by
            :func:`engineio_fast.adapters.builtin.workers.serve_workers`).
        accept: False: listen on nothing, serve only the connections
            ``router`` adopts (a worker: the supervisor accepts).
        proxy_headers: read ``X-Forwarded-For`` and ``X-Forwarded-Proto``
            from trusted peers for the client's address and scheme (the
            environ's ``REMOTE_ADDR`` and ``wsgi.url_scheme``, the ASGI
            scope's ``client`` and ``scheme``); default True, as uvicorn's
            ``--proxy-headers``.
        forwarded_allow_ips: the trusted peers: addresses and networks,
            comma-separated or a list, ``'*'`` for all; default
            ``$FORWARDED_ALLOW_IPS`` or ``'127.0.0.1'`` (uvicorn's).
        access_log: log one line per answered HTTP request (client
            address, request line, status) and per websocket accepted
            (101) or refused, at INFO on the ``engineio_fast.access``
            logger; decided once at start: when that logger does not log
            INFO, nothing is done per request. Default False, as on the
            command line (uvicorn's is on).
        root_path: the ASGI ``root_path``: the prefix a proxy removed
            from the URL (``/chat`` for a site mounted at
            ``https://host/chat/``). ASGI apps see it as uvicorn gives it,
            ``root_path`` and a ``path`` that starts with it; Engine.IO
            requests are still matched on the path as received, and the
            environ's ``SCRIPT_NAME`` is the root path.
        limit_concurrency: at most this many connections (HTTP and
            websocket, parked long-polls included) and running ASGI
            requests at once: a request beyond it is answered 503 and its
            connection closed (uvicorn's ``--limit-concurrency``). None: no
            limit. Per process with workers.
        ws_max_size: the largest websocket message (bytes) accepted; a
            larger one closes the connection with 1009. The Engine.IO
            server's ``max_http_buffer_size`` applies too: the smaller of
            the two wins. None: ``max_http_buffer_size`` alone.
        ping_interval: overrides the Engine.IO server's ``ping_interval``
            (seconds) at start, for the sessions opened from then on; None
            keeps the app's.
        ping_timeout: the same for ``ping_timeout``.
        metrics: serve this process's Prometheus metrics (see
            :mod:`engineio_fast.metrics`; needs ``prometheus_client``) on
            ``/metrics`` (True) or on the path given, GET only; counting
            starts when the server is made. With several workers each
            scrape is answered by one worker, with that worker's counts.

    Raises:
        TypeError: ``app`` holds no engineio_fast AsyncServer that can be
            served (the message says why and what to do).
        ValueError: an option is out of range.
    """

    def __init__(self, app: Any,
                 host: str = '127.0.0.1', port: int = 5000,
                 ssl: Optional[_ssl.SSLContext] = None,
                 limits: Optional[Dict[str, Any]] = None,
                 per_message_deflate: Union[None, bool, Dict[str, int]] = None,
                 sock: Optional[socket.socket] = None,
                 backlog: int = 2048, router: Any = None,
                 accept: bool = True, proxy_headers: bool = True,
                 forwarded_allow_ips: Union[None, str, Sequence[str]] = None,
                 access_log: bool = False, root_path: str = '',
                 limit_concurrency: Optional[int] = None,
                 ws_max_size: Optional[int] = None,
                 ping_interval: Optional[float] = None,
                 ping_timeout: Optional[float] = None,
                 metrics: Union[bool, str] = False) -> None:
        self.eio, self.asgi_app, self.path = resolve_app(app)
        check_options(root_path=root_path, backlog=backlog,
                      limit_concurrency=limit_concurrency,
                      ws_max_size=ws_max_size, ping_interval=ping_interval,
                      ping_timeout=ping_timeout)
        self.access_log = access_log
        self.root_path = root_path.rstrip('/')
        self.limit_concurrency = limit_concurrency
        self.ws_max_size = ws_max_size
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.metrics: Any = None
        self.metrics_path: Optional[str] = None
        if metrics:
            path = metrics if isinstance(metrics, str) else '/metrics'
            if not path.startswith('/'):
                raise ValueError('the metrics path must start with /, not %r'
                                 % path)
            from ...metrics import Exposition
            self.metrics = Exposition(self.eio)
            self.metrics_path = path
        self.host = host
        self.port = port
        self.ssl = ssl
        self.limits = limits
        self.per_message_deflate = per_message_deflate
        self.sock = sock
        self.backlog = backlog
        self.router = router
        self.accept = accept
        self.proxy = ProxyHeaders(
            default_allow_ips() if forwarded_allow_ips is None
            else forwarded_allow_ips) if proxy_headers else None
        self.ctx: Optional[ServerContext] = None
        self.server: Optional[asyncio.Server] = None
        self.lifespan: Optional[Lifespan] = None
        self.started = False
        self._stop: Optional[asyncio.Event] = None
        self._sweeper: Optional[asyncio.TimerHandle] = None
        # set by serve_on_new_loop, whose caller owns the process (run(),
        # the CLI, a worker): gc.freeze() once listening. Not for a server
        # started inside someone else's process (tests, embedding).
        self.freeze_gc = False

    @property
    def sockets(self) -> Sequence[socket.socket]:
        """The listening sockets (none before :meth:`start`)."""
        server = self.server
        return server.sockets if server is not None else []

    async def start(self) -> None:
        """Run the app's startup and start listening."""
        loop = asyncio.get_running_loop()
        if self._stop is None:      # (serve() makes it first)
            self._stop = asyncio.Event()
        if self.ping_interval is not None or self.ping_timeout is not None:
            # given to the server, they win over the app's own
            eio = self.eio
            eio.driver.engine.set_ping(self.ping_interval, self.ping_timeout)
            if self.ping_interval is not None:
                eio.ping_interval = self.ping_interval
            if self.ping_timeout is not None:
                eio.ping_timeout = self.ping_timeout
        # decided once: with the access log off, or its logger above INFO,
        # a request costs one attribute test
        access = logging.getLogger('engineio_fast.access')
        ctx = self.ctx = ServerContext(
            self.eio, self.asgi_app, loop, self.limits, self.ssl is not None,
            self.per_message_deflate, self.path, self.proxy,
            access_log=(access.info if self.access_log and
                        access.isEnabledFor(logging.INFO) else None),
            root_path=self.root_path,
            limit_concurrency=self.limit_concurrency,
            ws_max_size=self.ws_max_size)
        ctx.metrics_path = self.metrics_path
        ctx.metrics = self.metrics
        protocol: Any = HttpProtocol
        if self.router is not None:
            ctx.router = self.router
            protocol = RoutedHttpProtocol
        if self.asgi_app is not None:
            self.lifespan = Lifespan(self.asgi_app, self.eio.logger)
            await self.lifespan.start()
        # the client manager starts now, in this process and on this loop
        # (a forked worker's own Redis connection, registered under the
        # worker's node id), not at the first request: a worker that has
        # no session yet still counts among the processes
        manager = getattr(self.eio, 'manager', None)
        if manager is not None:
            manager.start()
        kwargs: Dict[str, Any] = {'ssl': self.ssl, 'backlog': self.backlog}
        try:
            if not self.accept:
                pass        # a worker: its router adopts its connections
            elif self.sock is not None:
                self.server = await loop.create_server(
                    lambda: protocol(ctx), sock=self.sock, **kwargs)
            else:
                self.server = await loop.create_server(
                    lambda: protocol(ctx), self.host, self.port,
                    reuse_address=True, **kwargs)
        except BaseException:
            # e.g. the address is in use: the app started, so stop it
            if self.lifespan is not None:
                await self.lifespan.stop()
            raise
        self._sweeper = loop.call_later(1.0, self._sweep)
        if self.router is not None:
            self.router.start(loop, self._adopt)
        self.started = True
        if self.freeze_gc:
            # what exists now (the app, its modules, this server) lives as
            # long as the process: the cyclic collector stops walking it on
            # every full collection (garbage collected first, so none of it
            # is kept)
            gc.collect()
            gc.freeze()

    def _adopt(self, sock: socket.socket, carried: bytes) -> None:
        # a connection handed over by a sibling worker, with the bytes it
        # read from it: served as if accepted and read here
        ctx = cast(ServerContext, self.ctx)    # (started)

        async def adopt() -> None:
            try:
                await ctx.loop.connect_accepted_socket(
                    lambda: RoutedHttpProtocol(ctx, carried), sock=sock)
            except Exception as exc:
                logger.warning('cannot adopt a connection: %s', exc)
                sock.close()
        ctx.spawn(adopt())

    def _sweep(self) -> None:
        ctx = cast(ServerContext, self.ctx)    # (started)
        ctx.sweep()
        self._sweeper = ctx.loop.call_later(1.0, self._sweep)

    def request_shutdown(self) -> None:
        """Ask :meth:`serve` to shut down (signal-safe)."""
        if self._stop is not None:
            self._stop.set()

    async def serve(self, install_signal_handlers: bool = True) -> None:
        """Start, serve until SIGINT/SIGTERM or :meth:`request_shutdown`,
        then shut down gracefully. The signal handlers are in place before
        the socket listens: a client that sees the port open may signal
        at once, and the server then starts and shuts down cleanly."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        installed: List[signal.Signals] = []
        if install_signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, self.request_shutdown)
                    installed.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass
        try:
            await self.start()
        except BaseException:
            for sig in installed:
                loop.remove_signal_handler(sig)
            raise
        try:
            await cast(asyncio.Event, self._stop).wait()    # (started)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            await self.shutdown()

    async def shutdown(self, timeout: Optional[float] = None) -> None:
        """Stop accepting, close websockets with 1001, answer pending
        polls, run disconnect handlers and close every connection, within
        ``timeout`` seconds (default: the ``shutdown_timeout`` limit)."""
        ctx = self.ctx
        if ctx is None or ctx.shutting_down:
            return
        if timeout is None:
            timeout = ctx.limits['shutdown_timeout']
        deadline = time.monotonic() + timeout
        ctx.shutting_down = True
        server = self.server
        if server is not None:
            server.close()
        if self.router is not None:
            self.router.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(ctx.ws_conns):
            conn.link.close_code = 1001
        for conn in list(ctx.http_conns):
            if not conn.busy and not conn.pending and \
                    (conn.cur is None or conn.in_headers):
                conn.close()    # idle, or still sending its headers
        try:
            await asyncio.wait_for(ctx.driver.shutdown(),
                                   max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            logger.warning('disconnect handlers did not finish in time')
        # let pending responses and close frames go out, then close
        while (ctx.http_conns or ctx.ws_conns or ctx.tasks) and \
                time.monotonic() < deadline:
            for conn in list(ctx.ws_conns):
                conn.going_away()
            await asyncio.sleep(0.02)
        for conn in list(ctx.http_conns):
            conn.close()
        for task in list(ctx.tasks):
            task.cancel()
        if self.lifespan is not None:
            await self.lifespan.stop(max(0.1, deadline - time.monotonic()))
        if server is not None:
            server.close()
            try:
                await asyncio.wait_for(server.wait_closed(), 1.0)
            except asyncio.TimeoutError:
                pass


def new_event_loop(loop: str = 'auto') -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (and not ``loop='asyncio'``)."""
    if loop in ('auto', 'uvloop'):
        try:
            import uvloop
            return uvloop.new_event_loop()
        except ImportError:
            if loop == 'uvloop':
                raise
    return asyncio.new_event_loop()


def finish_loop(event_loop: asyncio.AbstractEventLoop,
                grace: float = 2.0) -> None:
    """After the server stopped: cancel the tasks still running on
    ``event_loop`` (an app's background tasks, such as python-socketio's
    Redis listener), wait for them up to ``grace`` seconds, then close the
    async generators (closing one that a live task is running logs an
    error)."""
    pending = [t for t in asyncio.all_tasks(event_loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        event_loop.run_until_complete(asyncio.wait(pending, timeout=grace))
    event_loop.run_until_complete(event_loop.shutdown_asyncgens())


def serve_on_new_loop(server: BuiltinServer, loop: str = 'auto',
                      prepare: Optional[Callable[
                          [asyncio.AbstractEventLoop], None]] = None) -> None:
    """Run ``server.serve()`` on a new event loop (:func:`new_event_loop`)
    until it stops, then finish and close that loop (:func:`finish_loop`).
    ``prepare(loop)`` runs first, on the new loop. The caller owns the
    process (``run()``, the CLI, a worker): once listening, the server
    freezes what exists for the cyclic collector (``gc.freeze()``)."""
    event_loop = new_event_loop(loop)
    asyncio.set_event_loop(event_loop)
    server.freeze_gc = True
    try:
        if prepare is not None:
            prepare(event_loop)
        event_loop.run_until_complete(server.serve())
    finally:
        finish_loop(event_loop)
        asyncio.set_event_loop(None)
        event_loop.close()
