"""Two server processes on two ports sharing one Redis (two "hosts"):
send, send_packet, disconnect and broadcast reach a session of the other
process; get_participants lists every process's sessions and forgets a
dead process's. The AsyncServer on the built-in server, and the sync
Server on gunicorn (gthread and eventlet workers)."""

import pytest

from engineio_fast.cluster import node
from tests.cluster_redis.helpers import Peer, wait_for

KINDS = ['async', 'gunicorn-gthread', 'gunicorn-eventlet', 'gevent']
pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def test_cross_process_operations(kind, redis_srv, hosts):
    a_host = hosts(kind, redis_srv.url, 'a')
    # the same server named by a valkey:// URL
    b_host = hosts(kind, redis_srv.url.replace('redis://', 'valkey://'), 'b')
    a = Peer(a_host.url)
    b = Peer(b_host.url, transports=['polling'])
    peers = [a, b]
    try:
        # the sids name their processes, and the two differ
        node_a = a.ask('node', 'node ')[5:]
        node_b = b.ask('node', 'node ')[5:]
        assert node_a != node_b
        assert a.sid.startswith(node_a) and b.sid.startswith(node_b)

        # presence: each process lists both sessions (another process's as
        # of its last heartbeat: each view is waited for on its own)
        assert wait_for(lambda: a.who() == {a.sid, b.sid}), a.who()
        assert wait_for(lambda: b.who() == {a.sid, b.sid}), b.who()

        # send and send_packet from A reach b's session on B, in order
        a.send('send %s hello' % b.sid)
        a.send('packet %s pkt' % b.sid)
        assert wait_for(lambda: 'pkt' in b.got())
        got = b.got()
        assert got.index('hello') < got.index('pkt')

        # broadcast from B reaches a (on A) and b; skip_sid skips b
        b.send('bcast everyone')
        assert wait_for(lambda: 'everyone' in a.got() and
                        'everyone' in b.got())
        b.send('bcast notb %s' % b.sid)
        assert wait_for(lambda: 'notb' in a.got())
        b.send('send %s marker' % b.sid)
        assert wait_for(lambda: 'marker' in b.got())
        assert 'notb' not in b.got()
        assert a.got().count('everyone') == 1

        # a sid of B that is no session there: B logs today's warning
        ghost = node_b + 'x' * 14
        a.send('send %s boo' % ghost)
        assert wait_for(lambda: 'Cannot send to sid %s' % ghost
                        in b_host.log())
        # a sid of no live process: A logs it at once
        nobody = node.random_tag(6) + 'y' * 14
        a.send('send %s boo' % nobody)
        assert wait_for(lambda: 'Cannot send to sid %s' % nobody
                        in a_host.log())

        # disconnect from A closes b's session on B
        a.send('kick %s' % b.sid)
        assert b.disconnected.wait(10)
        assert wait_for(lambda: a.who() == {a.sid})

        # a process that dies leaves the others' view within its liveness
        # bound (1.5 s in these apps)
        c = Peer(b_host.url)
        peers.append(c)
        assert wait_for(lambda: a.who() == {a.sid, c.sid})
        b_host.proc.proc.kill() if kind == 'async' else b_host.stop()
        assert wait_for(lambda: a.who() == {a.sid}, timeout=10)
    finally:
        for p in peers:
            p.close()
