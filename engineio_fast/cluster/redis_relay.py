"""The Redis managers' decisions, without I/O: what goes into a stream
entry and what is accepted out of one, what waits while Redis is away,
which processes are alive, when to retry. The asyncio and sync managers
(``redis_manager.py``, ``redis_sync.py``) only move bytes between this
object and Redis; time comes in as ``now`` (monotonic seconds).

Keys, for a ``channel`` (default ``'engineio'``):

- ``<channel>:inbox:<node>``: a stream per process: what other processes
  send to (or to close) the sessions it owns; trimmed to about
  ``stream_maxlen`` entries; it expires a few liveness bounds after its
  owner stops.
- ``<channel>:bcast``: the broadcast stream, read by every process.
- ``<channel>:nodes``: a sorted set, node id -> the Redis time (ms) its
  presence expires at; every process refreshes its own each heartbeat.
- ``<channel>:sids:<node>``: the set of a process's sids, expiring with
  its presence.

The delivery guarantee
----------------------
Every entry carries its sender's id, a random incarnation tag (one per
process start) and a sequence number per (sender, stream). A sender hands
its entries to Redis in order, from one writer, retrying what failed in
the same order; a reader reads each stream from the last entry id it saw,
so it resumes where it left off after any loss of Redis. The reader drops
an entry whose number it already had (a retried XADD whose reply was lost)
and logs a gap in the numbers (entries it can never get).

Hence, for one sender and one receiving process, the messages on one
stream (sends to that process's sessions; broadcasts) are delivered once
each and in the order they were sent, through a Redis restart or a network
cut of either side, within these limits:

- the sender buffers at most ``max_pending`` entries (and
  ``max_pending_bytes``) while it cannot write to Redis; what does not fit
  is dropped and logged by the sender;
- a reader that falls behind by more than ``stream_maxlen`` entries of a
  stream (trimming) loses the oldest ones: the gap is logged;
- what Redis itself loses is lost: a Redis that restarts without
  persistence (AOF ``appendfsync always``, or a replica that takes over
  with everything) forgets the entries that were written and not yet
  read; a restart that keeps its data loses nothing; the readers log the
  gap either way;
- a send and a broadcast from one sender travel on two streams: their
  relative order is not kept;
- a process receives the broadcasts added after it started (by its own
  clock against the entry ids Redis makes from its clock);
- a message to a session that closes before it arrives is dropped with
  the warning a send to a closed sid logs;
- a process registers its presence before it mints its first sid (one
  bounded round trip); after Redis comes back from a loss, a sender holds
  an inbox entry refused because its owner is not registered (it may not
  have beaten again yet) for up to two liveness bounds before it gives up
  with the closed-sid warning; what follows it in the outbox waits
  meanwhile (a send to a dead process's sid right after a recovery delays
  that process's other cross-process traffic by up to ``2 *
  presence_ttl``). That wait covers every process's return: reconnection
  attempts are at most ``presence_ttl / 2`` apart (:meth:`Relay.backoff`),
  and a writer beats when its heartbeat is due even while entries keep
  coming (:meth:`Relay.beat_due`), so a live process is never absent for
  longer than that.

Forwarded polling requests (``redis_forward.py``) are not retried: one
whose owner is gone is answered as an unknown sid, one not answered in
time with a 504.
"""

import collections
import logging
import secrets
from typing import (
    Any,
    Deque,
    Dict,
    Iterable,
    List,
    Optional,
    Set,
    Tuple,
    Union,
)

from . import node as _node

#: the entry format's version (field ``v``); other values are foreign
VERSION = b'1'
#: kinds of entry (field ``k``): a message to a sid, a close of a sid,
#: a broadcast
MESSAGE = b'm'
CLOSE = b'c'
BROADCAST = b'b'
#: a polling request forwarded to the owner of its session, and its answer
REQUEST = b'q'
RESPONSE = b'p'
_KINDS = (MESSAGE, CLOSE, BROADCAST, REQUEST, RESPONSE)
_METHODS = (b'GET', b'POST', b'OPTIONS')
#: the longest query string and header list (JSON) of a forwarded request
MAX_QUERY = 8192
MAX_HEADERS = 16384
#: the longest sid an entry may name
MAX_SID = 64
#: the most sids a broadcast may skip
MAX_SKIP = 256
#: the most (sender, stream) sequence numbers a reader remembers
MAX_SENDERS = 4096

# an entry's content: the Engine.IO item (str: a text packet, bytes: a
# binary message)
Item = Union[str, bytes]
# what a reader hands the server: (kind, sid, item, skip, extra): extra
# holds a forwarded request's or response's own fields (else None)
Delivery = Tuple[bytes, str, Optional[Item], Tuple[str, ...],
                 Optional[Dict[bytes, bytes]]]

HEARTBEAT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local new = redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl * 4)
return new
"""

# an entry for a process's inbox, added only while that process is alive
# (returns 0 when it is not, 1 when added)
SEND_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not until_ or tonumber(until_) < now then
  return 0
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

PARTICIPANTS_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
local out = {}
for _, node in ipairs(live) do
  if node ~= ARGV[2] then
    for _, sid in ipairs(redis.call('SMEMBERS', ARGV[1] .. node)) do
      out[#out + 1] = sid
    end
  end
end
return out
"""


def redis_url(url: str) -> str:
    """``url`` as redis-py takes it: ``valkey://`` is ``redis://`` and
    ``valkeys://`` is ``rediss://``.

    Raises:
        ValueError: not a ``redis://``, ``rediss://``, ``valkey://``,
            ``valkeys://`` or ``unix://`` URL.
    """
    scheme, sep, rest = url.partition('://')
    scheme = scheme.lower()
    if not sep or scheme not in ('redis', 'rediss', 'valkey', 'valkeys',
                                 'unix'):
        raise ValueError('not a Redis URL (redis://, rediss://, valkey://, '
                         'valkeys:// or unix://): %r' % url)
    scheme = {'valkey': 'redis', 'valkeys': 'rediss'}.get(scheme, scheme)
    return scheme + '://' + rest


class Backoff:
    """Delays between reconnection attempts: doubling from ``first`` to
    ``most`` seconds, with up to 25 % random jitter."""

    def __init__(self, first: float = 0.1, most: float = 5.0) -> None:
        self.first = first
        self.most = most
        self._next = first

    def delay(self) -> float:
        """The delay before the next attempt (and double the one after)."""
        d = self._next
        self._next = min(self.most, d * 2)
        return d * (1 + secrets.randbelow(250) / 1000.0)

    def reset(self) -> None:
        """Redis answered: the next loss starts again at ``first``."""
        self._next = self.first


class _Pending:
    __slots__ = ('stream', 'fields', 'size', 'owner')

    def __init__(self, stream: bytes, fields: Dict[bytes, bytes],
                 size: int, owner: str) -> None:
        self.stream = stream
        self.fields = fields
        self.size = size
        # the process an inbox entry is for ('' for a broadcast)
        self.owner = owner

    def args(self, maxlen: int, ttl_ms: int) -> List[Any]:
        """SEND_LUA's ARGV for an inbox entry."""
        out: List[Any] = [self.owner, maxlen, ttl_ms]
        for k, v in self.fields.items():
            out.append(k)
            out.append(v)
        return out


class Relay:
    """One process's side of the Redis exchange.

    Args:
        channel: the key prefix shared by the processes of one service.
        logger: where losses, recoveries and dropped entries are logged.
        max_entry_bytes: the largest item an entry may carry (sent or
            received).
        max_pending: the most entries waiting for Redis.
        max_pending_bytes: the most bytes of items waiting for Redis.
        stream_maxlen: about how many entries a stream keeps.
        presence_ttl: seconds a process stays alive in the others' view
            after its last heartbeat.
    """

    def __init__(self, channel: str, logger: logging.Logger,
                 max_entry_bytes: int = 1000000, max_pending: int = 10000,
                 max_pending_bytes: int = 16 * 1024 * 1024,
                 stream_maxlen: int = 10000,
                 presence_ttl: float = 5.0) -> None:
        self.channel = channel
        self.logger = logger
        self.max_entry_bytes = max_entry_bytes
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.stream_maxlen = stream_maxlen
        self.presence_ttl = presence_ttl
        self.incarnation = _node.random_tag(8).encode()
        prefix = channel + ':'
        self.nodes_key = (prefix + 'nodes').encode()
        self.bcast_key = (prefix + 'bcast').encode()
        self.sids_prefix = prefix + 'sids:'
        self.node = ''
        self.node_b = b''
        self.inbox_key = b''
        self.sids_key = b''
        self.rebind()
        self.outbox: Deque[_Pending] = collections.deque()
        self.pending_bytes = 0
        self.dropped = 0
        self._seq: Dict[bytes, int] = {}
        # where each stream is read from: entries added after start
        self.last_ids: Dict[bytes, bytes] = {}
        # (stream, sender, incarnation) -> the last sequence number read
        self._seen: 'collections.OrderedDict[Tuple[bytes, bytes, bytes], int]'
        self._seen = collections.OrderedDict()
        # the sids the others see for this process
        self.published: Set[str] = set()
        self.resync = True
        self.up: Optional[bool] = None
        self.down_since = 0.0
        # when Redis was last reached again after a loss: for two liveness
        # bounds, an inbox whose owner is not registered may be of a
        # process that has not beaten again yet (a process registers
        # before it mints a sid, so a first contact needs no such wait)
        self.reached_at = float('-inf')
        self._bad = 0

    def rebind(self) -> None:
        """Take this process's node id (again: a forked child has its
        own)."""
        self.node = _node.node_id()
        self.node_b = self.node.encode()
        self.inbox_key = self.inbox_of(self.node)
        self.sids_key = (self.sids_prefix + self.node).encode()
        self.published = set()
        self.resync = True

    def backoff(self) -> Backoff:
        """The delays between reconnection attempts of one task: from
        0.1 s, doubling, at most half the liveness bound (5 s at most): a
        process is back in Redis soon enough after Redis is that the
        others' wait for its registration (:meth:`refused_wait`) covers
        it."""
        return Backoff(0.1, max(0.1, min(5.0, self.presence_ttl / 2)))

    @staticmethod
    def beat_due(now: float, next_beat: float) -> bool:
        """Whether a writer must beat before it writes more entries (it
        beats on time even while entries keep coming, else its presence
        would expire under sustained traffic)."""
        return now >= next_beat

    def inbox_of(self, node: str) -> bytes:
        """The inbox stream key of ``node``."""
        return ('%s:inbox:%s' % (self.channel, node)).encode()

    def start_reading(self, wall_ms: int) -> None:
        """Read both streams from the entries added after ``wall_ms``
        (the process's start, in ms of the wall clock)."""
        start = b'%d-0' % max(0, wall_ms)
        self.last_ids = {self.inbox_key: start, self.bcast_key: start}

    # ------------------------------------------------------------------
    # the link's state: one log line per loss and per recovery
    def lost(self, error: BaseException, now: float) -> None:
        """A Redis call failed for want of Redis."""
        if self.up is not False:
            self.up = False
            self.down_since = now
            self.logger.warning(
                'engineio_fast: lost Redis (%s: %s); retrying with backoff,'
                ' %d entries waiting; sessions of this process are still'
                ' served', type(error).__name__, error, len(self.outbox))

    def reached(self, now: float) -> None:
        """A Redis call succeeded."""
        if self.up is False:
            self.reached_at = now
        if self.up is False:
            self.logger.warning(
                'engineio_fast: Redis is back after %.1f s; %d entries '
                'waiting are being sent', now - self.down_since,
                len(self.outbox))
        elif self.up is None:
            self.logger.info('engineio_fast: connected to Redis as node %s',
                             self.node)
        self.up = True

    # ------------------------------------------------------------------
    # sending
    def push(self, kind: bytes, stream: bytes, sid: str,
             item: Optional[Item], skip: Iterable[str] = (),
             owner: str = '',
             extra: Optional[Dict[bytes, bytes]] = None) -> bool:
        """Queue an entry for ``stream`` (the inbox of ``owner``, or the
        broadcast stream); False (logged) if it is too large or the outbox
        is full."""
        fields: Dict[bytes, bytes] = {
            b'v': VERSION, b'o': self.node_b, b'i': self.incarnation,
            b'k': kind}
        size = 0
        if extra:
            fields.update(extra)
            size += sum(len(v) for v in extra.values())
        if sid:
            fields[b's'] = sid.encode()
        if item is not None:
            if isinstance(item, str):
                data = item.encode()
                fields[b't'] = b't'
            else:
                data = bytes(item)
                fields[b't'] = b'b'
            size += len(data)
            if len(data) > self.max_entry_bytes:
                self.logger.error(
                    'engineio_fast: a %d-byte message is larger than the '
                    "Redis manager's max_entry_bytes (%d): not sent",
                    len(data), self.max_entry_bytes)
                return False
            fields[b'd'] = data
        skip = tuple(skip)
        if skip:
            fields[b'x'] = ','.join(skip[:MAX_SKIP]).encode()
        if (len(self.outbox) >= self.max_pending or
                self.pending_bytes + size > self.max_pending_bytes):
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                self.logger.error(
                    'engineio_fast: Redis outbox full (%d entries, %d '
                    'bytes): message dropped (%d so far)', len(self.outbox),
                    self.pending_bytes, self.dropped)
            return False
        n = self._seq.get(stream, 0) + 1
        self._seq[stream] = n
        fields[b'n'] = b'%d' % n
        self.outbox.append(_Pending(stream, fields, size, owner))
        self.pending_bytes += size
        return True

    def batch(self, most: int = 256) -> List[_Pending]:
        """The oldest waiting entries (up to ``most``), left in the
        outbox until :meth:`sent`."""
        out = []
        for p in self.outbox:
            out.append(p)
            if len(out) >= most:
                break
        return out

    def sent(self, count: int) -> None:
        """The oldest ``count`` entries reached Redis (or were refused by
        it and logged): forget them."""
        for _ in range(min(count, len(self.outbox))):
            p = self.outbox.popleft()
            self.pending_bytes -= p.size
        if not self.outbox and self.dropped:
            self.logger.warning(
                'engineio_fast: Redis outbox drained; %d messages were '
                'dropped while it was full', self.dropped)
            self.dropped = 0

    # ------------------------------------------------------------------
    # presence
    def beat_done(self, reply: Any) -> bool:
        """Take a heartbeat's reply (1: this process was not registered:
        first beat, or Redis lost its data). Returns whether a full
        presence sync is due."""
        try:
            if int(reply) == 1:
                self.resync = True
        except (TypeError, ValueError):
            self.resync = True
        return self.resync

    def refused_wait(self, now: float) -> bool:
        """An inbox entry was refused (its owner is not registered):
        whether to hold it and retry (Redis was reached again less than a
        liveness bound ago: its owner may not have beaten yet) rather than
        drop it."""
        return now - self.reached_at < self.presence_ttl * 2

    def presence_changes(self, sids: Iterable[str]) -> Tuple[List[str],
                                                             List[str]]:
        """What to add to and remove from this process's published sids
        (all of them after a re-registration); call
        :meth:`presence_done` once written."""
        current = set(sids)
        if self.resync:
            return list(current), []
        return (list(current - self.published),
                list(self.published - current))

    def presence_done(self, add: List[str], remove: List[str]) -> None:
        """The changes of :meth:`presence_changes` are in Redis."""
        if self.resync:
            self.published = set(add)
            self.resync = False
        else:
            self.published.update(add)
            self.published.difference_update(remove)

    # ------------------------------------------------------------------
    # receiving
    def _drop(self, stream: bytes, entry_id: bytes, why: str) -> None:
        self._bad += 1
        if self._bad <= 20 or self._bad % 1000 == 0:
            self.logger.warning(
                'engineio_fast: dropped entry %s of %s: %s (%d dropped)',
                entry_id, stream, why, self._bad)

    def accept(self, stream: Any, entry_id: Any,
               fields: Any) -> Optional[Delivery]:
        """Read one stream entry: what to deliver, or None (a duplicate,
        this process's own broadcast, or a malformed, foreign or oversized
        entry: logged)."""
        if isinstance(stream, str):
            stream = stream.encode()
        if isinstance(entry_id, str):
            entry_id = entry_id.encode()
        if stream not in self.last_ids or not isinstance(entry_id, bytes):
            return None
        self.last_ids[stream] = entry_id
        try:
            return self._read(stream, entry_id, fields)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError,
                AttributeError) as exc:
            self._drop(stream, entry_id, 'malformed (%s)' % exc)
            return None

    def _read(self, stream: bytes, entry_id: bytes,
              fields: Any) -> Optional[Delivery]:
        if not isinstance(fields, dict) or len(fields) > 14:
            self._drop(stream, entry_id, 'not an engineio_fast entry')
            return None
        if fields.get(b'v') != VERSION:
            self._drop(stream, entry_id, 'foreign (version %r)'
                       % (fields.get(b'v'),))
            return None
        origin = fields[b'o']
        inc = fields[b'i']
        kind = fields[b'k']
        seq_b = fields[b'n']
        if (not isinstance(origin, bytes) or
                not _node.valid(origin.decode('ascii')) or
                not isinstance(inc, bytes) or not 0 < len(inc) <= 16 or
                kind not in _KINDS or not isinstance(seq_b, bytes) or
                not seq_b.isdigit() or len(seq_b) > 19):
            self._drop(stream, entry_id, 'bad header')
            return None
        if stream == self.bcast_key and origin == self.node_b:
            return None     # delivered here when it was sent
        data = fields.get(b'd')
        if data is not None and len(data) > self.max_entry_bytes:
            self._drop(stream, entry_id, 'oversized (%d bytes)' % len(data))
            return None
        sid_b = fields.get(b's', b'')
        if len(sid_b) > MAX_SID or (kind not in (BROADCAST, RESPONSE) and
                                    not sid_b):
            self._drop(stream, entry_id, 'bad sid')
            return None
        item: Optional[Item] = None
        if kind != CLOSE:
            t = fields.get(b't')
            if data is None or t not in (b't', b'b'):
                self._drop(stream, entry_id, 'no message')
                return None
            if t == b't':
                text = data.decode()
                if not text or text[0] not in '0123456':
                    self._drop(stream, entry_id, 'not an Engine.IO packet')
                    return None
                item = text
            else:
                item = bytes(data)
        skip: Tuple[str, ...] = ()
        x = fields.get(b'x')
        if x:
            skip = tuple(x.decode('ascii').split(',')[:MAX_SKIP])
        extra = None
        if kind in (REQUEST, RESPONSE):
            extra = self._exchange_fields(kind, fields)
            if extra is None:
                self._drop(stream, entry_id, 'bad forwarded request')
                return None
        if self._duplicate(stream, origin, inc, int(seq_b)):
            return None
        return kind, sid_b.decode('ascii'), item, skip, extra

    @staticmethod
    def _exchange_fields(kind: bytes,
                         fields: Dict[bytes, bytes]) -> Optional[Dict[bytes,
                                                                      bytes]]:
        """The own fields of a forwarded request (``r`` its id, ``y`` the
        node to answer, ``m`` the method, ``u`` the query string, ``h`` the
        headers as JSON) or response (``r``, ``m`` the status, ``h``), or
        None if one is missing or malformed."""
        rid = fields.get(b'r')
        m = fields.get(b'm')
        h = fields.get(b'h')
        if (not isinstance(rid, bytes) or not 0 < len(rid) <= 32 or
                not isinstance(m, bytes) or not isinstance(h, bytes) or
                len(h) > MAX_HEADERS):
            return None
        out = {b'r': rid, b'm': m, b'h': h}
        if kind == RESPONSE:
            if not (m.isdigit() and len(m) == 3):
                return None
            return out
        y = fields.get(b'y')
        u = fields.get(b'u', b'')
        if (m not in _METHODS or not isinstance(y, bytes) or
                not _node.valid(y.decode('ascii', 'replace')) or
                not isinstance(u, bytes) or len(u) > MAX_QUERY):
            return None
        out[b'y'] = y
        out[b'u'] = u
        return out

    def _duplicate(self, stream: bytes, origin: bytes, inc: bytes,
                   seq: int) -> bool:
        key = (stream, origin, inc)
        seen = self._seen
        last = seen.get(key)
        if last is not None:
            if seq <= last:
                return True
            if seq > last + 1:
                self.logger.warning(
                    'engineio_fast: %d entries from node %s on %s never '
                    'arrived (trimmed, or lost by Redis)', seq - last - 1,
                    origin.decode('ascii'), stream.decode('ascii'))
            seen.move_to_end(key)
        seen[key] = seq
        if len(seen) > MAX_SENDERS:
            seen.popitem(last=False)
        return False
