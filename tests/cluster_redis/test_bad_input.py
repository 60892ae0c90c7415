"""Malformed, foreign and oversized entries on the streams (written straight
into Redis, as a buggy or hostile peer would) are logged and dropped; the
process goes on serving and relaying."""

import pytest
import redis

from tests.cluster_redis.helpers import Peer, wait_for

KINDS = ['async', 'gunicorn-gthread']
pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def header(origin, n, **extra):
    fields = {'v': '1', 'o': origin, 'i': 'evil0001', 'n': str(n)}
    fields.update(extra)
    return fields


def test_bad_entries_are_dropped(kind, redis_srv, hosts):
    a_host = hosts(kind, redis_srv.url, 'a')
    b_host = hosts(kind, redis_srv.url, 'b')
    a = Peer(a_host.url)
    b = Peer(b_host.url)
    r = redis.Redis.from_url(redis_srv.url)
    try:
        node_b = b.ask('node', 'node ')[5:]
        node_a = a.ask('node', 'node ')[5:]
        assert wait_for(lambda: a.who() == {a.sid, b.sid})
        inbox = 'engineio:inbox:%s' % node_b
        bad = [
            {'foo': 'bar'},                                   # foreign
            dict(header(node_a, 1, k='m', s=b.sid, t='t', d='4x'), v='2'),
            {'v': '1', 'o': node_a},                          # malformed
            header('short', 1, k='m', s=b.sid, t='t', d='4x'),
            header(node_a, 1, k='z', s=b.sid, t='t', d='4x'),
            header(node_a, 'x1', k='m', s=b.sid, t='t', d='4x'),
            header(node_a, 2, k='m', s=b.sid, t='t', d=b'\xff\xfe'),
            header(node_a, 3, k='m', s=b.sid, t='t', d='9not-a-packet'),
            header(node_a, 4, k='m', s=b.sid, t='t', d='4' + 'x' * 70000),
            header(node_a, 5, k='m', s='s' * 200, t='t', d='4x'),
            header(node_a, 6, k='m', t='t', d='4x'),          # no sid
            header(node_a, 7, k='m', s=b.sid, t='q', d='4x'),
            header(node_a, 8, k='m', s=a.sid, t='t', d='4x'),  # not B's sid
        ]
        for fields in bad:
            r.xadd(inbox, fields)
            r.xadd('engineio:bcast', fields)
        # B (and A, on the broadcast stream) go on relaying
        a.send('send %s after' % b.sid)
        b.send('bcast after-bcast')
        assert wait_for(lambda: 'after' in b.got())
        assert wait_for(lambda: 'after-bcast' in a.got())
        assert not [m for m in b.got() + a.got()
                    if isinstance(m, str) and 'x' * 100 in m]
        assert '9not-a-packet' not in b.got()
        for h in (a_host, b_host):
            assert h.proc.alive() if kind != 'async' else \
                h.proc.proc.poll() is None
        log = b_host.log()
        assert log.count('dropped entry') >= 11, log[-3000:]
        assert 'foreign' in log and 'oversized' in log
        assert 'not of this process' in log
    finally:
        r.close()
        a.close()
        b.close()
