"""Issue 13, item 5: python-socketio with its own ``socketio.AsyncRedisManager``
(pub/sub) on the built-in server with 4 workers, against the official
socket.io-client: a broadcast and a room emit reach the sessions of every
worker once, an emit to a sid and a room join of a sid reach the worker
that owns it, and ``sio.disconnect(sid)`` disconnects another worker's
session, and ``sio.call`` to another worker's session gets its answer
(python-socketio handles the ack packet inline in the engine's message
handler and publishes it to the caller's worker: redis-py needs a current
asyncio Task there, which the engine's eager handler start lends). Each worker's manager has its own host id (python-socketio draws it
in the manager's constructor and drops the messages carrying its own: a
host id shared by forked workers would lose every cross-worker emit and
ack): by the command line, which imports the app in each worker, and by
``engineio_fast.run(sio, workers=4)``, which forks the object and gives
each worker's manager a new host id."""

import collections

import pytest

from tests.cluster_redis.helpers import drive_node, four_workers

pytestmark = [pytest.mark.timeout(150), pytest.mark.interop]

SESSIONS = 120
ASKS = 10
APP = 'tests.cluster_redis.sio_workers_app'
WS, UPGRADE = ['websocket'], ['polling', 'websocket']


def drive(url, transports):
    return drive_node('sio_workers.mjs', {
        'url': url, 'sessions': SESSIONS, 'minNodes': 3,
        'transports': transports, 'asks': ASKS, 'timeoutMs': 100000})


@pytest.mark.parametrize('via,kernels,transports', [
    ('cli', 'compiled', UPGRADE), ('cli', 'pure', WS),
    ('run', 'compiled', WS)],
    ids=['cli-compiled-upgrade', 'cli-pure-websocket',
         'run-compiled-websocket'])
def test_socketio_redis_manager_on_four_workers(redis_srv, tmp_path, via,
                                                kernels, transports):
    out, log = four_workers(APP + ':sio', APP, via, kernels, redis_srv.url,
                            tmp_path, lambda url: drive(url, transports))
    sessions = out['sessions']
    assert [s['error'] for s in sessions if s['error']] == [], log[-3000:]
    # python-socketio's manager lost nothing on its way to Redis, and the
    # workers stopped cleanly (its listener cancelled before its async
    # generators were closed)
    for line in ('Cannot publish', 'Cannot receive',
                 'asynchronous generator is already running'):
        assert line not in log, log[-3000:]
    n = len(sessions)
    assert n >= SESSIONS
    # several workers own sessions, each with its own manager host id
    by_node = collections.defaultdict(set)
    for s in sessions:
        by_node[s['node']].add(s['hostId'])
    assert len(by_node) >= 3, dict(by_node)
    assert all(len(h) == 1 for h in by_node.values()), dict(by_node)
    hosts = [next(iter(h)) for h in by_node.values()]
    assert len(set(hosts)) == len(hosts), dict(by_node)
    for i, s in enumerate(sessions):
        got = collections.Counter((e, d) for e, d in s['got'])
        expect = collections.Counter({('all', 'A'): 1,
                                      ('direct', 'd:%d' % ((i - 1) % n)): 1})
        if i % 3 == 0:
            expect[('room', 'R0')] = 1
        if i == out['extra']:
            expect[('room', 'X')] = 1
        assert got == expect, (i, s['got'])
    assert sessions[out['extra']]['node'] != sessions[0]['node']
    asked = out['asked']
    assert len(asked) == ASKS
    for a in asked:
        assert sessions[a['target']]['node'] != sessions[0]['node']
        assert a['answer'] == 'answer:q%d:%d' % (a['target'], a['target']), \
            (a, sessions[a['target']]['node'], log[-3000:])
    # sio.disconnect(sid) of another worker's session: it was disconnected
    # by the server, and no other session was
    victim = sessions[out['victim']]
    assert victim['node'] != sessions[0]['node']
    assert victim['kicked'] == 'io server disconnect', victim['kicked']
    assert [s for s in sessions if s['kicked']] == [victim]
    assert 'Traceback' not in log, log[-3000:]
