"""``AsyncRedisManager``: the client manager of an :class:`AsyncServer`
whose processes (workers, hosts) share a Redis server.

It runs two tasks on the server's loop, on redis-py's asyncio client
(hiredis parses the replies when it is installed): a writer, that hands
the entries of the outbox to Redis in order and beats the heartbeat, and a
reader, that blocks on XREAD over this process's inbox and the broadcast
stream. Every decision is :class:`~engineio_fast.cluster.redis_relay.Relay`'s;
its docstring states the delivery guarantee and its limits.
"""

import asyncio
import logging
import os
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .. import exceptions
from . import node as _node
from .manager import BaseManager, _check_namespace
from .redis_forward import AsyncForwarder
from .redis_relay import (
    BROADCAST,
    CLOSE,
    HEARTBEAT_LUA,
    MESSAGE,
    PARTICIPANTS_LUA,
    REQUEST,
    RESPONSE,
    SEND_LUA,
    Delivery,
    Item,
    Relay,
    redis_url,
)

default_logger = logging.getLogger('engineio.server')

# how many entries one XREAD takes per stream, one pipeline writes
READ_COUNT = 64
WRITE_BATCH = 256
# how long close() waits for the outbox to drain
CLOSE_FLUSH = 2.0
# the bound of the first registration (register_now)
REGISTER_TIMEOUT = 0.5


def redis_errors() -> Any:
    """The exceptions that mean Redis is unreachable."""
    import redis.exceptions as rx
    return (rx.ConnectionError, rx.TimeoutError, OSError,
            asyncio.TimeoutError)


def client_options(options: Optional[Dict[str, Any]], heartbeat: float,
                   use_asyncio: bool) -> Dict[str, Any]:
    """redis-py options: no retries of its own (the managers reconnect
    with their backoff), timeouts longer than a blocking read."""
    from redis.backoff import NoBackoff
    retry: Any
    if use_asyncio:
        from redis.asyncio.retry import Retry as AsyncRetry
        retry = AsyncRetry(NoBackoff(), 0)
    else:
        from redis.retry import Retry
        retry = Retry(NoBackoff(), 0)
    opts: Dict[str, Any] = {
        'socket_connect_timeout': 5.0,
        'socket_timeout': 5.0 + heartbeat,
        'retry': retry,
    }
    opts.update(options or {})
    return opts


def register_now(relay: Relay, url: str,
                 options: Optional[Dict[str, Any]]) -> None:
    """Register this process's presence at once, before it mints its
    first sid (one blocking round trip, at most :data:`REGISTER_TIMEOUT`
    seconds, once per process): a sid handed to a client is then always
    of a process the others see alive. If Redis cannot be reached, the
    writer registers at its first heartbeat."""
    import redis
    opts = dict(options or {})
    opts.update(socket_timeout=REGISTER_TIMEOUT,
                socket_connect_timeout=REGISTER_TIMEOUT)
    client = redis.Redis.from_url(url, **opts)
    try:
        client.eval(HEARTBEAT_LUA, 3, relay.nodes_key, relay.sids_key,
                    relay.inbox_key, relay.node,
                    int(relay.presence_ttl * 1000))
    except redis_errors():
        pass
    finally:
        client.close()


def stream_entries(resp: Any) -> List[Any]:
    """XREAD's answer as ``[(stream, [(id, fields), ...]), ...]`` (RESP2
    gives a list, RESP3 a dict)."""
    if not resp:
        return []
    if isinstance(resp, dict):
        return list(resp.items())
    return [(r[0], r[1]) for r in resp]


class RedisManagerBase(BaseManager):
    """What :class:`AsyncRedisManager` and the sync
    :class:`~engineio_fast.cluster.redis_sync.RedisManager` share: their
    options, the :class:`~engineio_fast.cluster.redis_relay.Relay`, what
    they do with what the server asks of them and with what Redis
    delivers. The client, its tasks and their loops are each one's own
    (asyncio or blocking I/O); ``_push`` queues an entry and wakes the
    writer."""

    def __init__(self, url: str, channel: str,
                 redis_options: Optional[Dict[str, Any]], heartbeat: float,
                 presence_ttl: float, stream_maxlen: int, max_pending: int,
                 max_pending_bytes: int, max_entry_bytes: int,
                 logger: Optional[logging.Logger]) -> None:
        if presence_ttl <= heartbeat:
            raise ValueError('presence_ttl must be longer than heartbeat')
        self.url = redis_url(url)
        self.channel = channel
        self.heartbeat = heartbeat
        self.redis_options = redis_options
        self._logger = logger
        self.relay = Relay(channel, logger or default_logger,
                           max_entry_bytes=max_entry_bytes,
                           max_pending=max_pending,
                           max_pending_bytes=max_pending_bytes,
                           stream_maxlen=stream_maxlen,
                           presence_ttl=presence_ttl)
        self._pid: Optional[int] = None
        self._redis: Any = None
        self._closing = False
        self._scripts: Dict[str, Any] = {}
        self._send_sha: Optional[str] = None
        self.forwarder: Any = None

    def attach(self, server: Any) -> None:
        """Serve ``server``; log to its logger unless one was given."""
        super().attach(server)
        if self._logger is None:
            self.relay.logger = server.logger
            self.forwarder.logger = server.logger

    def _new_relay(self) -> Relay:
        """A relay like this one's, empty (a forked child must not inherit
        its parent's outbox, sequences or view)."""
        old = self.relay
        return Relay(old.channel, old.logger, old.max_entry_bytes,
                     old.max_pending, old.max_pending_bytes,
                     old.stream_maxlen, old.presence_ttl)

    def start(self) -> None:
        raise NotImplementedError

    def _push(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError

    def forward(self, sid: str, kind: bytes, item: Optional[Item]) -> bool:
        """Deliver ``item`` to (kind ``b'm'``) or close (``b'c'``) a session
        of another process through its inbox (added only while its owner
        is alive, else the writer logs the closed-sid warning). False: the
        sid is of this process, or names none."""
        owner = _node.owner_of(sid)
        if owner is None or owner == _node.node_id():
            return False
        self.start()
        relay = self.relay
        self._push(MESSAGE if kind == MESSAGE else CLOSE,
                   relay.inbox_of(owner), sid, item, owner=owner)
        return True

    def publish(self, item: Item, skip: Iterable[str] = ()) -> None:
        """Put a broadcast on the broadcast stream for the other
        processes."""
        self.start()
        self._push(BROADCAST, self.relay.bcast_key, '', item, skip)

    def _refused(self, p: Any) -> None:
        # an entry Redis did not add: its addressee is gone
        kind = p.fields.get(b'k')
        if kind == MESSAGE and self.server is not None:
            self.server._log_send_to_closed(p.fields[b's'].decode())
        elif kind == REQUEST:
            self.forwarder.refused(p.fields[b'r'])

    def _deliver(self, d: Delivery) -> None:
        kind, sid, item, skip, extra = d
        server = self.server
        if server is None:
            return
        try:
            if kind == MESSAGE:
                server._remote_message(sid, item)
            elif kind == CLOSE:
                server._remote_close(sid)
            elif kind == REQUEST and extra is not None:
                if not server._foreign_sid(sid):
                    self.forwarder.serve(server, sid, extra, item)
            elif kind == RESPONSE and extra is not None:
                self.forwarder.answered(extra, item)
            else:
                server._broadcast_local(item, skip)
        except Exception:
            self.relay.logger.exception(
                'engineio_fast: delivering a Redis entry failed')


class AsyncRedisManager(RedisManagerBase):
    """A client manager for :class:`engineio_fast.AsyncServer` on Redis
    (or Valkey)::

        eio = engineio_fast.AsyncServer(
            client_manager=engineio_fast.AsyncRedisManager(
                'redis://localhost:6379/0'))

    Every process of the service gives its server its own manager with
    the same URL and ``channel``. Then ``send()``, ``send_packet()`` and
    ``disconnect()`` reach a session in whichever process owns it,
    ``broadcast()`` reaches every session of every process, and
    ``await eio.manager.get_participants('/')`` lists them all. A process
    that cannot reach Redis keeps serving its own sessions; what it sends
    to the others waits (bounded) until Redis is back.

    Args:
        url: ``redis://``, ``rediss://``, ``valkey://``, ``valkeys://`` or
            ``unix://`` URL of the server.
        channel: the prefix of the keys the processes of one service
            share. Default ``'engineio'``.
        redis_options: extra keyword arguments for redis-py's client.
        heartbeat: seconds between heartbeats (presence, and publication
            of this process's sids). Default 1.
        presence_ttl: seconds after its last heartbeat that a process
            counts as gone: its sids leave ``get_participants`` and sends
            to them log the closed-sid warning. Default 5.
        stream_maxlen: about how many entries each stream keeps; a process
            that falls further behind loses the oldest (logged).
            Default 10000.
        max_pending: the most entries waiting while Redis is away; more
            are dropped (logged). Default 10000.
        max_pending_bytes: the most bytes waiting. Default 16 MiB.
        max_entry_bytes: the largest message sent or accepted through
            Redis. Default 1,000,000.
        logger: a ``logging.Logger``; default the server's.

    Raises:
        ValueError: ``url`` is not a Redis URL.
    """

    def __init__(self, url: str = 'redis://localhost:6379/0',
                 channel: str = 'engineio',
                 redis_options: Optional[Dict[str, Any]] = None,
                 heartbeat: float = 1.0, presence_ttl: float = 5.0,
                 stream_maxlen: int = 10000, max_pending: int = 10000,
                 max_pending_bytes: int = 16 * 1024 * 1024,
                 max_entry_bytes: int = 1000000,
                 logger: Optional[logging.Logger] = None) -> None:
        super().__init__(url, channel, redis_options, heartbeat,
                         presence_ttl, stream_maxlen, max_pending,
                         max_pending_bytes, max_entry_bytes, logger)
        self._tasks: List['asyncio.Task[Any]'] = []
        self._wake: Optional[asyncio.Event] = None
        #: polling requests of other processes' sessions (redis_forward.py)
        self.forwarder = AsyncForwarder(self.relay, self._kick,
                                        self.relay.logger)

    async def forward_request(self, sid: str, scope: Dict[str, Any],
                              body: Optional[bytes], send: Any) -> bool:
        """Serve a polling request of ``sid``, a session of another
        process, through that process (the ASGI adapter calls this; see
        :mod:`engineio_fast.cluster.redis_forward`). False: the caller
        serves it."""
        self.start()
        return await self.forwarder.forward(self.server, sid, scope, body,
                                             send)

    # ------------------------------------------------------------------
    # life cycle
    def start(self) -> None:
        """Start the reader and writer tasks on the running loop (once
        per process; a no-op without a running loop)."""
        if self._pid == os.getpid() or self._closing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        import redis.asyncio
        forked = self._pid is not None
        self._pid = os.getpid()
        self._redis = redis.asyncio.Redis.from_url(
            self.url,
            **client_options(self.redis_options, self.heartbeat, True))
        self._scripts = {
            'beat': self._redis.register_script(HEARTBEAT_LUA),
            'who': self._redis.register_script(PARTICIPANTS_LUA)}
        self._send_sha = None
        if forked:
            # a forked child: not its parent's outbox nor its sequences
            self.relay = self._new_relay()
            self.forwarder = AsyncForwarder(self.relay, self._kick,
                                            self.forwarder.logger)
        self.relay.rebind()
        self.relay.start_reading(int(time.time() * 1000))
        register_now(self.relay, self.url, self.redis_options)
        self._wake = asyncio.Event()
        self._tasks = [loop.create_task(self._writer()),
                       loop.create_task(self._reader())]

    async def close(self) -> None:
        """Send what waits (for up to 2 s), leave the presence set, stop
        the tasks and close the connections."""
        if self._pid != os.getpid() or self._closing:
            return
        relay = self.relay
        deadline = time.monotonic() + CLOSE_FLUSH
        while relay.outbox and relay.up and time.monotonic() < deadline:
            self._kick()
            await asyncio.sleep(0.02)
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self._leave(), 1.0)
        except (Exception, asyncio.CancelledError) as exc:
            relay.logger.info('engineio_fast: could not leave Redis: %s',
                              exc)
        try:
            await self._redis.aclose()
        except Exception:   # closing a dead connection: nothing to do
            pass

    async def _leave(self) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrem(self.relay.nodes_key, self.relay.node)
        pipe.delete(self.relay.sids_key)
        await pipe.execute()

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------
    # what the server calls
    def _push(self, *args: Any, **kwargs: Any) -> bool:
        ok = self.relay.push(*args, **kwargs)
        self._kick()
        return ok

    async def get_participants(self,
                               namespace: Optional[str] = '/') -> List[str]:
        """The sids of the clients connected to every live process.

        Args:
            namespace: ``'/'`` (Engine.IO's only namespace); any other
                gives an empty list.

        Returns:
            A list of sids: this process's as they are now, the others' as
            of their last heartbeat.

        Raises:
            engineio_fast.exceptions.ConnectionError: Redis cannot be
                reached (``local_sids()`` still lists this process's).
        """
        if not _check_namespace(namespace):
            return []
        self.start()
        local = self.local_sids()
        try:
            # in a task of its own: handlers start outside any task (see
            # async_server.py), and redis-py's timeouts need one
            others = await asyncio.ensure_future(self._scripts['who'](
                keys=[self.relay.nodes_key],
                args=[self.relay.sids_prefix, self.relay.node]))
        except redis_errors() as exc:
            raise exceptions.ConnectionError(
                'Redis is unreachable: %s' % exc) from exc
        return local + [s.decode() if isinstance(s, bytes) else s
                        for s in others]

    # ------------------------------------------------------------------
    # the tasks
    async def _writer(self) -> None:
        relay = self.relay
        backoff = relay.backoff()
        errors = redis_errors()
        wake = self._wake
        assert wake is not None
        next_beat = 0.0
        while not self._closing:
            wait = next_beat - time.monotonic()
            if wait > 0 and not relay.outbox:
                try:
                    await asyncio.wait_for(wake.wait(), wait)
                except asyncio.TimeoutError:
                    pass
            wake.clear()
            try:
                if relay.beat_due(time.monotonic(), next_beat):
                    await self._beat()
                    next_beat = time.monotonic() + self.heartbeat
                relay.reached(time.monotonic())
                backoff.reset()
                while (relay.outbox and not self._closing and
                       not relay.beat_due(time.monotonic(), next_beat)):
                    if not await self._flush():
                        await asyncio.sleep(self.heartbeat)
                        break
            except asyncio.CancelledError:
                raise
            except errors as exc:
                relay.lost(exc, time.monotonic())
                next_beat = 0.0
                await asyncio.sleep(backoff.delay())
            except Exception:
                relay.logger.exception('engineio_fast: Redis writer error')
                await asyncio.sleep(backoff.delay())

    async def _beat(self) -> None:
        relay = self.relay
        ttl_ms = int(relay.presence_ttl * 1000)
        live = await self._scripts['beat'](
            keys=[relay.nodes_key, relay.sids_key, relay.inbox_key],
            args=[relay.node, ttl_ms])
        relay.reached(time.monotonic())
        relay.beat_done(live)
        add, remove = relay.presence_changes(self.local_sids())
        if not (add or remove or relay.resync):
            return
        pipe = self._redis.pipeline(transaction=True)
        if relay.resync:
            pipe.delete(relay.sids_key)
        for i in range(0, len(add), 1000):
            pipe.sadd(relay.sids_key, *add[i:i + 1000])
        for i in range(0, len(remove), 1000):
            pipe.srem(relay.sids_key, *remove[i:i + 1000])
        pipe.pexpire(relay.sids_key, ttl_ms)
        await pipe.execute()
        relay.presence_done(add, remove)

    async def _flush(self) -> bool:
        """Write the oldest entries; False: one must wait (its owner may
        not have registered again yet)."""
        relay = self.relay
        if self._send_sha is None:
            self._send_sha = await self._redis.script_load(SEND_LUA)
        batch = relay.batch(WRITE_BATCH)
        pipe = self._redis.pipeline(transaction=False)
        add_batch(pipe, relay, batch, self._send_sha)
        results = await pipe.execute(raise_on_error=False)
        if scripts_lost(results):
            self._send_sha = None     # Redis restarted empty: load again
            return True
        done, hold = settle(relay, batch, results, time.monotonic(),
                            self._refused)
        relay.sent(done)
        return not hold

    async def _reader(self) -> None:
        relay = self.relay
        backoff = relay.backoff()
        errors = redis_errors()
        while not self._closing:
            try:
                resp = await self._redis.xread(
                    dict(relay.last_ids), count=READ_COUNT,
                    block=int(self.heartbeat * 1000))
                relay.reached(time.monotonic())
                backoff.reset()
                for stream, entries in stream_entries(resp):
                    for entry_id, fields in entries:
                        d = relay.accept(stream, entry_id, fields)
                        if d is not None:
                            self._deliver(d)
            except asyncio.CancelledError:
                raise
            except errors as exc:
                relay.lost(exc, time.monotonic())
                await asyncio.sleep(backoff.delay())
            except Exception:
                relay.logger.exception('engineio_fast: Redis reader error')
                await asyncio.sleep(backoff.delay())


def add_batch(pipe: Any, relay: Relay, batch: List[Any], sha: str) -> None:
    """Queue ``batch`` on a pipeline: inbox entries through SEND_LUA (by
    its sha: no SCRIPT EXISTS per pipeline), broadcasts with XADD."""
    ttl_ms = int(relay.presence_ttl * 4000)
    for p in batch:
        if p.owner:
            pipe.evalsha(sha, 2, relay.nodes_key, p.stream,
                         *p.args(relay.stream_maxlen, ttl_ms))
        else:
            pipe.xadd(p.stream, p.fields, maxlen=relay.stream_maxlen,
                      approximate=True)


def scripts_lost(results: List[Any]) -> bool:
    """Whether Redis answered NOSCRIPT (it restarted without its script
    cache): the batch is written again once the script is loaded."""
    from redis.exceptions import NoScriptError
    return any(isinstance(r, NoScriptError) for r in results)


def settle(relay: Relay, batch: List[Any], results: List[Any], now: float,
           refused: Callable[[Any], None]) -> Tuple[int, bool]:
    """Read a pipeline's results for ``batch``: how many entries are done
    with, and whether the next one must wait (its owner is not registered,
    but Redis came back too recently to call it dead). Raises the
    connection error of any result; logs (and so drops) the entries Redis
    refused; ``refused(entry)`` for those whose owner is gone."""
    errors = redis_errors()
    for res in results:
        if isinstance(res, errors):
            raise res
    for i, (p, res) in enumerate(zip(batch, results)):
        if isinstance(res, Exception):
            relay.logger.error(
                'engineio_fast: Redis refused an entry for %s: %s',
                p.stream.decode(), res)
        elif p.owner and res == 0:
            if relay.refused_wait(now) and p.fields.get(b'k') != REQUEST:
                return i, True
            refused(p)
    return len(batch), False
