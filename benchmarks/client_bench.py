"""Client throughput: engineio_fast's Client / AsyncClient against python-engineio's, messages/s,
over websocket and over polling, against the same server, interleaved in one run.

    python benchmarks/client_bench.py [--seconds 1.0] [--rounds 3] [--quick]
                                      [--transports websocket polling]
                                      [--workloads echo up down] [--out PATH]

The server is the official JavaScript engine.io 6 server (tests/client/js_server.mjs, run by
node from the repository's node_modules; `npm ci` first), pinned to core 0 (``taskset``); this
process (the clients) is pinned to core 1. One server serves every measurement.

Workloads (small text messages, ~30 bytes; each cell is one fresh connection, connect time not
counted, measured for ``--seconds``, then the outstanding replies are awaited):

``echo``  round trips: the client keeps a window of messages in flight (64 over websocket, 8
          over polling) and sends one more for each echo; messages/s = echoes received / time.
``up``    client to server: the server is told to stop echoing, the client sends batches of 500
          messages back to back and asks the server for its count after each batch;
          messages/s = messages the server counted / time.
``down``  server to client: the client asks for ``bulk:K`` (K = 100 over websocket, 10 over
          polling) and asks again when all K arrived; messages/s = messages received / time.

Over polling the windows are kept small (8 in flight, bulks of 10) because python-engineio's
client aborts the connection when one poll carries more than 16 packets; every client gets the
same workload. Rows for engineio_fast appear when ``engineio_fast.Client`` exists.

For each round, the cells run in turn over every (workload, transport) and every client, the
client order rotating between rounds; the table gives the median over the rounds and the ratio
engineio_fast / python-engineio (higher is better) for the same client kind. Results (every
round) go to ``benchmarks/results/client.json``.
"""

import argparse
import asyncio
import datetime
import importlib
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
JS_SERVER = os.path.join(REPO, 'tests', 'client', 'js_server.mjs')
RESULTS = os.path.join(HERE, 'results', 'client.json')
sys.path.insert(0, REPO)  # measure this checkout's engineio_fast

SERVER_CORE, CLIENT_CORE = 0, 1
WINDOW = {'websocket': 64, 'polling': 8}
BULK = {'websocket': 100, 'polling': 10}
UP_BATCH = 500
DRAIN_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
MESSAGE = 'msg-{:08d}-abcdefghijklmnopqr'  # ~30 bytes


# ---------------------------------------------------------------------------------------------
# the server
class Server:
    def __init__(self):
        if shutil.which('node') is None:
            sys.exit('node is not installed')
        if not os.path.isdir(os.path.join(REPO, 'node_modules', 'engine.io')):
            sys.exit('node_modules/engine.io is missing: run `npm ci` in the repository root')
        cmd = ['node', JS_SERVER, json.dumps({'pingInterval': 25000, 'pingTimeout': 20000})]
        self.pinned = shutil.which('taskset') is not None and (os.cpu_count() or 1) > 1
        if self.pinned:
            cmd = ['taskset', '-c', str(SERVER_CORE)] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], 15)
            line = self.proc.stdout.readline() if ready else b''
            self.port = json.loads(line)['port']
        except Exception:
            self.stop()
            raise SystemExit('js_server.mjs did not start') from None
        self.url = f'http://127.0.0.1:{self.port}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdin.close()
        self.proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# one measurement with a sync Client
class Counter:
    def __init__(self):
        self.cond = threading.Condition()
        self.n = 0
        self.last = None
        self.texts = []
        self.disconnect = None

    def on_message(self, data):
        with self.cond:
            self.n += 1
            self.last = time.perf_counter()
            if isinstance(data, str) and data.startswith('count:'):
                self.texts.append(data)
            self.cond.notify_all()

    def on_disconnect(self, reason=None):
        with self.cond:
            self.disconnect = reason or 'disconnected'
            self.cond.notify_all()

    def wait(self, predicate, timeout):
        with self.cond:
            ok = self.cond.wait_for(lambda: predicate() or self.disconnect, timeout)
            if self.disconnect:
                raise RuntimeError(f'disconnected: {self.disconnect}')
            if not ok:
                raise RuntimeError('timed out waiting for the server')


def run_sync(mod, url, transport, workload, seconds):
    c = Counter()
    client = mod.Client(handle_sigint=False)
    client.on('message', c.on_message)
    client.on('disconnect', c.on_disconnect)
    client.connect(url, transports=[transport])
    try:
        if workload == 'up':
            client.send('quiet')
        start = time.perf_counter()
        end = start + seconds
        done = 0
        if workload == 'echo':
            window, sent = WINDOW[transport], 0
            while time.perf_counter() < end:
                c.wait(lambda: sent - c.n < window, DRAIN_TIMEOUT)  # noqa: B023 - called at once
                while sent - c.n < window:
                    client.send(MESSAGE.format(sent))
                    sent += 1
            c.wait(lambda: c.n >= sent, DRAIN_TIMEOUT)
            done, stop = c.n, c.last
        elif workload == 'down':
            k, asked = BULK[transport], 0
            while time.perf_counter() < end:
                client.send(f'bulk:{k}')
                asked += k
                c.wait(lambda: c.n >= asked, DRAIN_TIMEOUT)  # noqa: B023 - called at once
            done, stop = c.n, c.last
        else:  # up
            sent, counts = 0, 0
            while time.perf_counter() < end:
                for _ in range(UP_BATCH):
                    client.send(MESSAGE.format(sent))
                    sent += 1
                client.send('count')
                counts += 1
                c.wait(lambda: len(c.texts) >= counts, DRAIN_TIMEOUT)  # noqa: B023 - called at once
            done, stop = sent, c.last
        return done / (stop - start)
    finally:
        if client.state == 'connected':
            client.disconnect()


# ---------------------------------------------------------------------------------------------
# one measurement with an AsyncClient
async def run_async(mod, url, transport, workload, seconds):
    state = {'n': 0, 'last': None, 'counts': 0, 'disconnect': None}
    changed = asyncio.Event()
    client = mod.AsyncClient(handle_sigint=False)

    async def on_message(data):
        state['n'] += 1
        state['last'] = time.perf_counter()
        if isinstance(data, str) and data.startswith('count:'):
            state['counts'] += 1
        changed.set()

    async def on_disconnect(reason=None):
        state['disconnect'] = reason or 'disconnected'
        changed.set()

    async def wait(predicate):
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while not predicate():
            if state['disconnect']:
                raise RuntimeError(f"disconnected: {state['disconnect']}")
            changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError('timed out waiting for the server')
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    client.on('message', on_message)
    client.on('disconnect', on_disconnect)
    await asyncio.wait_for(client.connect(url, transports=[transport]), CONNECT_TIMEOUT)
    try:
        if workload == 'up':
            await client.send('quiet')
        start = time.perf_counter()
        end = start + seconds
        if workload == 'echo':
            window, sent = WINDOW[transport], 0
            while time.perf_counter() < end:
                await wait(lambda: sent - state['n'] < window)  # noqa: B023 - called at once
                while sent - state['n'] < window:
                    await client.send(MESSAGE.format(sent))
                    sent += 1
            await wait(lambda: state['n'] >= sent)
            done = state['n']
        elif workload == 'down':
            k, asked = BULK[transport], 0
            while time.perf_counter() < end:
                await client.send(f'bulk:{k}')
                asked += k
                await wait(lambda: state['n'] >= asked)  # noqa: B023 - called at once
            done = state['n']
        else:  # up
            sent, counts = 0, 0
            while time.perf_counter() < end:
                for _ in range(UP_BATCH):
                    await client.send(MESSAGE.format(sent))
                    sent += 1
                await client.send('count')
                counts += 1
                await wait(lambda: state['counts'] >= counts)  # noqa: B023 - called at once
            done = sent
        return done / (state['last'] - start)
    finally:
        if client.state == 'connected':
            await asyncio.wait_for(client.disconnect(), DRAIN_TIMEOUT)


def measure(impl, kind, url, transport, workload, seconds):
    """messages/s, or an error string."""
    mod = importlib.import_module('engineio_fast' if impl == 'engineio_fast' else 'engineio')
    try:
        if kind == 'sync':
            box = {}

            def target():
                try:
                    box['v'] = run_sync(mod, url, transport, workload, seconds)
                except BaseException as exc:
                    box['e'] = exc

            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            thread.join(seconds + 3 * DRAIN_TIMEOUT + CONNECT_TIMEOUT)
            if thread.is_alive():
                return 'error: hung'
            if 'e' in box:
                raise box['e']
            return box['v']
        return asyncio.run(asyncio.wait_for(
            run_async(mod, url, transport, workload, seconds),
            seconds + 3 * DRAIN_TIMEOUT + CONNECT_TIMEOUT))
    except Exception as exc:
        return f'error: {exc}'[:120]


# ---------------------------------------------------------------------------------------------
def clients():
    out = []
    import engineio_fast
    if hasattr(engineio_fast, 'Client'):
        out += [('engineio_fast', 'sync'), ('engineio_fast', 'async')]
    out += [('python-engineio', 'sync'), ('python-engineio', 'async')]
    return out


def fmt(value):
    return f'{value:,.0f}' if isinstance(value, float) else value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=1.0, help='per measurement')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--quick', action='store_true', help='--seconds 0.3 --rounds 1')
    parser.add_argument('--transports', nargs='+', default=['websocket', 'polling'],
                        choices=['websocket', 'polling'])
    parser.add_argument('--workloads', nargs='+', default=['echo', 'up', 'down'],
                        choices=['echo', 'up', 'down'])
    parser.add_argument('--out', default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 0.3, 1

    if hasattr(os, 'sched_setaffinity') and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {CLIENT_CORE})
    import logging
    logging.getLogger('engineio.client').setLevel(logging.CRITICAL)  # its aborts are in the table

    who = clients()
    server = Server()
    raw = {}
    started = time.monotonic()
    try:
        for rnd in range(args.rounds):
            order = who[rnd % len(who):] + who[:rnd % len(who)]
            for workload in args.workloads:
                for transport in args.transports:
                    for impl, kind in order:
                        value = measure(impl, kind, server.url, transport, workload,
                                        args.seconds)
                        raw.setdefault(f'{impl}|{kind}|{transport}|{workload}', []).append(value)
                        print(f'  round {rnd + 1} {workload:5} {transport:9} {impl:15} {kind:5} '
                              f'{fmt(value)}', file=sys.stderr, flush=True)
    finally:
        server.stop()

    def median(key):
        values = [v for v in raw.get(key, []) if isinstance(v, float)]
        if not values:
            errors = [v for v in raw.get(key, []) if isinstance(v, str)]
            return errors[0] if errors else None
        return statistics.median(values)

    rows = []
    header = ['workload', 'transport', 'client'] + [f'{impl}' for impl in
                                                    ('engineio_fast', 'python-engineio')] + ['ratio']
    for workload in args.workloads:
        for transport in args.transports:
            for kind in ('sync', 'async'):
                fast = median(f'engineio_fast|{kind}|{transport}|{workload}')
                ref = median(f'python-engineio|{kind}|{transport}|{workload}')
                ratio = (f'{fast / ref:.2f}×' if isinstance(fast, float) and isinstance(ref, float)
                         else '')
                rows.append([workload, transport, 'Client' if kind == 'sync' else 'AsyncClient',
                             fmt(fast) if fast is not None else '—', fmt(ref), ratio])

    print(f'\nmessages/s, median of {args.rounds} round(s) of {args.seconds:g} s '
          f'(server: engine.io 6 on node, core {SERVER_CORE}; clients on core {CLIENT_CORE})\n')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for row in rows:
        print('| ' + ' | '.join(str(c) for c in row) + ' |')

    import engineio
    result = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'python': platform.python_version(),
        'machine': platform.machine(),
        'processor': platform.processor(),
        'cpus': os.cpu_count(),
        'pinned': server.pinned,
        'node': subprocess.run(['node', '--version'], capture_output=True,
                               text=True).stdout.strip(),
        'python_engineio': getattr(engineio, '__version__', None) or _dist_version(),
        'seconds': args.seconds,
        'rounds': args.rounds,
        'window': WINDOW,
        'bulk': BULK,
        'up_batch': UP_BATCH,
        'elapsed_s': round(time.monotonic() - started, 1),
        'raw': raw,
        'median': {key: median(key) for key in raw},
        'table': [dict(zip(header, row)) for row in rows],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    print(f'\nwritten: {os.path.relpath(args.out, REPO)} ({result["elapsed_s"]} s)')


def _dist_version():
    from importlib.metadata import version
    return version('python-engineio')


if __name__ == '__main__':
    main()
