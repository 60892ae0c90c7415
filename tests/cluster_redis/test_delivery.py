"""The delivery guarantee (engineio_fast/cluster/redis_relay.py), tested
with a real Redis: restarted in the middle of traffic between two server
processes (every message counted, each sender's order kept), down when the
servers start, and away long enough to fill a sender's bounded outbox."""

import threading
import time

import pytest

from tests.cluster_redis.helpers import Peer, wait_for
from tests.cluster_redis.redis_proc import RedisServer, free_port

KINDS = ['async', 'gunicorn-gthread']
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def tagged(messages, prefix):
    return [m for m in messages if isinstance(m, str) and
            m.startswith(prefix)]


def two_hosts(hosts, kind, url, env=None, b_transports=None):
    """Hosts A and B on one Redis and a client on each:
    ``(a_host, b_host, a, b)``."""
    a_host = hosts(kind, url, 'a', env)
    b_host = hosts(kind, url, 'b', env)
    return (a_host, b_host, Peer(a_host.url),
            Peer(b_host.url, transports=b_transports))


def explain(sent, got, bcast, bgot, hosts):
    """What was missing, and the hosts' logs: for a failure's message."""
    have, bhave = set(got), set(bgot)
    lines = ['sends: %d of %d arrived, first missing %s' % (
        len(got), len(sent), next((m for m in sent if m not in have), None)),
             'broadcasts: %d of %d arrived, first missing %s' % (
        len(bgot), len(bcast), next((m for m in bcast if m not in bhave),
                                    None))]
    for h in hosts:
        lines.append('--- log of %s ---' % h.url)
        lines.append(h.log()[-4000:])
    return '\n'.join(lines)


def test_redis_restart_mid_traffic(kind, redis_srv, hosts):
    """Sends from A to a session on B and broadcasts from B, while Redis
    (with its append-only file) is stopped for a second and started again:
    every message arrives once, in the order it was sent."""
    a_host, b_host, a, b = two_hosts(hosts, kind, redis_srv.url,
                                     b_transports=['polling'])
    try:
        assert wait_for(lambda: a.who() == {a.sid, b.sid})
        rounds, per_round, per_bcast = 60, 25, 10
        restarter = None
        down = []

        def restart():
            redis_srv.stop()
            down.append(time.monotonic())
            time.sleep(1.0)
            redis_srv.start()
            down.append(time.monotonic())

        for k in range(rounds):
            if k == 15:
                restarter = threading.Thread(target=restart, daemon=True)
                restarter.start()
            a.send('burst %s %d r%d' % (b.sid, per_round, k))
            b.send('bburst %d g%d' % (per_bcast, k))
            time.sleep(0.05)
        restarter.join(20)
        assert len(down) == 2, 'Redis was not restarted'

        sent = ['r%d:%d' % (k, i) for k in range(rounds)
                for i in range(per_round)]
        bcast = ['g%d:%d' % (k, i) for k in range(rounds)
                 for i in range(per_bcast)]
        arrived = wait_for(lambda: len(tagged(b.got(), 'r')) >= len(sent)
                           and len(tagged(a.got(), 'g')) >= len(bcast),
                           timeout=40)
        assert arrived, explain(sent, tagged(b.got(), 'r'), bcast,
                                tagged(a.got(), 'g'), (a_host, b_host))
        # every message once, in order (a lost one, a duplicate or a swap
        # would show in the lists)
        assert tagged(b.got(), 'r') == sent
        assert tagged(a.got(), 'g') == bcast
        assert tagged(b.got(), 'g') == bcast     # B's own, delivered there
        # the loss and the recovery were logged by both processes
        for h in (a_host, b_host):
            assert wait_for(lambda h=h: 'Redis is back' in h.log())
            assert 'lost Redis' in h.log()
            assert 'never arrived' not in h.log()
    finally:
        a.close()
        b.close()


def test_presence_holds_under_sustained_sends(kind, redis_srv, hosts):
    """A process whose writer always has entries to write still beats:
    while it sends to the other process for longer than the liveness bound
    (1.5 s here), the other keeps seeing its sessions and what it sends to
    them arrives."""
    a_host, b_host, a, b = two_hosts(hosts, kind, redis_srv.url)
    try:
        assert wait_for(lambda: b.who() == {a.sid, b.sid})
        a.send('flood %s 3 f' % b.sid)
        assert wait_for(lambda: 'f:0' in b.got())
        views, k = [], 0
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            views.append(b.who())
            b.send('send %s during%d' % (a.sid, k))
            k += 1
            time.sleep(0.1)
        assert len(views) >= 5
        assert all(a.sid in v for v in views), views
        assert wait_for(lambda: all('during%d' % i in a.got()
                                    for i in range(k)))
        assert 'Cannot send to sid' not in b_host.log()
    finally:
        a.close()
        b.close()


def test_redis_down_at_start(kind, hosts, tmp_path):
    """Servers started before Redis: each serves its own sessions, logs the
    loss, queues what it sends to the other; once Redis is up, what was
    queued arrives and get_participants sees both processes."""
    port = free_port()
    url = 'redis://127.0.0.1:%d/0' % port
    a_host, b_host, a, b = two_hosts(hosts, kind, url)
    srv = None
    try:
        a.send('echo-me')
        assert wait_for(lambda: 'echo-me' in a.got())
        assert wait_for(lambda: 'lost Redis' in a_host.log())
        who = a.ask('who', 'who')
        assert who is not None and who.startswith('who-error'), who
        a.send('send %s early' % b.sid)
        b.send('bcast early-bcast')
        time.sleep(0.5)
        assert 'early' not in b.got()
        (tmp_path / 'redis').mkdir()
        srv = RedisServer(tmp_path / 'redis', port=port).start()
        assert wait_for(lambda: 'early' in b.got(), timeout=20)
        assert wait_for(lambda: 'early-bcast' in a.got(), timeout=20)
        assert b.got().count('early-bcast') == 1
        assert wait_for(lambda: 'Redis is back' in a_host.log())
        assert wait_for(lambda: a.who() == {a.sid, b.sid})
    finally:
        a.close()
        b.close()
        if srv is not None:
            srv.stop()


def test_outbox_is_bounded(kind, redis_srv, hosts):
    """With Redis away, a sender keeps at most max_pending entries (500
    here) and logs what it drops; the rest arrive in order once Redis is
    back; its own sessions are served all along."""
    env = {'EIO_MAX_PENDING': '500'}
    a_host, b_host, a, b = two_hosts(hosts, kind, redis_srv.url, env)
    try:
        assert wait_for(lambda: a.who() == {a.sid, b.sid})
        redis_srv.stop()
        assert wait_for(lambda: 'lost Redis' in a_host.log())
        a.send('burst %s 2000 q' % b.sid)
        assert wait_for(lambda: 'outbox full' in a_host.log())
        a.send('still-served')
        assert wait_for(lambda: 'still-served' in a.got())
        redis_srv.start()
        expected = ['q:%d' % i for i in range(500)]
        assert wait_for(lambda: len(tagged(b.got(), 'q')) >= 500,
                        timeout=20)
        time.sleep(0.5)
        assert tagged(b.got(), 'q') == expected
        assert wait_for(lambda: 'were dropped while it was full'
                        in a_host.log())
    finally:
        a.close()
        b.close()


def test_redis_restart_empty(kind, hosts, tmp_path):
    """A Redis restarted without persistence comes back empty (no presence,
    no streams, no scripts): every process registers again and publishes
    its sids, the scripts are loaded again, and sends and broadcasts flow
    again."""
    (tmp_path / 'redis').mkdir()
    srv = RedisServer(tmp_path / 'redis', aof=False).start()
    try:
        a_host, b_host, a, b = two_hosts(hosts, kind, srv.url)
        try:
            assert wait_for(lambda: a.who() == {a.sid, b.sid})
            a.send('send %s before' % b.sid)
            assert wait_for(lambda: 'before' in b.got())
            srv.stop()
            assert wait_for(lambda: 'lost Redis' in a_host.log())
            srv.start()
            assert wait_for(lambda: 'Redis is back' in a_host.log() and
                            'Redis is back' in b_host.log(), timeout=20)
            assert wait_for(lambda: a.who() == {a.sid, b.sid}, timeout=20)
            a.send('send %s after' % b.sid)
            b.send('bcast after-bcast')
            assert wait_for(lambda: 'after' in b.got())
            assert wait_for(lambda: 'after-bcast' in a.got())
            assert b.got().count('after') == 1
        finally:
            a.close()
            b.close()
    finally:
        srv.stop()
