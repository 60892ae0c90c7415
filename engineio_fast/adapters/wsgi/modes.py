"""The async modes of the synchronous server.

Each mode supplies the few primitives the server needs: starting a
background task, sleeping, events and queues for the application, and a
``wait`` for the service loop (readable wake-up pipe, writable sockets,
timeout). Modes are tried in python-engineio's order when none is given:
eventlet, gevent_uwsgi, gevent, threading; the first whose packages import
is chosen.
"""

import importlib
import os
import select as _select
from typing import Any, Callable, Optional, Tuple

# the C-level os functions: eventlet's monkey patching makes os.read and
# os.write wait cooperatively on a non-blocking fd instead of raising
_raw_os = importlib.import_module(os.name)

ORDER = ['eventlet', 'gevent_uwsgi', 'gevent', 'threading']


class Mode:
    """Primitives of one async mode."""

    name = ''
    green = False

    #: ``sleep(seconds)`` in the way of the mode (set by each mode)
    sleep: Callable[..., Any]

    def spawn(self, target, *args, **kwargs):
        raise NotImplementedError

    def background(self, target, *args, **kwargs):
        """Start an application background task: a thread or greenlet
        object with ``join()``."""
        return self.spawn(target, *args, **kwargs)

    def spawn_named(self, name, target):
        """Start an internal task called ``name`` (threads are named before
        they start)."""
        return self.spawn(target)


class ThreadingMode(Mode):
    name = 'threading'

    def __init__(self):
        import queue
        import threading
        import time
        self._threading = threading
        self.Lock = threading.Lock
        self.Event = threading.Event
        self.Queue = queue.Queue
        self.QueueEmpty = queue.Empty
        self.JobQueue = queue.SimpleQueue   # the handler pool's
        self.JobQueueEmpty = queue.Empty
        self.sleep = time.sleep

    def spawn(self, target, *args, **kwargs):
        t = self._threading.Thread(target=target, args=args, kwargs=kwargs,
                                   daemon=True)
        t.start()
        return t

    def spawn_named(self, name, target):
        t = self._threading.Thread(target=target, name=name, daemon=True)
        t.start()
        return t

    def waiter(self):
        return _PollWaiter()


class EventletMode(Mode):
    name = 'eventlet'
    green = True

    def __init__(self):
        import eventlet
        import eventlet.green.threading
        import eventlet.queue
        import eventlet.semaphore
        from eventlet.green import select
        self._eventlet = eventlet
        self.Lock = eventlet.semaphore.Semaphore
        self.Event = eventlet.green.threading.Event
        self.Queue = eventlet.queue.Queue
        self.QueueEmpty = eventlet.queue.Empty
        self.JobQueue = eventlet.queue.LightQueue
        self.JobQueueEmpty = eventlet.queue.Empty
        self.sleep = eventlet.sleep
        self._select = select.select

    def spawn(self, target, *args, **kwargs):
        return self._eventlet.spawn(target, *args, **kwargs)

    def background(self, target, *args, **kwargs):
        # eventlet's GreenThread waits with wait(), not join()
        return _EventletTask(self.spawn(target, *args, **kwargs))

    def waiter(self):
        return _SelectWaiter(self._select)


class GeventMode(Mode):
    name = 'gevent'
    green = True

    def __init__(self):
        import gevent
        import gevent.event
        import gevent.lock
        import gevent.queue
        import gevent.select
        self._gevent = gevent
        self.Lock = gevent.lock.Semaphore
        self.Event = gevent.event.Event
        self.Queue = gevent.queue.JoinableQueue
        self.QueueEmpty = gevent.queue.Empty
        self.JobQueue = gevent.queue.Queue
        self.JobQueueEmpty = gevent.queue.Empty
        self.sleep = gevent.sleep
        self._select = gevent.select.select

    def spawn(self, target, *args, **kwargs):
        return self._gevent.spawn(target, *args, **kwargs)

    def waiter(self):
        return _SelectWaiter(self._select)


class GeventUwsgiMode(GeventMode):
    name = 'gevent_uwsgi'

    def __init__(self):
        import uwsgi
        if not hasattr(uwsgi, 'websocket_handshake'):
            raise ImportError('uWSGI without websocket support')
        self.uwsgi = uwsgi
        super().__init__()


class _EventletTask:
    """An eventlet GreenThread with the ``join()`` of a thread."""

    def __init__(self, green_thread):
        self.green_thread = green_thread

    def join(self, timeout=None):
        if timeout is None:
            self.green_thread.wait()
            return
        import eventlet
        with eventlet.Timeout(timeout, False):
            self.green_thread.wait()

    def is_alive(self):
        return not self.green_thread.dead

    def kill(self):
        self.green_thread.kill()


_MODES = {'threading': ThreadingMode, 'eventlet': EventletMode,
          'gevent': GeventMode, 'gevent_uwsgi': GeventUwsgiMode}


def load(name):
    """The :class:`Mode` called ``name``; ImportError when its packages are
    missing, ValueError for an unknown name."""
    try:
        cls = _MODES[name]
    except KeyError:
        raise ValueError('Invalid async_mode specified') from None
    return cls()


def select_mode(requested=None):
    """The mode to use: ``requested``, or the first available in
    :data:`ORDER`. Raises ValueError like python-engineio when none
    works."""
    names = ORDER if requested is None else [requested]
    for name in names:
        try:
            return load(name)
        except ImportError:
            continue
    raise ValueError('Invalid async_mode specified')


# ----------------------------------------------------------------------
# the service loop's wait: a wake-up pipe plus sockets waiting to be writable
class _Waiter:
    def __init__(self):
        if os.name == 'nt':
            # Windows selects sockets only, and has no non-blocking pipes
            # before Python 3.12
            import socket
            self._pair: Optional[Tuple[socket.socket, socket.socket]] = \
                socket.socketpair()
            for sock in self._pair:
                sock.setblocking(False)
            self.r, self.w = (sock.fileno() for sock in self._pair)
            self._write: Callable[[bytes], Any] = self._pair[1].send
            self._read: Callable[[int], bytes] = self._pair[0].recv
        else:
            self._pair = None
            self.r, self.w = os.pipe()
            os.set_blocking(self.r, False)
            os.set_blocking(self.w, False)
            self._write = lambda data: _raw_os.write(self.w, data)
            self._read = lambda n: _raw_os.read(self.r, n)

    def wake(self):
        try:
            self._write(b'x')
        except OSError:
            pass   # full (a wake-up is pending anyway) or closed

    def _drain(self):
        try:
            self._read(65536)
        except OSError:
            pass

    def close(self):
        if self._pair is not None:
            for sock in self._pair:
                sock.close()
            return
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass


class _PollWaiter(_Waiter):
    """Threading: :func:`select.poll` (no FD_SETSIZE limit), or select
    where poll does not exist. Only the service thread touches it."""

    def __init__(self):
        super().__init__()
        self._poll = _select.poll() if hasattr(_select, 'poll') else None
        if self._poll is not None:
            self._poll.register(self.r, _select.POLLIN)
        self._fds = set()

    def set_writers(self, fds):
        if self._poll is not None:
            for fd in self._fds - fds:
                try:
                    self._poll.unregister(fd)
                except KeyError:
                    pass
            for fd in fds - self._fds:
                self._poll.register(fd, _select.POLLOUT)
        self._fds = set(fds)

    def wait(self, timeout):
        """Block until woken, a writer is writable, or ``timeout`` (s, or
        None). Returns the writable fds."""
        if self._poll is not None:
            ms = None if timeout is None else max(0, int(timeout * 1000) + 1)
            events = self._poll.poll(ms)
            out = []
            for fd, _ev in events:
                if fd == self.r:
                    self._drain()
                else:
                    out.append(fd)
            return out
        r, w, _ = _select.select([self.r], list(self._fds), [], timeout)
        if r:
            self._drain()
        return w


class _SelectWaiter(_Waiter):
    """Green modes: the library's cooperative select (no fd limit)."""

    def __init__(self, select):
        super().__init__()
        self._select = select
        self._fds = []

    def set_writers(self, fds):
        self._fds = list(fds)

    def wait(self, timeout):
        r, w, _ = self._select([self.r], self._fds, [], timeout)
        if r:
            self._drain()
        return w
