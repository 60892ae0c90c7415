"""Many idle websocket sessions on one server process: memory per session
and how late the heartbeats go out.

    python benchmarks/idle.py [--sessions 100000] [--wait 60]
                              [--targets builtin node] [--out FILE]

For each target (the built-in server on ``benchmarks.load.apps.fast_app``,
and Node's engine.io on ``benchmarks/load/node_server.mjs`` for
comparison, both with the default heartbeat: a ping every 25 s), pinned to
core 0, the Node load generator's ``idle`` scenario (core 1) opens
``--sessions`` websocket sessions from 127.0.0.1-127.0.0.8 (more than one
source address has ports for), leaves them idle ``--wait`` seconds,
answering every ping, then reads the server's RSS, checks that every
session is still open and that 1,000 of them echo, and closes them.
Prints one JSON object per target: ``rate`` is KiB of server RSS per
session over the idle server's, ``ping_late_p99_ms`` how late the 99th
percentile ping arrived (its expected time: the session's open packet
plus k times 25 s). Targets only 127.0.0.x; every wait is bounded.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.soak import (  # noqa: E402
    LOADGEN,
    REPO,
    free_port,
    raise_nofile,
    stop,
    taskset,
)

SERVERS = {
    'builtin': [sys.executable, '-m', 'engineio_fast',
                'benchmarks.load.apps.fast_app:eio',
                '--host', '127.0.0.1', '--port', '{port}', '--no-access-log'],
    'node': ['node', 'benchmarks/load/node_server.mjs', '--port', '{port}'],
}


def wait_listening(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    url = 'http://127.0.0.1:%d/engine.io/?EIO=4&transport=polling' % port
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return True
        except OSError:
            time.sleep(0.2)
    return False


def run(target, sessions, wait):
    port = free_port()
    cmd = [a.replace('{port}', str(port)) for a in SERVERS[target]]
    env = dict(os.environ, PYTHONPATH=REPO)
    server = subprocess.Popen(taskset('0') + cmd, cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        if not wait_listening(port, server):
            return {'target': target, 'error': 'server did not start: %s'
                    % server.stderr.read()[-2000:]}
        cfg = {'scenario': 'idle', 'port': port, 'pid': server.pid,
               'deadline_s': wait + 400,
               'params': {'sessions': sessions, 'wait_s': wait}}
        gen = subprocess.run(taskset('1') + ['node', LOADGEN, json.dumps(cfg)],
                             cwd=REPO, capture_output=True, text=True,
                             timeout=wait + 500)
        try:
            res = json.loads(gen.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            res = {'error': 'generator: %s %s' % (gen.stdout[-1500:],
                                                  gen.stderr[-1500:])}
        res['target'] = target
        return res
    finally:
        stop(server)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--sessions', type=int, default=100000)
    ap.add_argument('--wait', type=float, default=60)
    ap.add_argument('--targets', nargs='+', default=['builtin', 'node'],
                    choices=list(SERVERS))
    ap.add_argument('--out')
    args = ap.parse_args(argv)
    # the server and the generator each hold one descriptor per session
    raise_nofile(args.sessions + 8192, args.sessions + 400)
    results = []
    for target in args.targets:
        res = run(target, args.sessions, args.wait)
        results.append(res)
        print(json.dumps(res), flush=True)
    out = {'sessions': args.sessions, 'wait_s': args.wait,
           'machine': os.uname().nodename, 'when': time.strftime('%F %T'),
           'results': results}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)
            f.write('\n')
    ok = all('error' not in r and r.get('errors') == 0 and
             r.get('alive_after_wait') == r.get('sessions') == args.sessions
             for r in results)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
