"""Issue 13, item 6: the built-in server with 4 workers
(``engineio-fast app --workers 4``) whose AsyncServer has
engineio_fast.AsyncRedisManager, against the official engine.io-client:
each worker's manager runs in the worker (its own node id, its own Redis
connection), a broadcast reaches every session of every worker once, a
send(sid) and a disconnect(sid) reach a session owned by another worker,
and get_participants lists the sessions of all four. Every message is
counted."""

import collections
import re

import pytest

from tests.cluster_redis.helpers import drive_node, four_workers

pytestmark = [pytest.mark.timeout(150), pytest.mark.interop]

SESSIONS = 200
BURSTS = 20
KICKS = 5
CONNECTED = re.compile(r'connected to Redis as node (\S+)')


def drive(url, transports):
    return drive_node('builtin_workers.mjs', {
        'url': url, 'sessions': SESSIONS, 'minNodes': 3,
        'transports': transports, 'bursts': BURSTS, 'kicks': KICKS,
        'timeoutMs': 100000})


WS, UPGRADE = ['websocket'], ['polling', 'websocket']


@pytest.mark.parametrize('via,kernels,transports', [
    ('cli', 'compiled', WS), ('cli', 'compiled', UPGRADE),
    ('cli', 'pure', WS), ('cli', 'pure', UPGRADE),
    ('run', 'compiled', UPGRADE)],
    ids=['cli-compiled-websocket', 'cli-compiled-upgrade',
         'cli-pure-websocket', 'cli-pure-upgrade', 'run-compiled-upgrade'])
def test_four_workers_one_redis(redis_srv, tmp_path, via, kernels,
                                transports):
    app = 'tests.cluster_redis.workers_app'
    out, log = four_workers(app + ':eio', app, via, kernels, redis_srv.url,
                            tmp_path, lambda url: drive(url, transports))
    sessions = out['sessions']
    assert [s['error'] for s in sessions if s['error']] == [], log[-3000:]
    assert len(sessions) >= SESSIONS
    # every worker registered with Redis under its own node id: the
    # supervisor's tag and the worker's slot
    nodes = set(CONNECTED.findall(log))
    tag = {n[:5] for n in nodes}
    assert len(nodes) == 4 and len(tag) == 1, nodes
    owners = collections.Counter(s['node'] for s in sessions)
    assert set(owners) <= nodes and len(owners) >= 3, owners
    for s in sessions:
        assert s['sid'][:6] == s['node'], s
    n = len(sessions)
    for i, s in enumerate(sessions):
        got = s['got']
        # one broadcast, once
        assert got.count('B-one') == 1, (i, got[-5:])
        # the burst, every one once and in order
        burst = [m for m in got if m.startswith('T:')]
        assert burst == ['T:%d' % j for j in range(BURSTS)], (i, burst[-3:])
        # the send from the previous session's worker, once
        sent = [m for m in got if m.startswith('s:')]
        assert sent == ['s:%d' % ((i - 1) % n)], (i, sent)
        assert s['close'] is None or s['kicked'], (i, s['close'])
    # the kicked sessions (owned by other workers than the kicker's) closed
    kicked = [s for s in sessions if s['kicked']]
    assert len(kicked) == KICKS
    assert all(s['node'] != sessions[0]['node'] for s in kicked)
    assert all(s['close'] for s in kicked)
    # get_participants in one worker listed every session of every worker
    assert out['who'] is not None, 'get_participants never listed all'
    assert set(out['who']) == {s['sid'] for s in sessions}
    assert 'Traceback' not in log, log[-3000:]
