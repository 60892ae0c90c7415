"""Soak: the built-in server under churning sessions for a while, and what it
holds afterwards.

    python benchmarks/soak.py [--duration 600] [--ws 10000] [--polling 1000]

starts ``python -m engineio_fast benchmarks.load.apps.soak_app:app`` (pinned
to core 0) and the Node load generator's ``soak`` scenario (core 1):
``--ws`` websocket and ``--polling`` polling sessions alive at once, each
opening, echoing a few messages over a few seconds, then closing, or (one in
ten) vanishing without a close, and starting again. Then it waits for the
server to let go of the vanished sessions (5 s heartbeats, 5 s timeout) and
checks, printing one JSON object (``--out`` writes it too):

- every message accounted for: echoed byte for byte, none lost, no error;
- RSS flat after warm-up: every sample after the first quarter of the run
  (15 s at least) within +-10 % of the first of them;
- file descriptors back to where they were before the run (+-8), threads
  no more than before, asyncio tasks and timer-heap entries back to the
  idle server's (plus at most one idle carrier Task, which the eager
  handler start keeps to lend to the next handler), no session left.

Exit status 1 when a check fails. ``.ci/run`` runs it for 60 s; the README's
Reliability section gives a 10-minute run's figures. Targets only
127.0.0.1; every wait is bounded.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADGEN = os.path.join(REPO, 'benchmarks', 'load', 'loadgen.mjs')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def raise_nofile(need, minimum=None):
    """Raise this process's open-file limit (children inherit it) to
    ``need``, or as far as the hard limit allows; exit if that is under
    ``minimum`` (default ``need``). Raising the hard limit needs
    CAP_SYS_RESOURCE."""
    minimum = need if minimum is None else minimum
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return
        except (ValueError, OSError):
            if hard < minimum:
                sys.exit('RLIMIT_NOFILE hard limit %d < %d (raising it needs '
                         'CAP_SYS_RESOURCE)' % (hard, minimum))
            need = hard
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def taskset(core):
    try:
        subprocess.run(['taskset', '-c', '0', 'true'], check=True,
                       capture_output=True)
        return ['taskset', '-c', core]
    except (OSError, subprocess.CalledProcessError):
        return []


def stop(proc, timeout=30):
    """SIGTERM, a bounded wait, then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def get_stats(port):
    with urllib.request.urlopen('http://127.0.0.1:%d/stats' % port,
                                timeout=5) as r:
        return json.loads(r.read())


def fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--duration', type=float, default=600)
    ap.add_argument('--ws', type=int, default=10000)
    ap.add_argument('--polling', type=int, default=1000)
    ap.add_argument('--out')
    args = ap.parse_args(argv)
    raise_nofile(args.ws + args.polling + 4096)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=REPO)
    server = subprocess.Popen(
        taskset('0') + [sys.executable, '-m', 'engineio_fast',
                        'benchmarks.load.apps.soak_app:app',
                        '--host', '127.0.0.1', '--port', str(port),
                        '--no-access-log'],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    result = {'duration_s': args.duration, 'ws': args.ws,
              'polling': args.polling}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                base = get_stats(port)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit('soak: the server did not start: %s'
                             % server.stderr.read()[-2000:])
                time.sleep(0.2)
        time.sleep(1)
        base = get_stats(port)
        base.update(fds=fds(server.pid), rss_kib=rss_kib(server.pid))
        result['before'] = base
        cfg = {'scenario': 'soak', 'port': port, 'pid': server.pid,
               'duration_s': args.duration,
               'deadline_s': args.duration + 240,
               'params': {'ws': args.ws, 'polling': args.polling}}
        gen = subprocess.run(taskset('1') + ['node', LOADGEN, json.dumps(cfg)],
                             cwd=REPO, capture_output=True, text=True,
                             timeout=args.duration + 300)
        try:
            load = json.loads(gen.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            sys.exit('soak: the load generator failed: %s %s'
                     % (gen.stdout[-2000:], gen.stderr[-2000:]))
        if 'error' in load:
            sys.exit('soak: the load generator failed: %s' % load['error'])
        result['load'] = load
        # the vanished sessions end by their ping timeout (~10 s)
        deadline = time.monotonic() + 60
        while True:
            after = get_stats(port)
            after.update(fds=fds(server.pid), rss_kib=rss_kib(server.pid))
            settled = (after['sessions'] == 0 and after['closing'] == 0 and
                       after['fds'] <= base['fds'] + 8)
            if settled or time.monotonic() > deadline:
                break
            time.sleep(1)
        result['after'] = after
    finally:
        stop(server)
    result['checks'] = checks = evaluate(result)
    result['ok'] = all(ok for ok, _ in checks.values())
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    print(text)
    for name, (ok, detail) in checks.items():
        print('%-10s %s  %s' % (name, 'ok  ' if ok else 'FAIL', detail))
    return 0 if result['ok'] else 1


def evaluate(result):
    load, base, after = result['load'], result['before'], result['after']
    checks = {}
    accounted = load['sent'] == load['echoed'] and load['errors'] == 0
    checks['messages'] = (accounted and load['echoed'] > 0,
                          'sent %d, echoed %d, lost %d, errors %d (%s); '
                          'connect failures %d' % (
                              load['sent'], load['echoed'], load['lost'],
                              load['errors'], load.get('first_error'),
                              load['connect_failures']))
    warm = max(result['duration_s'] / 4, 15.0)
    rss = [s['rss_kib'] for s in load['samples'] if s['t'] >= warm]
    if len(rss) >= 2:
        ref = rss[0]
        spread = (min(rss) / ref - 1, max(rss) / ref - 1)
        checks['rss'] = (-0.10 <= spread[0] and spread[1] <= 0.10,
                         'after warm-up %d samples, %.1f to %.1f MiB '
                         '(%+.1f %% .. %+.1f %% of the first)' % (
                             len(rss), min(rss) / 1024, max(rss) / 1024,
                             spread[0] * 100, spread[1] * 100))
    else:
        checks['rss'] = (False, 'too few samples after warm-up')
    checks['fds'] = (after['fds'] <= base['fds'] + 8,
                     'before %d, after %d' % (base['fds'], after['fds']))
    held = {k: (base[k], after[k]) for k in
            ('sessions', 'closing', 'timers', 'tasks', 'idle_carriers',
             'threads')}
    checks['held'] = (after['sessions'] == 0 and after['closing'] == 0 and
                      after['timers'] <= base['timers'] and
                      after['tasks'] <= base['tasks'] and
                      after['threads'] <= base['threads'] and
                      after['idle_carriers'] <= 1,
                      ' '.join('%s %d->%d' % (k, a, b)
                               for k, (a, b) in held.items()))
    peak = max(s['ws_alive'] + s['polling_alive'] for s in load['samples'])
    checks['load'] = (load['connect_failures'] == 0,
                      '%d ws + %d polling sessions opened (%d vanished) '
                      'in %.0f s, up to %d alive at once' % (
                          load['ws_opened'], load['polling_opened'],
                          load['ws_vanished'] + load['polling_vanished'],
                          load['duration_s'], peak))
    return checks


if __name__ == '__main__':
    sys.exit(main())
