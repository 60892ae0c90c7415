"""The Redis managers' sans-I/O relay (engineio_fast/cluster/redis_relay.py)
and the in-process managers: no Redis, no sockets."""

import asyncio
import logging

import pytest

import engineio_fast
from engineio_fast.cluster import node
from engineio_fast.cluster.manager import AsyncManager, Manager
from engineio_fast.cluster.redis_relay import (
    BROADCAST,
    CLOSE,
    MESSAGE,
    Backoff,
    Relay,
    redis_url,
)


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def log():
    logger = logging.getLogger('test.redis_relay')
    logger.propagate = False
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, handler.lines
    logger.removeHandler(handler)


def make(log, **kw):
    relay = Relay('chan', log[0], **kw)
    relay.start_reading(1000)
    return relay


def as_read(p):
    """An outbox entry as redis-py reads it back."""
    return dict(p.fields)


def test_redis_urls():
    assert redis_url('redis://h:1/0') == 'redis://h:1/0'
    assert redis_url('rediss://h') == 'rediss://h'
    assert redis_url('valkey://h:6379') == 'redis://h:6379'
    assert redis_url('VALKEYS://h') == 'rediss://h'
    for bad in ('http://h', 'h:6379', ''):
        with pytest.raises(ValueError):
            redis_url(bad)


def test_backoff_doubles_to_a_bound():
    b = Backoff(0.1, 1.0)
    delays = [b.delay() for _ in range(8)]
    assert 0.1 <= delays[0] <= 0.125
    assert all(0.1 <= d <= 1.25 for d in delays)
    assert delays[-1] >= 1.0
    b.reset()
    assert b.delay() <= 0.125


@pytest.mark.parametrize('ttl', [1.5, 5.0, 60.0])
def test_a_process_returns_within_the_others_wait(log, ttl):
    """After Redis is back, a sender holds an entry for an unregistered
    owner for 2 * presence_ttl; the owner's next reconnection attempt
    comes at most half a liveness bound (jitter included: 1.25 x) after
    Redis is back, so it beats again well inside that wait."""
    relay = Relay('engineio', log, presence_ttl=ttl)
    b = relay.backoff()
    delays = [b.delay() for _ in range(40)]
    assert max(delays) <= 1.25 * min(5.0, ttl / 2)
    assert max(delays) < relay.presence_ttl * 2 - 1.0
    relay.reached_at = 100.0
    assert relay.refused_wait(100.0 + max(delays) + 0.5)


def test_beat_is_due_on_time():
    assert Relay.beat_due(10.0, 10.0)
    assert Relay.beat_due(10.5, 10.0)
    assert not Relay.beat_due(9.9, 10.0)


def test_round_trip_keeps_order_and_kinds(log):
    sender, reader = make(log), make(log)
    reader.node_b = b'zzzzzz'       # another process
    inbox = reader.inbox_key
    assert sender.push(MESSAGE, inbox, 'sid1', '4hello', owner='x')
    assert sender.push(MESSAGE, inbox, 'sid1', b'\x00\x01', owner='x')
    assert sender.push(CLOSE, inbox, 'sid1', None, owner='x')
    assert sender.push(BROADCAST, sender.bcast_key, '', '4all',
                       skip=['a', 'b'])
    batch = sender.batch(10)
    assert [p.owner for p in batch] == ['x', 'x', 'x', '']
    out = [reader.accept(p.stream, b'%d-0' % (2000 + i), as_read(p))
           for i, p in enumerate(batch)]
    assert out[0] == (MESSAGE, 'sid1', '4hello', (), None)
    assert out[1] == (MESSAGE, 'sid1', b'\x00\x01', (), None)
    assert out[2] == (CLOSE, 'sid1', None, (), None)
    assert out[3] == (BROADCAST, '', '4all', ('a', 'b'), None)
    assert reader.last_ids[inbox] == b'2002-0'
    sender.sent(4)
    assert not sender.outbox and sender.pending_bytes == 0


def test_own_broadcast_is_skipped(log):
    relay = make(log)
    relay.push(BROADCAST, relay.bcast_key, '', '4x')
    p = relay.batch()[0]
    assert relay.accept(relay.bcast_key, b'5-0', as_read(p)) is None


def test_duplicates_dropped_and_gaps_logged(log):
    sender, reader = make(log), make(log)
    inbox = reader.inbox_key
    for i in range(5):
        sender.push(MESSAGE, inbox, 'sid', '4m%d' % i, owner='o')
    ps = sender.batch()
    got = [reader.accept(inbox, b'1-%d' % i, as_read(p))
           for i, p in enumerate([ps[0], ps[1], ps[1], ps[0], ps[4]])]
    assert [g and g[2] for g in got] == ['4m0', '4m1', None, None, '4m4']
    assert any('2 entries from node' in line for line in log[1])


def test_malformed_foreign_oversized_dropped(log):
    reader = make(log, max_entry_bytes=10)
    inbox = reader.inbox_key
    me = node.node_id().encode()
    good = {b'v': b'1', b'o': me, b'i': b'abc', b'k': b'm', b'n': b'1',
            b's': b'sid', b't': b't', b'd': b'4ok'}
    bad = [
        'not a dict', {b'x': b'y'}, dict(good, v=b'2'),
        {b'v': b'1'}, dict(good, **{'o': b'bad'}),
    ]
    bad += [dict(good, **{k: v}) for k, v in [
        ('k', b'q'), ('n', b'-1'), ('n', b'9' * 30), ('i', b''),
        ('d', b'4' + b'x' * 20), ('d', b'\xff'), ('d', b'9x'), ('d', b''),
        ('s', b''), ('s', b's' * 100), ('t', b'z')]]
    for fields in bad:
        fields = {(k.encode() if isinstance(k, str) else k): v
                  for k, v in fields.items()} \
            if isinstance(fields, dict) else fields
        assert reader.accept(inbox, b'1-1', fields) is None, fields
    assert sum('dropped entry' in line for line in log[1]) == len(bad)
    # an unknown stream is ignored; a good entry still goes through
    assert reader.accept(b'other', b'1-1', good) is None
    assert reader.accept(inbox, b'1-2', good) == (MESSAGE, 'sid', '4ok', (), None)


def test_outbox_bounds(log):
    relay = make(log, max_pending=3, max_pending_bytes=100,
                 max_entry_bytes=60)
    s = relay.bcast_key
    assert not relay.push(BROADCAST, s, '', '4' + 'x' * 70)   # too large
    assert relay.push(BROADCAST, s, '', '4' + 'x' * 50)
    assert not relay.push(BROADCAST, s, '', '4' + 'x' * 50)   # bytes
    assert relay.push(BROADCAST, s, '', '4a')
    assert relay.push(BROADCAST, s, '', '4b')
    assert not relay.push(BROADCAST, s, '', '4c')             # count
    assert len(relay.outbox) == 3 and relay.dropped == 2
    assert any('outbox full' in line for line in log[1])
    # the sequence numbers of what was kept have no holes
    assert [p.fields[b'n'] for p in relay.outbox] == [b'1', b'2', b'3']
    relay.sent(3)
    assert relay.pending_bytes == 0
    assert any('2 messages were dropped' in line for line in log[1])


def test_loss_and_recovery_logged_once(log):
    relay = make(log)
    relay.reached(1.0)
    relay.lost(OSError('gone'), 2.0)
    relay.lost(OSError('gone'), 2.5)
    relay.reached(4.0)
    relay.reached(4.5)
    lines = log[1]
    assert sum('lost Redis' in line for line in lines) == 1
    assert sum('Redis is back after 2.0 s' in line for line in lines) == 1
    assert relay.refused_wait(5.0) and not relay.refused_wait(100.0)
    # a first contact is no recovery: nothing is held then
    fresh = make(log)
    fresh.reached(1.0)
    assert not fresh.refused_wait(1.5)


def test_presence(log):
    relay = make(log, presence_ttl=2.0)
    assert relay.beat_done(1)
    add, remove = relay.presence_changes(['s1', 's2'])
    assert sorted(add) == ['s1', 's2'] and remove == []
    relay.presence_done(add, remove)
    assert not relay.beat_done(0)
    add, remove = relay.presence_changes(['s2', 's3'])
    assert add == ['s3'] and remove == ['s1']
    relay.presence_done(add, remove)
    assert relay.published == {'s2', 's3'}
    # re-registered (Redis lost its data): everything again
    assert relay.beat_done(1)
    assert sorted(relay.presence_changes(['s2', 's3'])[0]) == ['s2', 's3']
    assert relay.beat_done('garbage')


def test_in_process_managers():
    eio = engineio_fast.Server(async_mode='threading')
    assert isinstance(eio.manager, Manager)
    assert eio.manager.get_participants('/') == []
    assert eio.manager.get_participants('/other') == []
    aio = engineio_fast.AsyncServer(async_mode='asgi')
    assert isinstance(aio.manager, AsyncManager)
    # a list, and awaitable as the Redis manager's coroutine is

    async def awaited():
        return await aio.manager.get_participants()
    assert asyncio.run(awaited()) == []
    assert aio.manager.get_participants() == []
    with pytest.raises(RuntimeError):
        aio.manager.attach(eio)


def test_redis_manager_options():
    with pytest.raises(ValueError):
        engineio_fast.RedisManager('http://localhost')
    with pytest.raises(ValueError):
        engineio_fast.AsyncRedisManager('redis://h', heartbeat=5,
                                        presence_ttl=1)
    m = engineio_fast.AsyncRedisManager('valkey://h:1/0')
    assert m.url == 'redis://h:1/0'


def test_forwarded_request_and_response_fields(log):
    from engineio_fast.cluster.redis_relay import REQUEST, RESPONSE
    sender, reader = make(log), make(log)
    inbox = reader.inbox_key
    me = node.node_id().encode()
    req = {b'r': b'rid1', b'y': me, b'm': b'POST', b'u': b'EIO=4&sid=x',
           b'h': b'[["origin", "o"]]'}
    assert sender.push(REQUEST, inbox, 'sidX', b'4hi', owner='o', extra=req)
    resp = {b'r': b'rid1', b'm': b'200', b'h': b'[]'}
    assert sender.push(RESPONSE, inbox, '', b'ok', owner='o', extra=resp)
    p_req, p_resp = sender.batch()
    d = reader.accept(inbox, b'1-1', as_read(p_req))
    assert d[0] == REQUEST and d[1] == 'sidX' and d[2] == b'4hi'
    assert d[4][b'm'] == b'POST' and d[4][b'y'] == me
    d = reader.accept(inbox, b'1-2', as_read(p_resp))
    assert d[0] == RESPONSE and d[2] == b'ok' and d[4][b'm'] == b'200'
    # malformed ones are dropped and logged
    bad = [dict(as_read(p_req), m=b'DELETE'), dict(as_read(p_req), y=b'x'),
           dict(as_read(p_req), u=b'u' * 9000),
           dict(as_read(p_req), r=b'r' * 40),
           dict(as_read(p_resp), m=b'2000'),
           {k: v for k, v in as_read(p_req).items() if k != b'h'}]
    before = sum('dropped entry' in line for line in log[1])
    for i, fields in enumerate(bad):
        fields = {(k.encode() if isinstance(k, str) else k): v
                  for k, v in fields.items()}
        fields[b'n'] = b'%d' % (10 + i)
        assert reader.accept(inbox, b'2-%d' % i, fields) is None, fields
    assert sum('dropped entry' in line for line in log[1]) - before == len(bad)
