"""What handing a connection between workers costs per polling request.

    python benchmarks/cluster/run.py                  # 3 runs of 8 s per row
    python benchmarks/cluster/run.py --runs 1 --seconds 4 --conns 20

Rows (the built-in server, ``benchmarks/load/apps/fast_app.py:eio``, pinned
to core 0 with all its workers; the generator ``handoff.mjs`` on core 1):

- ``1 worker``: each keep-alive connection carries two sessions whose
  requests alternate (POST a, POST b, GET a, GET b); nothing to hand over.
- ``4 workers, no hand-off``: the same, both sessions of one worker: after
  its first request a connection stays with that worker (connection ``i``
  with worker ``i mod 4``: every worker is busy).
- ``4 workers, hand-off per request``: the two sessions of two different
  workers (``i mod 4`` and ``i+1 mod 4``): every request reaches a worker
  that does not hold the connection, which hands it (descriptor and bytes)
  to the owner.
- ``..., a connection per request``: the rounds of ``hand-off per
  request``, each request on a new connection (closed after its answer):
  with 4 workers the supervisor accepts each and hands it to the session's
  worker; 1 worker accepts them itself.
- ``one process, ...``: the same two modes against ``one_process.py``: two
  servers in one process and event loop joined by the real hand-off
  channel, so the difference is the hand-off's own CPU, without switching
  between processes.

Each row: requests/s and server CPU per request (utime+stime of the
supervisor and every worker from /proc over the timed window, divided by
the requests). Results: ``results/results.json`` and ``results/results.md``.
"""

import argparse
import collections
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time

from bench_common import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(HERE, 'results')
TICK = os.sysconf('SC_CLK_TCK')
APP = 'benchmarks.load.apps.fast_app:eio'
ROWS = [('1 worker', 1, 'local'), ('4 workers, no hand-off', 4, 'local'),
        ('4 workers, hand-off per request', 4, 'cross'),
        ('1 worker, a connection per request', 1, 'fresh'),
        ('4 workers, a connection per request', 4, 'fresh'),
        ('one process, 2 servers, no hand-off', 0, 'local'),
        ('one process, 2 servers, hand-off per request', 0, 'cross')]


def cpu_ticks(pid):
    """utime+stime of ``pid`` and its children (the workers), in ticks."""
    pids = [pid]
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/stat' % p) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def wait_listening(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('server exited with %s' % proc.returncode)
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('server did not listen')


def measure(workers, mode, conns, seconds):
    port = free_port()
    if workers:
        cmd = ['-m', 'engineio_fast', APP, '--workers', str(workers),
               '--port', str(port), '--log-level', 'warning']
    else:       # the hand-off between two servers in one process
        port2 = free_port()
        cmd = [os.path.join(HERE, 'one_process.py'), str(port), str(port2)]
    server = subprocess.Popen(
        ['taskset', '-c', '0', sys.executable] + cmd,
        cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gen = None
    try:
        wait_listening(port, server)
        time.sleep(0.5)           # every worker has started
        cfg = {'port': port, 'conns': conns, 'mode': mode,
               'seconds': seconds}
        if not workers:
            cfg['handshakePorts'] = [port, port2]
        gen = subprocess.Popen(
            ['taskset', '-c', '1', 'node', os.path.join(HERE, 'handoff.mjs'),
             json.dumps(cfg)], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        line = gen.stdout.readline()
        if line.strip() != b'GO':
            raise RuntimeError('generator: %r %r' % (line, gen.stderr.read()))
        t0 = cpu_ticks(server.pid)
        out = gen.stdout.readline()
        t1 = cpu_ticks(server.pid)
        gen.wait(10)
        result = json.loads(out)
        # which workers the connections joined, counted (not listed)
        result['pairs'] = dict(collections.Counter(
            '-'.join(pair) for pair in result.get('pairs', [])))
        result['server_cpu_s'] = (t1 - t0) / TICK
        result['cpu_us_per_request'] = (
            1e6 * result['server_cpu_s'] / result['requests']
            if result['requests'] else None)
        return result
    finally:
        if gen is not None and gen.poll() is None:
            gen.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def report(results):
    lines = ['# Hand-off between workers: polling requests',
             '',
             'Machine: %s, %d cores. Server (all workers) on core 0, '
             'generator on core 1; %d connections; %d run(s) of %.0f s per '
             'row, medians.' % (results['machine'], results['cores'],
                                results['conns'], results['runs'],
                                results['seconds']),
             '',
             '| row | requests/s | server CPU per request (µs) | '
             'errors |',
             '|---|---:|---:|---:|']
    for row in results['rows']:
        lines.append('| %s | %.0f | %.1f | %d |' % (
            row['name'], row['rate'], row['cpu_us_per_request'],
            row['errors']))
    base = {r['name']: r for r in results['rows']}
    lines.append('')
    for local, cross, what in ((1, 2, '4 workers'),
                               (3, 4, 'one process')):
        a, b = base.get(ROWS[local][0]), base.get(ROWS[cross][0])
        if a and b:
            lines.append('- %s: a hand-off per request costs %.1f µs of '
                         'server CPU more per request.' % (
                             what, b['cpu_us_per_request'] -
                             a['cpu_us_per_request']))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--seconds', type=float, default=8.0)
    parser.add_argument('--conns', type=int, default=20)
    parser.add_argument('--out', default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    for name, workers, mode in ROWS:
        runs = [measure(workers, mode, args.conns, args.seconds)
                for _ in range(args.runs)]
        for r in runs:
            print('%-32s %8.0f req/s  %6.1f µs CPU/request  errors %d'
                  % (name, r['rate'], r['cpu_us_per_request'], r['errors']),
                  flush=True)
        rows.append({
            'name': name, 'workers': workers, 'mode': mode, 'runs': runs,
            'rate': statistics.median(r['rate'] for r in runs),
            'cpu_us_per_request': statistics.median(
                r['cpu_us_per_request'] for r in runs),
            'errors': sum(r['errors'] for r in runs)})
    results = {'machine': platform.processor() or platform.machine(),
               'cores': os.cpu_count(), 'conns': args.conns,
               'runs': args.runs, 'seconds': args.seconds, 'rows': rows,
               'loadavg_at_start': open('/proc/loadavg').read().split()[:3]}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, 'results.md'), 'w') as f:
        f.write(report(results))
    print(report(results))


if __name__ == '__main__':
    main()
