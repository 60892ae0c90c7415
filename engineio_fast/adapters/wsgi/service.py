"""One service task per synchronous server.

It runs the engine's timer heap (heartbeats, ping and upgrade timeouts, the
expiry of closed polling sessions), finishes websocket writes that a socket
could not take at once, ends websockets whose client does not complete a
close in time, and lets the handler pool (dispatch.py) grow when a handler
holds up its session. There is no thread or greenlet per client, message
or ping.
"""

import time


class Service:
    """Heartbeat timer and writer of last resort for one
    :class:`engineio_fast.Server`."""

    def __init__(self, server):
        self.server = server
        self._run_state = None     # the current run (see _Run)
        self._sleep_until = None   # the deadline the loop waits for
        self._incoming = []        # conns to watch, from any thread

    def start(self):
        """Start the service task (idempotent; called under the server lock
        on the first request, so it starts after a fork and after monkey
        patching). After :meth:`stop` the next call starts a new run, so a
        server that was shut down keeps serving heartbeats to the clients
        that connect afterwards."""
        run = self._run_state
        if run is not None and not run.stop:
            return
        run = self._run_state = _Run(self.server._mode.waiter())
        self._sleep_until = None
        self.server._mode.spawn_named(
            'engineio_fast-service', lambda: self._run(run))

    @property
    def running(self):
        run = self._run_state
        return run is not None and not run.stop

    def timer_hook(self, when):
        """The engine scheduled a deadline (called under the server lock):
        wake the loop if it sleeps past it."""
        run = self._run_state
        if run is None:
            return
        until = self._sleep_until
        if until is None or when < until:
            self._sleep_until = when
            run.waiter.wake()

    def wake(self):
        """Make the loop look again (call under the server lock)."""
        run = self._run_state
        if run is not None:
            run.waiter.wake()

    def watch(self, conn):
        """Watch ``conn``: write its ``out`` bytes when its socket is
        writable (``conn.on_writable()``) and kill it at ``conn.kill_at``.
        """
        with self.server._lock:
            self._incoming.append(conn)
            run = self._run_state
        if run is not None:
            run.waiter.wake()

    def stop(self):
        run = self._run_state
        if run is not None:
            run.stop = True
            run.waiter.wake()

    def _run(self, run):
        server = self.server
        engine = server._engine
        lock = server._lock
        waiter = run.waiter
        watched = run.watched
        dispatcher = server._dispatcher
        try:
            while not run.stop:
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
                    # handlers that hold up their session, drain jobs
                    # that wait for a worker (look again in STALL), idle
                    # workers to retire
                    check = dispatcher.next_check(now)
                    if check is not None and (nd is None or check < nd):
                        nd = check
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
                if check is not None:
                    dispatcher.check(time.monotonic())
        except Exception:  # pragma: no cover - a bug: say so, do not die mute
            server.logger.exception('engine.io service task failed')
        finally:
            # no loop is left to retire idle handler workers later
            dispatcher.retire_idle()
            with lock:
                # the next run (started now or on the next request) takes
                # over the connections this one was still writing to or
                # waiting to kill
                self._incoming.extend(watched)
                if self._run_state is run:
                    self._run_state = None
            waiter.close()


class _Run:
    """One run of the service loop: its wake-up waiter, the connections it
    watches and its stop flag."""

    __slots__ = ('waiter', 'watched', 'stop')

    def __init__(self, waiter):
        self.waiter = waiter
        self.watched = set()
        self.stop = False
