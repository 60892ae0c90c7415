"""What forwarding a polling request through Redis costs (issue 13, item
4): two uvicorn processes (one worker each, ports A and B) serve the same
ASGIApp with the AsyncRedisManager on one local redis-server. Sessions are
opened on B; then a polling round trip (POST a message, GET its echo, each
on its own keep-alive connection) is made either on B (direct: the owner)
or on A (both requests forwarded to B through Redis).

    python benchmarks/cluster/forward_bench.py [--rounds 2000]
                                               [--server gunicorn]

``--server gunicorn``: the sync Server with the RedisManager on gunicorn
(gthread, one worker each) instead of the AsyncServer on uvicorn.

Reported: the client-observed time per round trip (p50/p99) and the CPU of
both servers and redis-server per request, from /proc. One machine: the
servers, Redis and this client share its cores.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import free_port, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TICK = os.sysconf('SC_CLK_TCK')
PATH = '/engine.io/?EIO=4&transport=polling'


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        for task in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/stat' % (pid, task)) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def children(pid):
    out = subprocess.run(['ps', '-o', 'pid=', '--ppid', str(pid)],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def rounds(port, sid, count):
    post = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    get = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    times = []
    for i in range(count):
        t0 = time.perf_counter()
        post.request('POST', PATH + '&sid=' + sid, body=b'4m%d' % i)
        resp = post.getresponse()
        assert resp.read() == b'ok', resp.status
        get.request('GET', PATH + '&sid=' + sid)
        resp = get.getresponse()
        body = resp.read()
        assert body == b'4m%d' % i, (resp.status, body)
        times.append(time.perf_counter() - t0)
    post.close()
    get.close()
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * .99) - 1] * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=2000)
    parser.add_argument('--server', choices=['uvicorn', 'gunicorn'],
                        default='uvicorn')
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='forward-bench-')
    rport = free_port()
    redis = subprocess.Popen(
        [shutil.which('redis-server') or '/usr/bin/redis-server', '--port',
         str(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly',
         'no', '--dir', tmp], stdout=subprocess.DEVNULL)
    env = dict(os.environ, PYTHONPATH=ROOT,
               REDIS_URL='redis://127.0.0.1:%d/0' % rport)
    ports = [free_port(), free_port()]
    def argv(port):
        if args.server == 'uvicorn':
            return [sys.executable, '-m', 'uvicorn',
                    'benchmarks.cluster.redis_asgi_app:app', '--port',
                    str(port), '--log-level', 'warning', '--no-access-log']
        return [sys.executable, '-m', 'gunicorn', '-w', '1', '-k', 'gthread',
                '--threads', '8', '-b', '127.0.0.1:%d' % port,
                '--log-level', 'warning', '--no-control-socket',
                'benchmarks.cluster.redis_wsgi_app:app']
    servers = [subprocess.Popen(argv(p), env=env, cwd=ROOT,
                                start_new_session=True) for p in ports]
    try:
        for p in ports + [rport]:
            wait_port(p)
        time.sleep(1.0)
        # gunicorn: the worker (child of the arbiter) does the work
        pids = [(children(s.pid) or [s.pid])[0] if args.server == 'gunicorn'
                else s.pid for s in servers] + [redis.pid]
        conn = http.client.HTTPConnection('127.0.0.1', ports[1], timeout=10)
        conn.request('GET', PATH)
        sid = json.loads(conn.getresponse().read()[1:])['sid']
        conn.close()
        rounds(ports[0], sid, 200)     # warm up both paths
        rounds(ports[1], sid, 200)
        for name, port in (('direct (on the owner)', ports[1]),
                           ('forwarded through Redis', ports[0])):
            before = [cpu_seconds([p]) for p in pids]
            p50, p99 = rounds(port, sid, args.rounds)
            used = [cpu_seconds([p]) - b for p, b in zip(pids, before)]
            per = [u / (2 * args.rounds) * 1e6 for u in used]
            print('%-24s POST+GET p50 %6.0f us  p99 %6.0f us' %
                  (name, p50, p99))
            print('%-24s CPU per request: %5.0f us (server A %.0f, server '
                  'B (owner) %.0f, redis %.0f)' % ('', sum(per), *per))
    finally:
        for s in servers:
            try:
                os.killpg(s.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                s.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(s.pid, signal.SIGKILL)
                s.wait(10)
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
