"""Handing a client connection to the worker that owns its session.

Every sid starts with the id of the worker that minted it (:mod:`.node`):
the supervisor's random 5-character tag and the worker's slot character.
The supervisor's acceptor (:mod:`.acceptor`) hands every new connection to
a worker this way; and when a worker reads, on a connection it holds, a
request whose ``sid`` names a sibling's slot (a keep-alive connection that
carries requests of several sessions), it passes the connection's file
descriptor (``SCM_RIGHTS``) to that sibling with the bytes it read and did
not parse, and forgets the connection; the owner adopts it as if it had
accepted it and read those bytes itself.

The channel of slot ``k`` is a datagram socket pair made by the supervisor
before it forks: the supervisor and every worker send on one end, worker
``k`` reads the other. The supervisor keeps both ends open, so what is sent
to a worker that is being restarted waits for its successor (which answers
'Session ID unknown' for its predecessor's sessions). One datagram per
hand-off: the descriptor and the carried bytes (at most
:data:`MAX_CARRY`). Only I/O lives here; what a request means is the
protocol's business.
"""

import array
import logging
import os
import socket
from typing import Any, Callable, List, Optional, Sequence, Tuple

from . import node

logger = logging.getLogger('engineio_fast.server')

MAX_WORKERS = len(node.ALPHABET)
TAG_LEN = node.NODE_LEN - 1
# the bytes a worker may have read ahead of the parser when it hands a
# connection on: one read of the event loop (256 KiB) and a held request
# line; datagrams this size need a larger socket buffer than the default
MAX_CARRY = 512 * 1024
SOCKET_BUFFER = 2 * MAX_CARRY
ADOPT_BATCH = 64       # connections adopted per wake-up of the channel

SENT, BUSY, FAILED = 0, 1, 2
INCOMPLETE = -1        # the request line has not all arrived yet

_FD_SPACE = socket.CMSG_SPACE(array.array('i').itemsize * 4)


def make_channels(count: int) -> List[Tuple[socket.socket, socket.socket]]:
    """``count`` ``(send end, receive end)`` datagram socket pairs, one per
    worker slot, non-blocking and with buffers for :data:`MAX_CARRY`."""
    out = []
    for _ in range(count):
        tx, rx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for sock, opt in ((tx, socket.SO_SNDBUF), (rx, socket.SO_RCVBUF)):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
            except OSError:     # the kernel's maximum applies
                pass
            sock.setblocking(False)
        out.append((tx, rx))
    return out


_SLOT_OF = {ord(c): k for k, c in enumerate(node.ALPHABET)}


def named_slot(tag: bytes, data: bytes, end: int,
               count: int) -> Optional[int]:
    """The slot (below ``count``) whose worker minted the ``sid`` query
    parameter of the request line ``data[:end]``; None when there is no
    sid or it is no worker's of the supervisor tagged ``tag``."""
    i = data.find(b'sid=', 0, end)
    while i > 0 and data[i - 1] not in b'?&':
        i = data.find(b'sid=', i + 4, end)
    if i <= 0:
        return None
    i += 4
    if data[i:i + TAG_LEN] != tag or i + TAG_LEN >= end:
        return None
    slot = _SLOT_OF.get(data[i + TAG_LEN])
    return slot if slot is not None and slot < count else None


def send_connection(channel: socket.socket, fd: int, data: bytes) -> int:
    """Pass the connection ``fd`` and the bytes read from it on
    ``channel`` (a slot's send end).

    Returns:
        :data:`SENT`; :data:`BUSY` when the channel is full (try again
        soon); :data:`FAILED` (logged) when it cannot be sent.
    """
    if len(data) > MAX_CARRY:
        logger.warning('a request came with %d bytes read ahead (limit %d): '
                       'not handed on', len(data), MAX_CARRY)
        return FAILED
    try:
        channel.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                  array.array('i', [fd]))])
    except (BlockingIOError, InterruptedError):
        return BUSY
    except OSError as exc:
        logger.warning('cannot hand a connection on: %s', exc)
        return FAILED
    return SENT


class Router:
    """One worker's view of its siblings: which slot a request belongs to,
    sending connections to it, and adopting the ones sent here.

    Args:
        tag: the supervisor's :data:`TAG_LEN`-character tag.
        slot: this worker's slot (0-based).
        channels: every slot's ``(send end, receive end)`` pair (from
            :func:`make_channels`), in slot order.
        line_limit: the longest request line to wait for before giving up
            on routing (the HTTP server then rejects it).
        family: the address family of the connections (the listening
            socket's).

    Raises:
        ValueError: a malformed tag, a slot out of range, too many slots.
    """

    def __init__(self, tag: str, slot: int,
                 channels: Sequence[Tuple[socket.socket, socket.socket]],
                 line_limit: int = 8192,
                 family: int = socket.AF_INET) -> None:
        if len(tag) != TAG_LEN or not node.valid(tag + node.ALPHABET[0]):
            raise ValueError('a worker tag is %d sid characters, not %r'
                             % (TAG_LEN, tag))
        if not 0 < len(channels) <= MAX_WORKERS or \
                not 0 <= slot < len(channels):
            raise ValueError('slot %d of %d workers (at most %d)'
                             % (slot, len(channels), MAX_WORKERS))
        self.tag = tag.encode('ascii')
        self.slot = slot
        self.node_id = tag + node.ALPHABET[slot]
        self.sends = [tx for tx, _ in channels]
        self.inbox = channels[slot][1]
        self.count = len(channels)
        self.line_limit = line_limit + 16
        self.family = family
        self._buf = bytearray(MAX_CARRY)
        self._adopt: Optional[Callable[[socket.socket, bytes], Any]] = None
        self._loop: Any = None
        self.handed = 0       # connections sent to a sibling
        self.adopted = 0      # connections received from one

    # -- routing -----------------------------------------------------------
    def slot_for(self, data: bytes) -> Optional[int]:
        """The sibling slot that owns the session named by the ``sid``
        query parameter of the request line ``data`` starts with;
        :data:`INCOMPLETE` when the line has not all arrived (and may
        still fit); None when the request is served here (no sid, a sid of
        this worker, of no worker of this supervisor, or a line too long).
        """
        end = data.find(b'\r\n', 0, self.line_limit)
        if end < 0:
            return INCOMPLETE if len(data) < self.line_limit else None
        return self._slot_in(data, end)

    def slot_for_query(self, query: bytes) -> Optional[int]:
        """The sibling slot that owns the session named by the ``sid``
        parameter of a parsed request's query string, or None."""
        return self._slot_in(b'&' + query, len(query) + 1)

    def _slot_in(self, data: bytes, end: int) -> Optional[int]:
        slot = named_slot(self.tag, data, end, self.count)
        return None if slot == self.slot else slot

    def send(self, slot: int, fd: int, data: bytes) -> int:
        """Pass the connection ``fd`` and the bytes read from it to
        ``slot``'s worker (see :func:`send_connection`)."""
        result = send_connection(self.sends[slot], fd, data)
        if result == SENT:
            self.handed += 1
        return result

    # -- adopting ------------------------------------------------------------
    def start(self, loop: Any,
              adopt: Callable[[socket.socket, bytes], Any]) -> None:
        """Adopt the connections sent to this worker on ``loop``:
        ``adopt(sock, carried_bytes)`` is called for each."""
        self._loop = loop
        self._adopt = adopt
        loop.add_reader(self.inbox.fileno(), self._ready)

    def stop(self) -> None:
        """Stop adopting (the connections still queued stay queued)."""
        if self._loop is not None:
            self._loop.remove_reader(self.inbox.fileno())
            self._loop = None
            logger.info('worker %d (%s, pid %d): %d connections handed to '
                        'siblings, %d adopted', self.slot, self.node_id,
                        os.getpid(), self.handed, self.adopted)

    def _ready(self) -> None:
        for _ in range(ADOPT_BATCH):
            try:
                n, ancdata, flags, _ = self.inbox.recvmsg_into(
                    [self._buf], _FD_SPACE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning('worker channel: %s', exc)
                return
            fds = array.array('i')
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(cdata[:len(cdata) - len(cdata)
                                        % fds.itemsize])
            if len(fds) != 1 or not n or \
                    flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                logger.warning('worker channel: dropped a malformed '
                               'hand-off (%d bytes, %d descriptors)',
                               n, len(fds))
                for fd in fds:
                    _close_fd(fd)
                continue
            try:
                # family and type given: no system calls to find them out
                sock = socket.socket(self.family, socket.SOCK_STREAM, 0,
                                     fileno=fds[0])
            except OSError as exc:
                logger.warning('worker channel: %s', exc)
                _close_fd(fds[0])
                continue
            adopt = self._adopt
            self.adopted += 1
            if adopt is not None:
                adopt(sock, bytes(self._buf[:n]))
            else:
                sock.close()


def _close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
