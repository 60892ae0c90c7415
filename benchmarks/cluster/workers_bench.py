"""Broadcast and cross-process ``send(sid)`` with 1, 2 and 4 built-in
workers (``engineio-fast app --workers N``) and engineio_fast's
AsyncRedisManager, in one run::

    python benchmarks/cluster/workers_bench.py
    python benchmarks/cluster/workers_bench.py --clients 200 --n 500 \\
        --pings 2000 --runs 3

For each worker count: a fresh local redis-server, the server
(``workers_redis_app.py``), ``--clients`` raw Engine.IO websocket clients
in this process spread evenly over the workers (a connection lands on the
worker the kernel picks; the clients keep opening until each worker has
its share, then close the extra ones).

- ``send(sid)``: a client of worker 0 asks its worker to send to a client
  of worker 1 (worker 0's own other client with 1 worker), one message in
  flight, ``--pings`` times; p50/p99 of what the client sees (the
  client -> server hop included).
- broadcast: a client of worker 0 asks for ``--n`` broadcasts; deliveries/s
  until every client has all of them (median of ``--runs``).

Beside each rate: CPU per operation of the server (supervisor and every
worker, every thread's run time from /proc/PID/task/TID/schedstat over the
timed window), of redis-server (INFO cpu; per
broadcast message: Redis sees one entry per broadcast, not per delivery)
and of the clients (this process).
Results: ``results/workers.json`` and ``results/workers.md``.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from bench_common import Client, free_port, latency, stop, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 55.0      # bound of one timed phase


def cpu_seconds(pids):
    """CPU seconds of ``pids``, all their threads: schedstat's run time
    in ns (the tick-based utime+stime of /proc/PID/stat is 10 ms coarse)."""
    total = 0.0
    for pid in pids:
        try:
            tasks = os.listdir('/proc/%d/task' % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                    total += int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
    return total


def redis_cpu(port):
    """redis-server's CPU seconds (INFO cpu: microsecond resolution)."""
    with socket.create_connection(('127.0.0.1', port), 5) as sock:
        sock.sendall(b'INFO cpu\r\n')
        data = b''
        while data.count(b'\r\n') < 2 or not data.endswith(b'\r\n'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    fields = dict(line.split(':', 1) for line in data.decode().splitlines()
                  if line.startswith('used_cpu_') and ':' in line)
    return float(fields['used_cpu_sys']) + float(fields['used_cpu_user'])


def children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


async def spread(port, clients, workers):
    """``clients`` open clients, as many on each worker (bounded)."""
    share = clients // workers
    by_slot = {}
    extra = []
    for _ in range(clients * 6):
        if len(by_slot) == workers and all(
                len(v) >= share for v in by_slot.values()):
            break
        c = Client(port)
        await c.open()
        group = by_slot.setdefault(c.slot, [])
        (group if len(group) < share else extra).append(c)
    for c in extra:
        await c.close()
    if len(by_slot) < workers or any(len(v) < share
                                     for v in by_slot.values()):
        raise SystemExit('could not spread the clients: %r'
                         % {k: len(v) for k, v in by_slot.items()})
    return [by_slot[k] for k in sorted(by_slot)]


async def broadcast(sender, clients, n):
    for c in clients:
        c.count = 0
    total = len(clients) * n
    t0 = time.perf_counter()
    await sender.send('bb %d' % n)
    deadline = time.monotonic() + TIMEOUT
    while (sum(c.count for c in clients) < total and
           time.monotonic() < deadline):
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(0.3)          # duplicates, if any, arrive now
    got = sum(c.count for c in clients)
    return got, total, elapsed


async def measure(args, port, server_pids, redis_port, workers):
    groups = await spread(port, args.clients, workers)
    clients = [c for g in groups for c in g]
    await asyncio.sleep(2.5)          # heartbeats: every worker's sids known
    sender = groups[0][0]
    target = groups[1][0] if workers > 1 else groups[0][1]
    await latency(sender, target, 200)            # warm-up
    s0, r0 = cpu_seconds(server_pids), redis_cpu(redis_port)
    p50, p99 = await latency(sender, target, args.pings)
    s1, r1 = cpu_seconds(server_pids), redis_cpu(redis_port)
    row = {'workers': workers, 'clients': len(clients),
           'send_p50_us': round(p50), 'send_p99_us': round(p99),
           'send_server_cpu_us': round((s1 - s0) / args.pings * 1e6, 1),
           'send_redis_cpu_us': round((r1 - r0) / args.pings * 1e6, 1),
           'send_cross_process': workers > 1}
    runs = []
    for _ in range(args.runs):
        s0, r0 = cpu_seconds(server_pids), redis_cpu(redis_port)
        c0 = time.process_time()
        got, total, elapsed = await broadcast(sender, clients, args.n)
        c1 = time.process_time()
        s1, r1 = cpu_seconds(server_pids), redis_cpu(redis_port)
        runs.append({'got': got, 'expected': total, 'seconds': elapsed,
                     'per_s': got / elapsed,
                     'client_cpu_us': (c1 - c0) / max(got, 1) * 1e6,
                     'server_cpu_us': (s1 - s0) / max(got, 1) * 1e6,
                     'redis_cpu_us_per_broadcast': (r1 - r0) / args.n * 1e6})
    med = sorted(runs, key=lambda r: r['per_s'])[len(runs) // 2]
    row.update({'bcast_deliveries_per_s': round(med['per_s']),
                'bcast_server_cpu_us': round(med['server_cpu_us'], 2),
                'bcast_redis_cpu_us_per_broadcast': round(
                    med['redis_cpu_us_per_broadcast'], 1),
                'bcast_client_cpu_us': round(med['client_cpu_us'], 2),
                'bcast_all_delivered': all(r['got'] == r['expected']
                                           for r in runs),
                'bcast_runs': runs})
    for c in clients:
        await c.close()
    return row


def one(args, workers):
    tmp = tempfile.mkdtemp(prefix='workers-bench-')
    rport, port = free_port(), free_port()
    redis = subprocess.Popen(
        [shutil.which('redis-server') or '/usr/bin/redis-server', '--port',
         str(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly',
         'no', '--dir', tmp], stdout=subprocess.DEVNULL)
    env = dict(os.environ, REDIS_URL='redis://127.0.0.1:%d/0' % rport,
               PYTHONPATH=os.pathsep.join([HERE, ROOT]))
    server = subprocess.Popen(
        [sys.executable, '-m', 'engineio_fast', 'workers_redis_app:eio',
         '--workers', str(workers), '--port', str(port), '--log-level',
         'warning'], env=env, cwd=HERE, stdout=subprocess.DEVNULL)
    try:
        wait_port(rport, redis)
        wait_port(port, server)
        pids = [server.pid] + children(server.pid)
        return asyncio.run(measure(args, port, pids, rport, workers))
    finally:
        for proc in (server, redis):
            stop(proc, 15)
        shutil.rmtree(tmp, ignore_errors=True)


def write(args, rows):
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    meta = {'machine': platform.machine(), 'cores': os.cpu_count(),
            'python': platform.python_version(), 'clients': args.clients,
            'broadcasts': args.n, 'pings': args.pings, 'runs': args.runs}
    with open(os.path.join(HERE, 'results', 'workers.json'), 'w') as f:
        json.dump({'meta': meta, 'rows': rows}, f, indent=1)
    lines = [
        '# Built-in workers with AsyncRedisManager: broadcast and '
        'send(sid)', '',
        'Machine: %s, %d cores (servers, redis-server and the clients '
        'share them). %d websocket clients spread evenly over the workers; '
        '%d broadcasts per run, median of %d runs; %d send(sid) one at a '
        'time. Command: `python benchmarks/cluster/workers_bench.py '
        '--clients %d --n %d --pings %d --runs %d`.'
        % (meta['machine'], meta['cores'], args.clients, args.n, args.runs,
           args.pings, args.clients, args.n, args.pings, args.runs), '',
        '| workers | broadcast deliveries/s | server CPU per delivery (µs) '
        '| redis CPU per broadcast (µs) | client CPU per delivery (µs) '
        '| all delivered | send(sid) p50 (µs) '
        '| p99 (µs) | server CPU per send (µs) | redis CPU per send (µs) |',
        '|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append('| %d | %d | %.2f | %.1f | %.2f | %s | %d | %d | %.1f '
                     '| %.1f |'
                     % (r['workers'], r['bcast_deliveries_per_s'],
                        r['bcast_server_cpu_us'],
                        r['bcast_redis_cpu_us_per_broadcast'],
                        r['bcast_client_cpu_us'],
                        'yes' if r['bcast_all_delivered'] else 'NO',
                        r['send_p50_us'], r['send_p99_us'],
                        r['send_server_cpu_us'], r['send_redis_cpu_us']))
    lines += ['', 'With 1 worker send(sid) stays in the process (the '
              'baseline); with 2 and 4 it goes worker 0 -> Redis -> '
              'worker 1.', '']
    with open(os.path.join(HERE, 'results', 'workers.md'), 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--workers', default='1,2,4')
    parser.add_argument('--clients', type=int, default=200)
    parser.add_argument('--n', type=int, default=500)
    parser.add_argument('--pings', type=int, default=2000)
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    rows = [one(args, int(w)) for w in args.workers.split(',')]
    write(args, rows)


if __name__ == '__main__':
    main()
