"""The supervisor's accept loop: every new connection goes to its worker
before any worker holds it.

The supervisor never runs application code, so it is the one process of a
cluster that does not die with an application bug or a SIGKILL meant for
a worker. It accepts every connection, reads until the request line has
arrived (usually the first read: the client sends its request at once) and
hands the connection and the bytes read to a worker over that worker's
channel (:mod:`.handoff`): the worker whose slot the request's ``sid``
names, or, for a handshake (no sid), a sid of no worker of this supervisor
or a slot with no worker, the next worker in turn. A worker that dies
therefore loses only the connections it was serving, never one that was
on its way to a sibling; and handshakes are spread evenly.

Bounds: a connection waits here at most :data:`LINE_WAIT` seconds for its
request line, and at most :data:`MAX_WAITING` wait at once (beyond either,
it goes on with what has arrived, to the next worker in turn, which reads
on, routes it to its owner when the line is complete and enforces the HTTP
limits). Out of file descriptors, the waiting connections go on at once
and accepting pauses for :data:`PAUSE` seconds (what is not accepted waits
in the listen backlog). Only I/O lives here: which slot a sid names is
:func:`.handoff.named_slot`.
"""

import errno
import logging
import selectors
import socket
import time
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence

from . import handoff

logger = logging.getLogger('engineio_fast.server')

LINE_WAIT = 1.0        # seconds a connection may take to send its line
MAX_WAITING = 4096     # connections waiting for their request line
ACCEPT_BATCH = 256     # connections accepted per wake-up
READ_SIZE = 65536
RETRY = 0.005          # seconds between tries while a channel is full
MAX_BUSY = 10.0        # seconds a full channel is waited for, then closed
PAUSE = 0.05           # seconds without accepting when out of descriptors


class _Waiting:
    __slots__ = ('sock', 'data', 'since', 'slot')

    def __init__(self, sock: socket.socket, now: float) -> None:
        self.sock = sock
        self.data = b''
        self.since = now
        self.slot: Optional[int] = None     # chosen, its channel was full


class Acceptor:
    """Accepts on ``sock`` and hands every connection to a worker.

    Args:
        sock: the listening socket (non-blocking).
        tag: the supervisor's tag (the first characters of every sid).
        sends: each slot's channel send end, in slot order.
        alive: ``alive(slot)``: whether the slot has a worker (running or
            starting); a connection for a slot without one goes to the next
            live worker in turn.
        line_limit: the request line limit (a longer line is handed on
            unread to the next worker, which rejects it).
    """

    def __init__(self, sock: socket.socket, tag: str,
                 sends: Sequence[socket.socket],
                 alive: Callable[[int], bool],
                 line_limit: int = 8192) -> None:
        self.sock = sock
        self.tag = tag.encode('ascii')
        self.sends = list(sends)
        self.alive = alive
        self.line_limit = line_limit + 16
        self.selector = selectors.DefaultSelector()
        self.selector.register(sock, selectors.EVENT_READ, None)
        # fd -> a connection waiting for its line (oldest first)
        self.waiting: 'OrderedDict[int, _Waiting]' = OrderedDict()
        self.busy: Dict[int, _Waiting] = {}   # channel full: tried again
        self.turn = 0
        self.handed = [0] * len(self.sends)
        self.warned = 0.0       # when accept() last logged an error
        self.paused_until = 0.0     # accepting again then (out of fds)

    # -- the loop ------------------------------------------------------------
    def poll(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for connections and data, and
        hand on every connection that is ready."""
        if self.busy:
            timeout = min(timeout, RETRY)
        if self.paused_until:
            timeout = min(timeout, PAUSE)
        try:
            events = self.selector.select(timeout)
        except InterruptedError:
            events = []
        for key, _ in events:
            if key.data is None:
                self._accept()
            else:
                self._read(key.data)
        now = time.monotonic()
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
            self.selector.register(self.sock, selectors.EVENT_READ, None)
        if self.busy:
            for w in list(self.busy.values()):
                self._send(w, now)
        while self.waiting:
            w = next(iter(self.waiting.values()))
            if now - w.since < LINE_WAIT and \
                    len(self.waiting) <= MAX_WAITING:
                break
            self._hand(w, None, now)

    def close(self) -> None:
        """Stop accepting; close what has not been handed on."""
        if self.selector.get_map() is None:
            return      # closed already
        logger.info('supervisor: %d connections handed on (%s to workers '
                    '0..%d)', sum(self.handed),
                    '/'.join(map(str, self.handed)), len(self.handed) - 1)
        for w in list(self.waiting.values()) + list(self.busy.values()):
            self._drop(w)
        try:
            self.selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.selector.close()
        self.sock.close()

    # -- steps -------------------------------------------------------------
    def _accept(self) -> None:
        now = time.monotonic()
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:     # EMFILE, ECONNABORTED...
                if exc.errno in (errno.EMFILE, errno.ENFILE) and \
                        self.waiting:
                    # out of descriptors: the waiting ones go on unread to
                    # their workers (which read on), freeing ours
                    for w in list(self.waiting.values()):
                        self._hand(w, None, now)
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    # still none: stop accepting for a moment (the
                    # connection waits in the backlog), not spin on it
                    self.selector.unregister(self.sock)
                    self.paused_until = now + PAUSE
                if now - self.warned > 1.0:
                    self.warned = now
                    logger.warning('accept: %s', exc)
                return
            conn.setblocking(False)
            w = _Waiting(conn, now)
            # the request has usually arrived with the connection
            if not self._read(w, fresh=True):
                self.waiting[conn.fileno()] = w
                self.selector.register(conn, selectors.EVENT_READ, w)

    def _read(self, w: _Waiting, fresh: bool = False) -> bool:
        """Read what has arrived; hand the connection on when its request
        line is complete. Returns whether it is done with (handed on or
        closed)."""
        try:
            chunk = w.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b''
        now = time.monotonic()
        if not chunk:           # gone before it asked anything
            self._drop(w)
            return True
        w.data += chunk
        end = w.data.find(b'\r\n', 0, self.line_limit)
        if end < 0 and len(w.data) < self.line_limit:
            return False
        slot = handoff.named_slot(self.tag, w.data, end, len(self.sends)) \
            if end >= 0 else None
        self._hand(w, slot, now)
        return True

    def _hand(self, w: _Waiting, slot: Optional[int], now: float) -> None:
        self._forget(w)
        if slot is None or not self.alive(slot):
            slot = self._next_slot()
        w.slot = slot
        self._send(w, now)

    def _next_slot(self) -> int:
        n = len(self.sends)
        for _ in range(n):
            slot = self.turn
            self.turn = (slot + 1) % n
            if self.alive(slot):
                return slot
        return self.turn     # none alive: its channel keeps it

    def _send(self, w: _Waiting, now: float) -> None:
        slot = w.slot
        assert slot is not None
        result = handoff.send_connection(
            self.sends[slot], w.sock.fileno(), w.data)
        if result == handoff.BUSY:
            if now - w.since > LINE_WAIT + MAX_BUSY:
                logger.warning('worker %d took no connection for %.0f s: '
                               'one closed', slot, MAX_BUSY)
                self.busy.pop(w.sock.fileno(), None)
                self._drop(w)
            else:
                self.busy[w.sock.fileno()] = w
            return
        self.busy.pop(w.sock.fileno(), None)
        if result == handoff.SENT:
            self.handed[slot] += 1
        # ours closed without a shutdown: the worker has the connection
        w.sock.close()

    def _forget(self, w: _Waiting) -> None:
        fd = w.sock.fileno()
        if self.waiting.pop(fd, None) is not None:
            self.selector.unregister(w.sock)

    def _drop(self, w: _Waiting) -> None:
        self._forget(w)
        self.busy.pop(w.sock.fileno(), None)
        w.sock.close()

    def close_in_child(self) -> None:
        """In a process forked from the supervisor: close this process's
        copies of the acceptor's descriptors (a copy of a connection's
        would keep it open after its worker closed it)."""
        for w in list(self.waiting.values()) + list(self.busy.values()):
            w.sock.close()
        self.waiting.clear()
        self.busy.clear()
        self.selector.close()
        self.sock.close()

