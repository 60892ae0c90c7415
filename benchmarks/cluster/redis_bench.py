"""Cross-process figures of the Redis client manager: two server processes
(the built-in server, AsyncServer + AsyncRedisManager) sharing one local
redis-server, websocket clients in this process.

    python benchmarks/cluster/redis_bench.py [--clients 100] [--n 200]
                                             [--pings 2000]

- ``send(sid)`` latency: a client of process A asks A to send to a client
  of process B (A -> Redis -> B), one message in flight; the same to a
  client of A itself as the baseline; p50/p99 as the clients see it (the
  client->server hop included in both).
- broadcast: ``--clients`` clients on each process, A broadcasts ``--n``
  messages; deliveries/s until every client has all of them, and the CPU
  of both servers and of redis-server per delivery (from /proc).

Everything runs on this machine: the servers, Redis and the clients share
its cores, so the figures are an upper bound on cost and a lower bound on
throughput, not a scaling result.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time

from bench_common import Client, free_port, latency, stop, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TICK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def bench(args, ports, pids):
    a1, a2, b1 = Client(ports[0]), Client(ports[0]), Client(ports[1])
    for c in (a1, a2, b1):
        await c.open()
    await asyncio.sleep(2.5)     # a heartbeat: both processes registered
    await latency(a1, b1, 200)   # warm up
    cross = await latency(a1, b1, args.pings)
    local = await latency(a1, a2, args.pings)
    print('send(sid) latency, %d messages one at a time (client-observed):'
          % args.pings)
    print('  other process, through Redis: p50 %7.0f us  p99 %7.0f us'
          % cross)
    print('  same process (baseline):      p50 %7.0f us  p99 %7.0f us'
          % local)
    for c in (a1, a2, b1):
        await c.close()

    clients = [Client(ports[i % 2]) for i in range(2 * args.clients)]
    for c in clients:
        await c.open()
    await asyncio.sleep(1.5)
    total = len(clients) * args.n
    before = [cpu_seconds(p) for p in pids]
    t0 = time.perf_counter()
    await clients[0].send('bb %d' % args.n)
    deadline = time.monotonic() + 60
    while (sum(c.count for c in clients) < total and
           time.monotonic() < deadline):
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - t0
    after = [cpu_seconds(p) for p in pids]
    got = sum(c.count for c in clients)
    used = [b - a for a, b in zip(before, after)]
    print('broadcast: %d messages to %d clients (%d per process): %d of %d '
          'deliveries in %.2f s = %.0f deliveries/s'
          % (args.n, len(clients), args.clients, got, total, elapsed,
             got / elapsed))
    print('  CPU per delivery: server A %.2f us, server B %.2f us, '
          'redis-server %.2f us (per broadcast message: redis %.1f us)'
          % (used[0] / got * 1e6, used[1] / got * 1e6, used[2] / got * 1e6,
             used[2] / args.n * 1e6))
    for c in clients:
        await c.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--clients', type=int, default=100)
    parser.add_argument('--n', type=int, default=200)
    parser.add_argument('--pings', type=int, default=2000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='redis-bench-')
    rport = free_port()
    redis = subprocess.Popen(
        [shutil.which('redis-server') or '/usr/bin/redis-server', '--port',
         str(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly',
         'no', '--dir', tmp], stdout=subprocess.DEVNULL)
    url = 'redis://127.0.0.1:%d/0' % rport
    env = dict(os.environ, PYTHONPATH=ROOT)
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'benchmarks', 'cluster',
                                      'redis_app.py'),
         '--redis', url, '--port', str(p)], env=env, cwd=ROOT)
        for p in ports]
    try:
        for p, s in zip(ports, servers):
            wait_port(p, s)
        wait_port(rport, redis)
        asyncio.run(bench(args, ports, [s.pid for s in servers] +
                          [redis.pid]))
    finally:
        for proc in servers + [redis]:
            stop(proc, 10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
