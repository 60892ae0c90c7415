"""One service task per synchronous server.

It is the server's only background thread (or greenlet): it runs the
engine's timer heap (heartbeats, ping and upgrade timeouts, the expiry of
closed polling sessions), finishes websocket writes that a socket could not
take at once, and ends websockets whose client does not complete a close
in time. There is no thread or greenlet per client, message or ping.
"""

import time


class Service:
    """Heartbeat timer and writer of last resort for one
    :class:`engineio_fast.Server`."""

    def __init__(self, server):
        self.server = server
        self._waiter = None
        self._task = None
        self._stop = False
        self._sleep_until = None   # the deadline the loop waits for
        self._incoming = []        # conns to watch, from any thread
        self._watched = set()      # service task only

    def start(self):
        """Start the service task (idempotent; called under the server lock
        on the first request, so it starts after a fork and after monkey
        patching)."""
        if self._task is not None or self._stop:
            return
        self._waiter = self.server._mode.waiter()
        self._task = self.server._mode.spawn(self._run)
        if hasattr(self._task, 'name'):
            self._task.name = 'engineio_fast-service'

    @property
    def running(self):
        return self._task is not None and not self._stop

    def timer_hook(self, when):
        """The engine scheduled a deadline (called under the server lock):
        wake the loop if it sleeps past it."""
        if self._waiter is None:
            return
        until = self._sleep_until
        if until is None or when < until:
            self._sleep_until = when
            self._waiter.wake()

    def watch(self, conn):
        """Watch ``conn``: write its ``out`` bytes when its socket is
        writable (``conn.on_writable()``) and kill it at ``conn.kill_at``.
        """
        with self.server._lock:
            self._incoming.append(conn)
            waiter = self._waiter
        if waiter is not None:
            waiter.wake()

    def stop(self):
        self._stop = True
        if self._waiter is not None:
            self._waiter.wake()

    def _run(self):
        server = self.server
        engine = server._engine
        lock = server._lock
        waiter = self._waiter
        watched = self._watched
        try:
            while not self._stop:
                with lock:
                    nd = engine.next_deadline()
                    new = self._incoming
                    self._incoming = []
                watched.update(new)
                now = time.monotonic()
                writers = {}
                for conn in list(watched):
                    if conn.dead:
                        watched.discard(conn)
                    elif conn.kill_at is not None and now >= conn.kill_at:
                        conn.kill()
                        watched.discard(conn)
                    elif conn.out is not None and conn.fd >= 0:
                        writers[conn.fd] = conn
                    elif conn.kill_at is None:
                        watched.discard(conn)
                    if conn.kill_at is not None and conn in watched and \
                            (nd is None or conn.kill_at < nd):
                        nd = conn.kill_at
                with lock:
                    # a deadline scheduled since the read above wakes us
                    until = engine.next_deadline()
                    if until is not None and (nd is None or until < nd):
                        nd = until
                    self._sleep_until = nd
                waiter.set_writers(set(writers))
                timeout = None if nd is None else max(0.0, nd - now)
                try:
                    ready = waiter.wait(timeout)
                except (OSError, ValueError):
                    ready = list(writers)   # a socket closed under us
                for fd in ready:
                    conn = writers.get(fd)
                    if conn is not None:
                        conn.on_writable()
                server._tick(time.monotonic())
        except Exception:  # pragma: no cover - a bug: say so, do not die mute
            server.logger.exception('engine.io service task failed')
        finally:
            self._task = None
            waiter.close()
