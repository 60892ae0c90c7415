"""``RedisManager``: the client manager of a sync :class:`Server` whose
processes (workers, hosts) share a Redis server.

The same exchange as :class:`~engineio_fast.cluster.redis_manager.
AsyncRedisManager` (every decision is
:class:`~engineio_fast.cluster.redis_relay.Relay`'s, whose docstring
states the delivery guarantee), on redis-py's blocking client, in two
tasks of the server's async mode: threads (threading) or greenlets
(eventlet, gevent: their sockets must be monkey-patched, as gunicorn's
eventlet and gevent workers do).
"""

import logging
import os
import threading
import time
from typing import Any, Dict, List, Optional

from .. import exceptions
from .manager import _check_namespace
from .redis_forward import Answer, SyncForwarder
from .redis_manager import (
    CLOSE_FLUSH,
    READ_COUNT,
    WRITE_BATCH,
    RedisManagerBase,
    add_batch,
    client_options,
    redis_errors,
    register_now,
    scripts_lost,
    settle,
    stream_entries,
)
from .redis_relay import (
    HEARTBEAT_LUA,
    PARTICIPANTS_LUA,
    SEND_LUA,
)


class RedisManager(RedisManagerBase):
    """A client manager for :class:`engineio_fast.Server` on Redis (or
    Valkey), in every async mode (threading, eventlet, gevent)::

        eio = engineio_fast.Server(
            client_manager=engineio_fast.RedisManager(
                'redis://localhost:6379/0'))

    Every process of the service gives its server its own manager with
    the same URL and ``channel``. Then ``send()``, ``send_packet()`` and
    ``disconnect()`` reach a session in whichever process owns it,
    ``broadcast()`` reaches every session of every process, and
    ``eio.manager.get_participants('/')`` lists them all. A process that
    cannot reach Redis keeps serving its own sessions; what it sends to
    the others waits (bounded) until Redis is back.

    Args:
        url: ``redis://``, ``rediss://``, ``valkey://``, ``valkeys://`` or
            ``unix://`` URL of the server.
        channel: the prefix of the keys the processes of one service
            share. Default ``'engineio'``.
        redis_options: extra keyword arguments for redis-py's client.
        heartbeat: seconds between heartbeats. Default 1.
        presence_ttl: seconds after its last heartbeat that a process
            counts as gone. Default 5.
        stream_maxlen: about how many entries each stream keeps.
            Default 10000.
        max_pending: the most entries waiting while Redis is away.
            Default 10000.
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
        self._wake: Any = None
        self._stopped: Any = None
        # guards the outbox (pushed by request threads, taken by the
        # writer) and start()
        self._lock = threading.Lock()
        #: polling requests of other processes' sessions (redis_forward.py)
        self.forwarder = SyncForwarder(self.relay, self._push,
                                       self.relay.logger)

    def _push(self, *args: Any, **kwargs: Any) -> bool:
        with self._lock:
            ok = self.relay.push(*args, **kwargs)
        self._wake.set()
        return ok

    def forward_request(self, sid: str, method: str, query: str,
                        headers: Dict[str, str],
                        body: Optional[bytes]) -> Optional[Answer]:
        """Serve a polling request of ``sid``, a session of another
        process, through that process (the WSGI adapter calls this; see
        :mod:`engineio_fast.cluster.redis_forward`).

        Returns:
            ``(status, headers, body)``, or None: the caller serves it.
        """
        self.start()
        return self.forwarder.forward(self.server, sid, method, query,
                                      headers, body)

    # ------------------------------------------------------------------
    # life cycle
    def start(self) -> None:
        """Start the reader and writer tasks (once per process: a forked
        child starts its own)."""
        if self._pid == os.getpid() or self._closing or self.server is None:
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            import redis
            mode = self.server._mode
            self._redis = redis.Redis.from_url(
                self.url,
                **client_options(self.redis_options, self.heartbeat, False))
            self._scripts = {
                'beat': self._redis.register_script(HEARTBEAT_LUA),
                'who': self._redis.register_script(PARTICIPANTS_LUA)}
            self._send_sha = None
            if self._pid is not None:      # a forked child
                self.relay = self._new_relay()
            self.forwarder = SyncForwarder(self.relay, self._push,
                                           self.forwarder.logger)
            self.relay.rebind()
            self.relay.start_reading(int(time.time() * 1000))
            register_now(self.relay, self.url, self.redis_options)
            self._wake = mode.Event()
            self._pid = os.getpid()
        mode.spawn_named('engineio_fast-redis-writer', self._writer)
        mode.spawn_named('engineio_fast-redis-reader', self._reader)

    def close(self) -> None:
        """Send what waits (for up to 2 s), leave the presence set and
        stop the tasks."""
        if self._pid != os.getpid() or self._closing:
            return
        relay = self.relay
        sleep = self.server._mode.sleep
        deadline = time.monotonic() + CLOSE_FLUSH
        while relay.outbox and relay.up and time.monotonic() < deadline:
            self._wake.set()
            sleep(0.02)
        self._closing = True
        self._wake.set()
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(relay.nodes_key, relay.node)
            pipe.delete(relay.sids_key)
            pipe.execute()
        except redis_errors() as exc:
            relay.logger.info('engineio_fast: could not leave Redis: %s',
                              exc)

    # ------------------------------------------------------------------
    # what the server calls
    def get_participants(self, namespace: Optional[str] = '/') -> List[str]:
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
            others = self._scripts['who'](
                keys=[self.relay.nodes_key],
                args=[self.relay.sids_prefix, self.relay.node])
        except redis_errors() as exc:
            raise exceptions.ConnectionError(
                'Redis is unreachable: %s' % exc) from exc
        return local + [s.decode() if isinstance(s, bytes) else s
                        for s in others]

    # ------------------------------------------------------------------
    # the tasks
    def _writer(self) -> None:
        relay = self.relay
        backoff = relay.backoff()
        errors = redis_errors()
        sleep = self.server._mode.sleep
        next_beat = 0.0
        while not self._closing:
            wait = next_beat - time.monotonic()
            if wait > 0 and not relay.outbox:
                self._wake.wait(wait)
            self._wake.clear()
            try:
                if relay.beat_due(time.monotonic(), next_beat):
                    self._beat()
                    next_beat = time.monotonic() + self.heartbeat
                relay.reached(time.monotonic())
                backoff.reset()
                while (relay.outbox and not self._closing and
                       not relay.beat_due(time.monotonic(), next_beat)):
                    if not self._flush():
                        sleep(self.heartbeat)
                        break
            except errors as exc:
                relay.lost(exc, time.monotonic())
                next_beat = 0.0
                sleep(backoff.delay())
            except Exception:
                relay.logger.exception('engineio_fast: Redis writer error')
                sleep(backoff.delay())

    def _beat(self) -> None:
        relay = self.relay
        ttl_ms = int(relay.presence_ttl * 1000)
        live = self._scripts['beat'](
            keys=[relay.nodes_key, relay.sids_key, relay.inbox_key],
            args=[relay.node, ttl_ms])
        relay.reached(time.monotonic())
        relay.beat_done(live)
        with self.server._lock:
            sids = self.local_sids()
        add, remove = relay.presence_changes(sids)
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
        pipe.execute()
        relay.presence_done(add, remove)

    def _flush(self) -> bool:
        """Write the oldest entries; False: one must wait (its owner may
        not have registered again yet)."""
        relay = self.relay
        if self._send_sha is None:
            self._send_sha = self._redis.script_load(SEND_LUA)
        with self._lock:
            batch = relay.batch(WRITE_BATCH)
        pipe = self._redis.pipeline(transaction=False)
        add_batch(pipe, relay, batch, self._send_sha)
        results = pipe.execute(raise_on_error=False)
        if scripts_lost(results):
            self._send_sha = None     # Redis restarted empty: load again
            return True
        done, hold = settle(relay, batch, results, time.monotonic(),
                            self._refused)
        with self._lock:
            relay.sent(done)
        return not hold

    def _reader(self) -> None:
        relay = self.relay
        backoff = relay.backoff()
        errors = redis_errors()
        sleep = self.server._mode.sleep
        while not self._closing:
            try:
                resp = self._redis.xread(
                    dict(relay.last_ids), count=READ_COUNT,
                    block=int(self.heartbeat * 1000))
                relay.reached(time.monotonic())
                backoff.reset()
                for stream, entries in stream_entries(resp):
                    for entry_id, fields in entries:
                        d = relay.accept(stream, entry_id, fields)
                        if d is not None:
                            self._deliver(d)
            except errors as exc:
                relay.lost(exc, time.monotonic())
                sleep(backoff.delay())
            except Exception:
                relay.logger.exception('engineio_fast: Redis reader error')
                sleep(backoff.delay())
