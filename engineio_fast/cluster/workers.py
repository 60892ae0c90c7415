"""Several built-in server processes on one port, no sticky balancer.

A supervisor opens the listening socket, makes one hand-off channel per
worker slot (:mod:`.handoff`) and forks the workers, each serving with its
own event loop. Worker ``k`` takes the node id ``<tag><ALPHABET[k]>``
(:mod:`.node`), so every sid it mints names its slot. The supervisor
accepts every connection itself and hands it, with its first bytes, to the
worker its request names, or to the next worker in turn for a handshake
(:mod:`.acceptor`): it never runs application code, so a worker that dies
takes along only the connections it was serving. A request for another
slot's session that arrives later on a connection a worker holds (a
keep-alive connection carrying requests of several sessions) is handed to
that worker by the worker. The supervisor also restarts a worker that dies
(in the same slot; a crash loop is slowed down and logged) and, on
SIGINT/SIGTERM, asks every worker to shut down gracefully, within the
built-in server's shutdown bound.
"""

import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Set

from . import handoff, node
from .acceptor import Acceptor

logger = logging.getLogger('engineio_fast.server')

POLL = 0.05            # seconds between the supervisor's checks
CRASH_WINDOW = 30.0    # a slot restarted CRASH_LIMIT times in this many
CRASH_LIMIT = 5        # seconds is crash-looping: its restarts slow down
MAX_BACKOFF = 30.0
STOP_GRACE = 2.0       # seconds past the shutdown bound before SIGKILL
APP_LOAD_ERROR = 4     # a worker's exit status: it could not load the app


_stop_asked: List[int] = []     # the signals a worker got before serving


def _remember_stop(signum: int, frame: Any) -> None:
    _stop_asked.append(signum)


class AppLoadError(Exception):
    """A worker could not import or serve the app it was named."""


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A bound, listening, non-blocking TCP socket.

    Raises:
        OSError: the address cannot be bound (e.g. in use).
    """
    family, kind, proto, _, addr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Supervisor:
    """Forks, watches and stops the workers.

    Args:
        serve_one: ``serve_one(router)`` serves in a worker, on the
            connections ``router`` (a :class:`.handoff.Router`) adopts,
            until it is asked to stop (SIGINT/SIGTERM); it runs in the
            forked child.
        sock: the listening socket (:func:`listen`); the supervisor
            accepts on it (:class:`.acceptor.Acceptor`).
        workers: how many workers (1 to :data:`.handoff.MAX_WORKERS`).
        shutdown_timeout: the workers' shutdown bound in seconds.
        line_limit: the built-in server's request line limit.

    Raises:
        ValueError: ``workers`` out of range.
    """

    def __init__(self, serve_one: Callable[[Any], None],
                 sock: socket.socket, workers: int,
                 shutdown_timeout: float = 10.0,
                 line_limit: int = 8192) -> None:
        if not 1 <= workers <= handoff.MAX_WORKERS:
            raise ValueError('workers must be 1 to %d, not %r'
                             % (handoff.MAX_WORKERS, workers))
        self.serve_one = serve_one
        self.sock = sock
        self.workers = workers
        self.shutdown_timeout = shutdown_timeout
        self.line_limit = line_limit
        self.tag = node.random_tag(handoff.TAG_LEN)
        self.channels = handoff.make_channels(workers)
        self.pids: Dict[int, int] = {}          # pid -> slot
        self.live: Set[int] = set()             # slots with a worker
        self.acceptor: Optional[Acceptor] = None
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
            acceptor = self.acceptor = Acceptor(
                self.sock, self.tag, [tx for tx, _ in self.channels],
                self.live.__contains__, self.line_limit)
            logger.info('%d workers serving (node ids %s..%s)', self.workers,
                        self.node_id(0), self.node_id(self.workers - 1))
            while not self.stopping:
                acceptor.poll(POLL)
                self._reap()
                now = time.monotonic()
                for slot, when in list(self.restart_at.items()):
                    if now >= when and not self.stopping:
                        del self.restart_at[slot]
                        self._spawn(slot)
            # new connections are refused from now on
            acceptor.close()
            self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()
        return APP_LOAD_ERROR if self.load_failed else 0

    def close(self) -> None:
        """Close the listening socket and the channels."""
        if self.acceptor is not None:
            self.acceptor.close()
        self.sock.close()
        for tx, rx in self.channels:
            tx.close()
            rx.close()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _spawn(self, slot: int) -> None:
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
        self.live.add(slot)

    def _reap(self) -> None:
        for _ in range(len(self.pids) + 1):
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.pids.pop(pid, None)
            if slot is None:
                continue
            self.live.discard(slot)
            if self.stopping:
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
        family = self.sock.family
        # the supervisor accepts; workers adopt: no copy of its descriptors
        if self.acceptor is not None:
            self.acceptor.close_in_child()
        self.sock.close()
        router = handoff.Router(self.tag, slot, self.channels,
                                self.line_limit, family)
        try:
            self.serve_one(router)
        except AppLoadError as exc:
            sys.stderr.write('worker %d: %s\n' % (slot, exc))
            return APP_LOAD_ERROR
        return 0
