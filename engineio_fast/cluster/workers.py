"""Several built-in server processes on one port, no sticky balancer.

A supervisor opens the listening sockets, makes one hand-off channel per
worker slot (:mod:`.handoff`) and forks the workers; each worker accepts
on its slot's socket and serves with its own event loop. On Linux every
slot has a socket of its own on the port (``SO_REUSEPORT``): the kernel
spreads new connections evenly over the slots (one shared socket gives
most of a burst to whichever worker wakes first), and as the supervisor
keeps every slot's socket open, the connections queued for a worker that
dies wait for its replacement instead of being reset. Elsewhere the
workers share one socket. Worker ``k`` takes
the node id ``<tag><ALPHABET[k]>`` (:mod:`.node`), so every sid it mints
names its slot; a request for another slot's session is handed to that
worker with its connection. The supervisor stays out of the data path: it
restarts a worker that dies (in the same slot; a crash loop is slowed down
and logged) and, on SIGINT/SIGTERM, asks every worker to shut down
gracefully, within the built-in server's shutdown bound.
"""

import asyncio
import logging
import os
import signal
import socket
import sys
import time
import traceback
import uuid
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional

from . import handoff, node

logger = logging.getLogger('engineio_fast.server')

POLL = 0.05            # seconds between the supervisor's checks
CRASH_WINDOW = 30.0    # a slot restarted CRASH_LIMIT times in this many
CRASH_LIMIT = 5        # seconds is crash-looping: its restarts slow down
MAX_BACKOFF = 30.0
ORPHAN_CHECK = 1.0     # seconds between a worker's checks of its parent
STOP_GRACE = 2.0       # seconds past the shutdown bound before SIGKILL
APP_LOAD_ERROR = 4     # a worker's exit status: it could not load the app


STOP_CHECK = 0.05      # seconds between a starting worker's checks
_stop_asked: List[int] = []     # the signals a worker got before serving


def _remember_stop(signum: int, frame: Any) -> None:
    _stop_asked.append(signum)


class AppLoadError(Exception):
    """A worker could not import or serve the app it was named."""


def listen(host: str, port: int, backlog: int = 2048,
           reuse_port: bool = False) -> socket.socket:
    """A bound, listening, non-blocking TCP socket for the workers.

    Args:
        reuse_port: set ``SO_REUSEPORT`` (more sockets on the same port).

    Raises:
        OSError: the address cannot be bound (e.g. in use).
    """
    family, kind, proto, _, addr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def spreads_connections() -> bool:
    """Whether the kernel spreads connections over ``SO_REUSEPORT``
    sockets (Linux) rather than giving them all to one (BSD, macOS)."""
    return sys.platform.startswith('linux') and \
        hasattr(socket, 'SO_REUSEPORT')


def listen_slots(host: str, port: int, count: int,
                 backlog: int = 2048) -> List[socket.socket]:
    """The listening sockets of ``count`` worker slots, in slot order: one
    ``SO_REUSEPORT`` socket per slot where the kernel spreads connections
    over them (:func:`spreads_connections`), else one socket shared by
    every slot. ``port`` 0 picks a free port for all of them.

    Raises:
        OSError: the address cannot be bound.
    """
    if count == 1 or not spreads_connections():
        return [listen(host, port, backlog)] * count
    socks: List[socket.socket] = []
    try:
        for _ in range(count):
            socks.append(listen(host, port, backlog, reuse_port=True))
            port = socks[0].getsockname()[1]
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


class Supervisor:
    """Forks, watches and stops the workers.

    Args:
        serve_one: ``serve_one(sock, router)`` serves in a worker until it
            is asked to stop (SIGINT/SIGTERM); it runs in the forked child.
        socks: the listening socket of each slot (:func:`listen_slots`),
            or one socket every worker accepts on.
        workers: how many workers (1 to :data:`.handoff.MAX_WORKERS`).
        shutdown_timeout: the workers' shutdown bound in seconds.
        line_limit: the built-in server's request line limit.
        backlog: the listen backlog of a slot's socket made again.

    Raises:
        ValueError: ``workers`` out of range.
    """

    def __init__(self, serve_one: Callable[[socket.socket, Any], None],
                 socks: Any, workers: int,
                 shutdown_timeout: float = 10.0,
                 line_limit: int = 8192, backlog: int = 2048) -> None:
        if not 1 <= workers <= handoff.MAX_WORKERS:
            raise ValueError('workers must be 1 to %d, not %r'
                             % (handoff.MAX_WORKERS, workers))
        self.serve_one = serve_one
        if isinstance(socks, socket.socket):
            socks = [socks] * workers
        if len(socks) != workers:
            raise ValueError('one listening socket per worker slot')
        #: each slot's listening socket (the same one for all, or one each)
        self.socks: List[socket.socket] = list(socks)
        self.address = self.socks[0].getsockname()[:2]
        self.workers = workers
        self.shutdown_timeout = shutdown_timeout
        self.line_limit = line_limit
        self.backlog = backlog
        self.tag = node.random_tag(handoff.TAG_LEN)
        self.channels = handoff.make_channels(workers)
        self.pids: Dict[int, int] = {}          # pid -> slot
        self.deaths: List[Deque[float]] = [deque(maxlen=CRASH_LIMIT)
                                           for _ in range(workers)]
        self.restart_at: Dict[int, float] = {}  # slot -> when
        self.streak = [0] * workers             # slowed restarts in a row
        self.stopping = False
        #: a worker exited with APP_LOAD_ERROR: the service stopped
        self.load_failed = False

    def node_id(self, slot: int) -> str:
        """The node id of ``slot``'s worker."""
        return self.tag + node.ALPHABET[slot]

    # -- the supervisor ------------------------------------------------------
    def run(self) -> int:
        """Start every worker, keep them running until SIGINT/SIGTERM (or
        until a worker cannot load the app), then stop them. Returns the
        exit status: 0, or :data:`APP_LOAD_ERROR`."""
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in range(self.workers):
                self._spawn(slot)
            logger.info('%d workers serving (node ids %s..%s)', self.workers,
                        self.node_id(0), self.node_id(self.workers - 1))
            while not self.stopping:
                self._reap()
                now = time.monotonic()
                for slot, when in list(self.restart_at.items()):
                    if now >= when and not self.stopping:
                        del self.restart_at[slot]
                        self._spawn(slot)
                time.sleep(POLL)
            # new connections are refused once the workers close theirs
            self._close_listeners()
            self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()
        return APP_LOAD_ERROR if self.load_failed else 0

    def _close_listeners(self) -> None:
        for sock in set(self.socks):
            sock.close()

    def close(self) -> None:
        """Close the listening sockets and the channels."""
        self._close_listeners()
        for tx, rx in self.channels:
            tx.close()
            rx.close()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _spawn(self, slot: int) -> None:
        sock = self.socks[slot]
        if sock.fileno() == -1:         # closed by a slowed restart
            host, port = self.address
            self.socks[slot] = listen(host, port, self.backlog,
                                      reuse_port=True)
        pid = os.fork()
        if pid == 0:       # the worker
            code = 1
            try:
                code = self._worker(slot)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.pids[pid] = slot

    def _reap(self) -> None:
        for _ in range(len(self.pids) + 1):
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.pids.pop(pid, None)
            if slot is None or self.stopping:
                continue
            if os.WIFEXITED(status) and \
                    os.WEXITSTATUS(status) == APP_LOAD_ERROR:
                # restarting would fail the same way
                logger.error('worker %d (pid %d) could not load the app: '
                             'stopping', slot, pid)
                self.load_failed = self.stopping = True
                continue
            self._schedule_restart(slot, pid, status)

    def _schedule_restart(self, slot: int, pid: int, status: int) -> None:
        now = time.monotonic()
        deaths = self.deaths[slot]
        deaths.append(now)
        how = ('signal %d' % os.WTERMSIG(status)) if os.WIFSIGNALED(status) \
            else ('status %d' % os.WEXITSTATUS(status))
        delay = 0.0
        if len(deaths) == CRASH_LIMIT and now - deaths[0] < CRASH_WINDOW:
            self.streak[slot] += 1
            delay = min(MAX_BACKOFF, 2.0 ** self.streak[slot])
            logger.error('worker %d (pid %d) exited with %s, %d times in '
                         '%.0f s: restarting it in %.0f s', slot, pid, how,
                         CRASH_LIMIT, now - deaths[0], delay)
        else:
            self.streak[slot] = 0
            logger.warning('worker %d (pid %d) exited with %s: restarting '
                           'it', slot, pid, how)
        self.restart_at[slot] = now + delay
        if delay and self.socks.count(self.socks[slot]) == 1:
            # while the slot waits, its socket's queue would wait with it:
            # close it (the kernel spreads new connections over the others)
            # and listen again when the worker restarts
            self.socks[slot].close()

    def _stop_all(self) -> None:
        for pid in list(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.shutdown_timeout + STOP_GRACE
        while self.pids and time.monotonic() < deadline:
            self._reap()
            time.sleep(POLL / 5)
        for pid in list(self.pids):
            logger.warning('worker pid %d did not stop in time: killed', pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.pids):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.pids.pop(pid, None)

    # -- a worker ------------------------------------------------------------
    def _worker(self, slot: int) -> int:
        # a SIGTERM/SIGINT that comes before the worker's loop handles
        # signals (while it imports the app, say) is remembered, and the
        # worker shuts down gracefully as soon as it serves, rather than
        # dying silently
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _remember_stop)
        node.set_node_id(self.node_id(slot))
        for k, (_tx, rx) in enumerate(self.channels):
            if k != slot:
                rx.close()
        mine = self.socks[slot]
        for sock in set(self.socks) - {mine}:
            sock.close()       # the supervisor keeps them for their slots
        router = handoff.Router(self.tag, slot, self.channels,
                                self.line_limit, mine.family)
        try:
            self.serve_one(mine, router)
        except AppLoadError as exc:
            sys.stderr.write('worker %d: %s\n' % (slot, exc))
            return APP_LOAD_ERROR
        return 0


def load_in_worker(spec: str) -> Any:
    """Import ``module:attribute`` in a worker (after the fork) and check
    that the built-in server can serve it.

    Raises:
        AppLoadError: it cannot be imported or served (the message says
            why, with the traceback of an import that raised).
    """
    from ..adapters.builtin.apps import import_app, resolve_app
    try:
        app = import_app(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise AppLoadError('cannot load %s: %s' % (spec, exc)) from exc
    except Exception as exc:    # the module raised: its traceback helps
        raise AppLoadError('cannot load %s: %s\n%s' % (
            spec, exc, traceback.format_exc())) from exc
    try:
        resolve_app(app)
    except TypeError as exc:
        raise AppLoadError('cannot serve %s: %s' % (spec, exc)) from exc
    return app


def renew_forked_state(app: Any) -> None:
    """Give a worker its own copy of what the app made before the fork
    and must not share with its siblings. Today: the host id of
    python-socketio's pub/sub client managers (``socketio.AsyncRedisManager``
    and the others): it is drawn once in the manager's constructor, and
    the managers ignore the messages that carry their own host id, so
    workers that share one would drop each other's emits, room changes and
    acks. A manager that has already started is left alone."""
    from ..adapters.builtin.apps import resolve_app
    eio = resolve_app(app).eio
    seen = set()
    for handler in list(getattr(eio, 'handlers', {}).values()):
        sio = getattr(handler, '__self__', None)
        manager = getattr(sio, 'manager', None)
        if manager is None or id(manager) in seen:
            continue
        seen.add(id(manager))
        if isinstance(getattr(manager, 'host_id', None), str) and \
                hasattr(manager, '_publish') and \
                not getattr(sio, 'manager_initialized', False):
            manager.host_id = uuid.uuid4().hex


def serve_workers(app: Any, workers: int, host: str = '127.0.0.1',
                  port: int = 5000, loop: str = 'auto',
                  backlog: int = 2048, **kwargs: Any) -> None:
    """Serve ``app`` on the built-in server with ``workers`` processes on
    one port until SIGINT/SIGTERM (see :func:`engineio_fast.run`).

    Args:
        app: what :class:`~engineio_fast.adapters.builtin.BuiltinServer`
            serves, forked into every worker (python-socketio's pub/sub
            managers get a host id of their own in each, see
            :func:`renew_forked_state`); or a ``'module:attribute'``
            string, imported by each worker after the fork (the command
            line does this), so that everything the module makes is the
            worker's own.
        workers: the number of worker processes (1 to 64).
        host: the address to listen on.
        port: the port.
        loop: ``'auto'``, ``'uvloop'`` or ``'asyncio'``.
        backlog: the listen backlog.
        **kwargs: more ``BuiltinServer`` options (``limits``,
            ``per_message_deflate``).

    Raises:
        ValueError: ``workers`` out of range, or ``ssl`` given (a
            connection handed between workers cannot carry TLS state).
        RuntimeError: the platform cannot fork.
        TypeError: ``app`` cannot be served.
        OSError: the address cannot be bound.
        RuntimeError: a worker could not import or serve ``app`` (a
            string): every worker was stopped. Also: the platform cannot
            fork.
    """
    from ..adapters.builtin.apps import resolve_app
    from ..adapters.builtin.context import DEFAULT_LIMITS
    from ..adapters.builtin.serve import (
        BuiltinServer,
        finish_loop,
        new_event_loop,
    )

    if kwargs.get('ssl') is not None:
        raise ValueError('workers > 1 cannot serve TLS (a connection handed '
                         'between workers cannot carry its TLS state): '
                         'terminate TLS in front of the server')
    kwargs.pop('ssl', None)
    if not hasattr(os, 'fork'):
        raise RuntimeError('workers > 1 needs os.fork (Linux, macOS)')
    if not 1 <= workers <= handoff.MAX_WORKERS:
        raise ValueError('workers must be 1 to %d, not %r'
                         % (handoff.MAX_WORKERS, workers))
    spec = app if isinstance(app, str) else None
    if spec is None:
        resolve_app(app)       # a TypeError here, not in every worker
    limits: Dict[str, Any] = dict(DEFAULT_LIMITS)
    limits.update(kwargs.get('limits') or {})

    supervisor_pid = os.getpid()

    def serve_one(sock: socket.socket, router: Any) -> None:
        if spec is not None:
            served = load_in_worker(spec)
        else:
            served = app
            renew_forked_state(served)
        server = BuiltinServer(served, sock=sock, backlog=backlog,
                               router=router, **kwargs)
        event_loop = new_event_loop(loop)
        asyncio.set_event_loop(event_loop)

        def watch() -> None:
            if os.getppid() != supervisor_pid:
                # the supervisor is gone (SIGKILL): shut down rather than
                # serve on alone with no one to restart the siblings
                logger.warning('the supervisor is gone: shutting down')
                server.request_shutdown()
            elif _stop_asked and server._stop is not None:
                # asked to stop before the loop handled signals
                server.request_shutdown()
            else:
                event_loop.call_later(
                    STOP_CHECK if _stop_asked else ORPHAN_CHECK, watch)
        event_loop.call_later(STOP_CHECK, watch)
        try:
            event_loop.run_until_complete(server.serve())
        finally:
            finish_loop(event_loop)
            asyncio.set_event_loop(None)
            event_loop.close()

    socks = listen_slots(host, port, workers, backlog)
    supervisor: Optional[Supervisor] = None
    try:
        supervisor = Supervisor(serve_one, socks, workers,
                                limits['shutdown_timeout'],
                                limits['max_request_line'], backlog)
    finally:
        if supervisor is None:
            for sock in set(socks):
                sock.close()
    if supervisor.run() == APP_LOAD_ERROR:
        raise RuntimeError('a worker could not load %s (its error is '
                           'above): stopped' % (spec or 'the app'))
