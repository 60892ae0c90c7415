"""The synchronous client's I/O helpers (threads): the websocket over the
websockets package's sync client (opened over our own TLS object for
``wss://``, closed within a bound), the bounded outgoing queue
(:class:`Outbox`) and the in-order handler runner (:class:`Dispatcher`)."""

import inspect
import socket
import threading
import time
import urllib.parse
from collections import deque
from typing import Any, Deque

from ...protocol.client_machine import item_size
from . import http_sessions
from .tls_socket import TLSSocket

try:
    from websockets.sync.client import connect as _ws_connect
except ImportError:  # pragma: no cover - the client extra is not installed
    _ws_connect = None  # type: ignore[assignment]
    _WS_LEGACY: dict = {}
else:
    # websockets 17 warns unless a direct connection is asked for by name;
    # older releases have no such argument
    _WS_LEGACY = ({'legacy': True} if 'legacy' in inspect.signature(
        _ws_connect).parameters else {})


def open_websocket(url, options, verify, timeout):
    """Open a websocket with the websockets package's sync client.

    Args:
        url: the ``ws://`` or ``wss://`` URL.
        options: keyword arguments for its ``connect()`` (``ssl`` and
            ``server_hostname`` are used here for ``wss://``).
        verify: check the server's certificate when ``options`` has no TLS
            context.
        timeout: seconds for the TCP and TLS handshakes.

    Returns:
        The connection.

    Raises:
        OSError, TimeoutError or a websockets exception: it did not open.
        ImportError: the websockets package is not installed.
    """
    if _ws_connect is None:  # pragma: no cover
        raise ImportError('the websockets package is not installed')
    options = dict(_WS_LEGACY, **options)
    if url.startswith('wss://') and 'sock' not in options:
        url, options['sock'] = _tls_socket(url, options, verify, timeout)
    return _ws_connect(url, **options)


def _tls_socket(url, options, verify, timeout):
    """Open the TLS connection for a ``wss://`` URL ourselves (see
    :mod:`engineio_fast.adapters.clients.tls_socket`); returns the ``ws://``
    URL with an explicit port that websockets then speaks over it."""
    parts = urllib.parse.urlsplit(url)
    context = options.pop('ssl', None) or http_sessions.ssl_context(verify)
    hostname = options.pop('server_hostname', None) or parts.hostname
    timeout = options.get('open_timeout') or timeout
    port = parts.port or 443
    sock = socket.create_connection((parts.hostname, port), timeout)
    try:
        tls = TLSSocket(sock, context, hostname, timeout)
    except BaseException:
        sock.close()
        raise
    netloc = parts.netloc if parts.port else '%s:443' % parts.netloc
    return urllib.parse.urlunsplit(parts._replace(
        scheme='ws', netloc=netloc)), tls


def bounded(fn, timeout):
    """Run ``fn()`` in a helper thread; True if it ended within ``timeout``
    seconds. For writes that may block for good: the websockets package's
    sync connection takes one lock for every write, and a writer blocked on
    a socket the server no longer reads holds it."""
    def run():
        try:
            fn()
        except Exception:
            pass
    th = threading.Thread(target=run, daemon=True,
                          name='engineio-client-close')
    th.start()
    th.join(timeout)
    return not th.is_alive()


def send_or_drop(ws, item, timeout):
    """Send ``item`` on the websocket within ``timeout`` seconds; past that
    the socket is dropped (see :func:`bounded`)."""
    if not bounded(lambda: ws.send(item), timeout):
        close_websocket(ws, force=True)


def close_websocket(ws, force, timeout=None):
    """Close the websocket ``ws`` (if any): the closing handshake within
    ``timeout`` seconds (then as with ``force``), or with ``force`` drop the
    socket at once."""
    if ws is None:
        return
    if not force and bounded(ws.close, timeout):
        return
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        ws.close_socket()
    except Exception:  # pragma: no cover - already closed
        pass


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
        size = item_size(item)
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
        self._items: Deque[Any] = deque()
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
