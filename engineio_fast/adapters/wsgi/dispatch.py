"""How the synchronous server runs its event handlers.

Events (connect aside, which runs in the handshake's request) are queued on
their session's *chain* under the server lock, in the order the engine made
them, and a chain is drained by one *drainer* at a time, so a session's
handlers start in the order its client sent the messages.

``async_handlers=False`` (python-engineio: handlers run in the receiving
thread): the thread that received the events drains the chain itself,
before the POST is answered or the next websocket frame is read.

``async_handlers=True`` (the default): chains are drained by a small pool
of workers (threads, or greenlets in the green modes), so the thread that
received the events goes straight back to its socket: a slow handler never
holds up reading the client's pongs or its next messages, and a POST is
answered at once. There is no thread or greenlet per message: workers are
reused, and the pool grows past its base size only while work waits:

- a handler that has run for :data:`STALL` seconds while more events of
  its session wait behind it is *detached*: the rest of the chain goes to
  another worker and the slow handler finishes on its own (as a coroutine
  handler that suspends gets its own task in :class:`AsyncServer`), so a
  handler that waits for a later message of its own client (an
  acknowledgement) does not wait forever;
- a disconnect is held back longer, behind the running handler of its
  session and behind the background tasks that handlers of its session
  started (``eio.start_background_task()``: python-socketio runs each of
  its events in one): it goes ahead only once each of them has ended, waits
  in the engine's primitives (``eio.sleep()``, an event of
  ``eio.create_event()``: an acknowledgement, a loop that runs until its
  client goes) or has run :data:`CLOSE_STALL` seconds. A handler that ends
  its own session (python-socketio's ``disconnect()`` sends the DISCONNECT
  packet, then runs the namespace's disconnect handler, which Flask-SocketIO
  skips once the engine's disconnect has dropped the connection's environ)
  thus finishes before the client's answering close is reported, as it does
  on an idle machine, whatever the load;
- a drain job that found no idle worker for :data:`STALL` seconds gets a
  new one.

Workers wait for jobs without a timeout (a timed wait costs a timer per
job in the green modes); when no job came for :data:`IDLE` seconds, the
service loop retires the idle ones (they come back on demand). A session
whose client sends faster than its handlers run is held back: once
:data:`HIGH` events wait on its chain, the thread reading that client's
websocket or POST waits until they are down to :data:`LOW`.
"""

import collections
import contextvars
import time
from typing import Any, Deque, Dict, Optional

STALL = 0.05
CLOSE_STALL = 2.0
IDLE = 10.0
HIGH = 256
LOW = 64
BASE_THREADS = 8        # workers started without waiting (threading)
BASE_GREENLETS = 64     # (eventlet, gevent)
MAX_WORKERS = 10000     # never more than this many, stalled or not
WORKER_NAME = 'engineio_fast-handlers'

# the session whose handler runs in this thread or greenlet (None outside
# handlers): disconnect(sid) from a handler of that session runs the
# disconnect handler at once, and a handler never waits for room
current_sid = contextvars.ContextVar('engineio_fast_handler_sid',
                                     default=None)


class Running:
    """A drainer running a session's handlers, or a background task a
    handler started, in one thread or greenlet."""

    __slots__ = ('parked', 'started')

    def __init__(self, started=0.0):
        self.parked = False     # it waits in eio.sleep() or an engine event
        self.started = started  # when it (or its current handler) started


# the Running of this thread or greenlet (None outside handlers and tasks)
_running: 'contextvars.ContextVar[Optional[Running]]' = \
    contextvars.ContextVar('engineio_fast_running', default=None)


def parked_wait(wait, *args, **kwargs):
    """Call ``wait(*args, **kwargs)`` (a sleep or an event's wait) with the
    running handler or task, if any, marked as waiting for the while: a
    disconnect held behind it may then go ahead (see the module's doc)."""
    run = _running.get()
    if run is None:
        return wait(*args, **kwargs)
    run.parked = True
    try:
        return wait(*args, **kwargs)
    finally:
        run.parked = False


_parking_events: Dict[Any, Any] = {}


def parking_event(cls):
    """A subclass of the mode's event class ``cls`` whose ``wait()`` marks
    the running handler as waiting (made once per class)."""
    sub = _parking_events.get(cls)
    if sub is None:
        def wait(self, timeout=None):
            return parked_wait(cls.wait, self, timeout)
        sub = _parking_events[cls] = type(cls.__name__, (cls,),
                                          {'wait': wait})
    return sub


class Chain:
    """The events of one session waiting for their handlers."""

    __slots__ = ('events', 'drainer', 'started', 'scheduled', 'room',
                 'done')

    def __init__(self):
        self.events: Deque[Any] = collections.deque()
        self.drainer = None     # the running drainer (a Running)
        self.started = 0.0      # when its current handler started
        self.scheduled = False  # a drain job for it is queued
        self.room = None        # set when a waiting reader may go on
        self.done = None        # set when its last handler has run


class Dispatcher:
    """The chains and worker pool of one :class:`engineio_fast.Server`."""

    def __init__(self, server):
        self.server = server
        self.lock = server._lock
        self.mode = mode = server._mode
        self.inline = not server.async_handlers
        self.chains: Dict[str, Chain] = {}
        self.stalls = set()     # sids with events behind a running handler
        # the running background tasks started by each session's handlers
        self.tasks: Dict[str, set] = {}
        self.held = set()       # sids whose disconnect waits for them
        self.base = BASE_GREENLETS if mode.green else BASE_THREADS
        self.jobs = mode.JobQueue()
        self.workers = 0
        self.idle = 0
        self.retiring = 0       # idle workers told to stop, not yet gone
        self.busy_at = 0.0      # when the last job was submitted
        self.waiting = 0        # jobs queued, not yet taken
        self.detached = 0       # detached handlers still running
        # when each waiting job came
        self.queued_at: Deque[float] = collections.deque()
        self.watching = False   # the service loop checks us every STALL

    # -- queueing (under the server lock) -----------------------------------
    def queue(self, events):
        """Queue ``events`` on their chains. Returns the sids whose chain
        needs a drain job (async_handlers), for :meth:`submit` once the lock
        is released."""
        chains = self.chains
        inline = self.inline
        todo = None
        for ev in events:
            sid = ev[1]
            chain = chains.get(sid)
            if chain is None:
                chain = chains[sid] = Chain()
            chain.events.append(ev)
            if inline:
                continue
            if chain.drainer is not None:
                self.stalls.add(sid)
                self._watch()
            elif not chain.scheduled:
                chain.scheduled = True
                if todo is None:
                    todo = [sid]
                else:
                    todo.append(sid)
        return todo

    def _watch(self):
        if not self.watching:
            self.watching = True
            self.server._service.wake()

    def next_check(self, now):
        """When the service loop should next call :meth:`check` (None:
        not needed; called under the server lock): every :data:`STALL`
        seconds while a handler or task holds up its session or a job waits
        for a worker, else when idle workers are due to retire."""
        if self.stalls or self.held or \
                self.waiting > self.idle - self.retiring:
            return now + STALL
        self.watching = False   # a new stall must wake the loop
        if self.idle > self.retiring:
            return self.busy_at + IDLE
        return None

    # -- running -------------------------------------------------------------
    def submit(self, sids):
        """Queue a drain job per sid (not under the lock)."""
        spawn = 0
        now = time.monotonic()
        with self.lock:
            self.busy_at = now
            self.waiting += len(sids)
            self.queued_at.extend([now] * len(sids))
            short = self.waiting - (self.idle - self.retiring)
            if short > 0:
                room = self.base - (self.workers - self.retiring)
                spawn = min(short, room) if room > 0 else 0
                self.workers += spawn
                if short > spawn:
                    self._watch()
        put = self.jobs.put
        for sid in sids:
            put(sid)
        for _ in range(spawn):
            self._spawn()

    def _spawn(self):
        self.mode.spawn_named(WORKER_NAME, self._worker)

    def run_here(self, sids):
        """Drain these sessions' chains in this thread (async_handlers=False,
        or a disconnect)."""
        for sid in sids:
            self.drain(sid)

    # -- background tasks of handlers ----------------------------------------
    def adopt(self, target):
        """``target`` of a background task about to start: when started by
        a handler of a session, wrapped so that the session's disconnect is
        held behind it (see the module's doc)."""
        sid = current_sid.get()
        if sid is None:
            return target
        run = Running(time.monotonic())
        with self.lock:
            runs = self.tasks.get(sid)
            if runs is None:
                runs = self.tasks[sid] = set()
            runs.add(run)

        def task(*args, **kwargs):
            token = _running.set(run)
            try:
                return target(*args, **kwargs)
            finally:
                _running.reset(token)
                self._task_done(sid, run)
        return task

    def _task_done(self, sid, run):
        with self.lock:
            runs = self.tasks.get(sid)
            if runs is not None:
                runs.discard(run)
                if not runs:
                    del self.tasks[sid]
            release = sid in self.held and \
                not self._holding(sid, time.monotonic(), None)
            if release:
                self.held.discard(sid)
        if release:
            self.drain(sid)

    def _holding(self, sid, now, me):
        """Whether a task of ``sid`` other than ``me`` holds its disconnect
        back: it runs, waits in none of the engine's primitives, and is
        younger than CLOSE_STALL (under the lock)."""
        runs = self.tasks.get(sid)
        if runs:
            for run in runs:
                if run is not me and not run.parked and \
                        now - run.started < CLOSE_STALL:
                    return True
        return False

    def _worker(self):
        jobs = self.jobs
        lock = self.lock
        while True:
            with lock:
                self.idle += 1
            sid = jobs.get()
            with lock:
                self.idle -= 1
                if sid is None:     # retired by check()
                    self.retiring -= 1
                    self.workers -= 1
                    return
                self.waiting -= 1
                if self.queued_at:
                    self.queued_at.popleft()
            self.drain(sid, job=True)

    def drain(self, sid, job=False, hold=True):
        """Run the queued handlers of ``sid`` one after the other, until its
        chain is empty, this drainer is detached or (``hold``) its
        disconnect is held behind a task of the session."""
        lock = self.lock
        chains = self.chains
        fire = self.server._fire_event
        monotonic = time.monotonic
        stalls = self.stalls
        tasks = self.tasks
        watch = not self.inline
        me = _running.get()     # a task draining: never held behind itself
        token = Running()
        with lock:
            chain = chains.get(sid)
            if chain is None:
                return
            if job:
                chain.scheduled = False
            if chain.drainer is not None:
                return          # another thread drains it
            chain.drainer = token
        outer = current_sid.set(sid)
        outer_run = _running.set(token)
        detached = False
        try:
            while True:
                with lock:
                    if chain.drainer is not token:
                        detached = True
                        return
                    events = chain.events
                    if not events:
                        chain.drainer = None
                        if chains.get(sid) is chain:
                            del chains[sid]
                        self.stalls.discard(sid)
                        room = chain.room
                        if room is not None:
                            room.set()
                        done = chain.done
                        if done is not None:
                            done.set()
                        return
                    if hold and sid in tasks and \
                            events[0][0] == 'disconnect' and \
                            self._holding(sid, monotonic(), me):
                        # the last of those tasks to end, or check(),
                        # drains it
                        chain.drainer = None
                        self.held.add(sid)
                        self._watch()
                        return
                    ev = events.popleft()
                    if events and watch and sid not in stalls:
                        # events wait behind this handler (they may have
                        # come before this drainer started, when queue()
                        # saw no running handler): watch it for a stall
                        stalls.add(sid)
                        self._watch()
                    room = chain.room
                    if room is not None and len(events) <= LOW:
                        room.set()
                    chain.started = token.started = monotonic()
                fire(ev)
        finally:
            _running.reset(outer_run)
            current_sid.reset(outer)
            if detached:
                with lock:
                    self.detached -= 1

    def fire_now(self, sid, events):
        """Run these queued events of ``sid`` at once, in this thread: a
        disconnect(sid) called from a handler of ``sid`` itself (that chain
        waits for the handler, so queueing would defer them)."""
        with self.lock:
            chain = self.chains.get(sid)
            if chain is not None:
                for ev in events:
                    try:
                        chain.events.remove(ev)
                    except ValueError:
                        pass
        for ev in events:
            self.server._fire_event(ev)

    # -- the service loop's check --------------------------------------------
    def check(self, now):
        """Detach handlers that stall their chain and add workers for jobs
        that wait (called by the service loop)."""
        resubmit = []
        release = []            # held disconnects to run (inline mode)
        spawn = retire = 0
        with self.lock:
            chains = self.chains
            for sid in list(self.stalls):
                chain = chains.get(sid)
                if chain is None or chain.drainer is None or \
                        not chain.events:
                    self.stalls.discard(sid)
                elif now - chain.started >= STALL and (
                        chain.drainer.parked
                        or chain.events[0][0] != 'disconnect'
                        or now - chain.started >= CLOSE_STALL):
                    # the running handler finishes on its own; its worker
                    # does not count against the pool
                    chain.drainer = None
                    self.detached += 1
                    self.stalls.discard(sid)
                    if not chain.scheduled:
                        chain.scheduled = True
                        resubmit.append(sid)
            for sid in list(self.held):
                if not self._holding(sid, now, None):
                    self.held.discard(sid)
                    chain = chains.get(sid)
                    if chain is None or chain.scheduled:
                        continue
                    if self.inline:
                        release.append(sid)
                    else:
                        chain.scheduled = True
                        resubmit.append(sid)
            queued_at = self.queued_at
            if resubmit:
                self.waiting += len(resubmit)
                queued_at.extend([now] * len(resubmit))
            short = self.waiting - (self.idle - self.retiring)
            if short > 0:
                # a detached handler's worker does not count against the
                # base size; past it, jobs that waited STALL get workers
                live = self.workers - self.retiring
                room = self.base + self.detached - live
                if queued_at and now - queued_at[0] >= STALL:
                    room = MAX_WORKERS - self.workers
                spawn = max(0, min(short, room))
                self.workers += spawn
            elif not self.stalls and now - self.busy_at >= IDLE:
                retire = self._retiring()
        put = self.jobs.put
        for sid in resubmit:
            put(sid)
        for _ in range(retire):
            put(None)
        for _ in range(spawn):
            self._spawn()
        for sid in release:
            self.mode.spawn(self.drain, sid)

    def _retiring(self):
        """Mark the idle workers as retiring; returns how many (each gets
        a None job). Under the lock."""
        retire = self.idle - self.retiring
        if retire > 0:
            self.retiring += retire
            return retire
        return 0

    def retire_idle(self):
        """Stop the idle workers (no job for IDLE seconds, or the service
        loop ended): they come back when work does."""
        with self.lock:
            retire = self._retiring()
        for _ in range(retire):
            self.jobs.put(None)

    # -- back-pressure -------------------------------------------------------
    def wait_for_handlers(self, sids, timeout):
        """Called by the thread of a POST before it answers: wait (at most
        ``timeout`` seconds) until the handlers of these chains have run,
        so that what quick handlers send in answer to the POST's messages
        is queued before the client has the POST's answer (and polls for
        it), as when handlers run in the reading thread, or in the
        JavaScript server. A longer handler is not waited for."""
        if self.inline or current_sid.get() is not None:
            return
        deadline = time.monotonic() + timeout
        for sid in sids:
            with self.lock:
                chain = self.chains.get(sid)
                if chain is None:
                    continue
                done = chain.done
                if done is None:
                    done = chain.done = self.mode.Event()
            left = deadline - time.monotonic()
            if left <= 0 or not done.wait(left):
                return

    def wait_for_room(self, sids, alive):
        """Called by a thread that reads a client (websocket or POST), not
        by handlers: wait while ``HIGH`` events or more wait on one of these
        chains, until they are down to ``LOW`` or ``alive()`` is False."""
        if self.inline or current_sid.get() is not None:
            return
        for sid in sids:
            while True:
                with self.lock:
                    chain = self.chains.get(sid)
                    if chain is None or len(chain.events) < HIGH:
                        break
                    room = chain.room
                    if room is None:
                        room = chain.room = self.mode.Event()
                    room.clear()
                if not alive():
                    return
                room.wait(1.0)
