"""End-to-end load suite for engineio_fast (see README.md in this directory).

    python benchmarks/load/run.py [--quick] [--group async|sync|socketio] [--targets T ...] [--scenarios S ...] [--runs N]

Each target server runs as its own process pinned to core 0 (``taskset -c 0``); the Node load generator
(``loadgen.mjs``) runs pinned to core 1. Every (run, target, scenario) gets a fresh server process on a
fresh port; the scenario's variants run against it in turn. Results (medians over the runs) go to
``results/results.json``, ``results/results.md`` and ``results/results.png``; with ``--group sync`` (the
synchronous servers, engineio_fast against python-engineio per WSGI server and async mode) to ``results-sync/``;
with ``--group socketio`` (python-socketio on engineio_fast, on python-engineio and Node's socket.io, see
``benchmarks/sio/README.md``) to ``benchmarks/sio/results/``.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    # the tree the servers run (PYTHONPATH=REPO): availability checks and the machine description look there
    sys.path.insert(1, REPO)
RESULTS = os.path.join(HERE, 'results')
LOADGEN = os.path.join(HERE, 'loadgen.mjs')
PY = sys.executable
SERVER_CORE = '0'
GEN_CORE = '1'

UVICORN = ['--host', '127.0.0.1', '--port', '{port}', '--loop', 'uvloop', '--http', 'httptools',
           '--ws', 'websockets', '--ws-per-message-deflate', 'false', '--workers', '1',
           '--log-level', 'warning', '--no-access-log']

# The targets, data-driven: a command (``{port}`` is filled in), the Python modules / files it needs,
# and whether it is the generator's ceiling (a bare server, shown apart from the real targets).
TARGETS = {
    'fast-uvicorn': {
        'cmd': [PY, '-m', 'uvicorn', 'benchmarks.load.apps.fast_app:app'] + UVICORN,
        'modules': ['engineio_fast', 'uvicorn', 'uvloop', 'httptools', 'websockets'],
        'what': 'engineio_fast AsyncServer + ASGIApp on uvicorn (uvloop, httptools, websockets)',
    },
    'pyeio-uvicorn': {
        'cmd': [PY, '-m', 'uvicorn', 'benchmarks.load.apps.pyeio_app:app'] + UVICORN,
        'modules': ['engineio', 'uvicorn', 'uvloop', 'httptools', 'websockets'],
        'what': 'python-engineio AsyncServer + ASGIApp on uvicorn (uvloop, httptools, websockets)',
    },
    'node': {
        'cmd': ['node', 'benchmarks/load/node_server.mjs', '--port', '{port}'],
        'files': ['node_modules/engine.io/package.json'],
        'what': 'JavaScript engine.io 6 (npm) on node:http',
    },
    'builtin': {
        'cmd': [PY, '-m', 'engineio_fast', 'benchmarks.load.apps.fast_app:eio',
                '--host', '127.0.0.1', '--port', '{port}', '--no-access-log'],
        'modules': ['engineio_fast.__main__'],
        'what': "engineio_fast's built-in server (python -m engineio_fast module:attr)",
    },
    # the metrics' cost (README "Metrics"): `--targets builtin builtin-metrics --scenarios S1`; not in the
    # default suite
    'builtin-metrics': {
        'cmd': [PY, '-m', 'engineio_fast', 'benchmarks.load.apps.fast_app:eio',
                '--host', '127.0.0.1', '--port', '{port}', '--metrics'],
        'modules': ['engineio_fast.__main__', 'prometheus_client'],
        'what': "builtin with --metrics (Prometheus counting on, /metrics served)",
    },
    # the floor of Python on uvloop + httptools (bare_py.py): what the built-in server's CPU per operation is
    # read against (the "bare uvloop + httptools server"); not a product, in the default suite's table as a reference column
    'floor-py': {
        'cmd': [PY, 'benchmarks/load/bare_py.py', '--port', '{port}'],
        'modules': ['uvloop', 'httptools'],
        'skip': ['S2', 'S5'],
        'what': 'bare Engine.IO-shaped Python server on uvloop + httptools (bare_py.py): the floor, not a product',
    },
    'ceiling': {
        'cmd': ['node', 'benchmarks/load/bare_server.mjs', '--port', '{port}'],
        'ceiling': True,
        'skip': ['S5'],
        'what': 'bare Engine.IO-shaped echo on raw node:net: measures the generator, not a product',
    },
}
REAL_TARGETS = ['fast-uvicorn', 'pyeio-uvicorn', 'node', 'builtin']
RATIOS = [('builtin', 'node'), ('builtin', 'pyeio-uvicorn'), ('fast-uvicorn', 'pyeio-uvicorn'),
          ('builtin', 'floor-py')]

# The synchronous targets (``--group sync``): engineio_fast ``Server`` + ``WSGIApp`` and python-engineio's,
# each pair on the same WSGI server with the same flags and the same async mode (``sync_serve.py`` starts
# them; ``apps/sync_common.py`` is the app). They run S1, S3 and S4 only.
SYNC_SKIP = ['S2', 'S5', 'S6']
SYNC_THREADS = 1100  # gthread: one thread per websocket (S1 has 500 clients; python-engineio adds one per
#                      connection in simple-websocket, outside gunicorn's pool)
SYNC_KINDS = [
    # kind, async mode, what, modules, extra spec
    ('gthread', 'threading', f'gunicorn 1 worker -k gthread --threads {SYNC_THREADS}',
     ['gunicorn', 'simple_websocket'], {'measure': 'worker'}),
    ('eventlet', 'eventlet', 'eventlet.wsgi.server after eventlet.monkey_patch()', ['eventlet'], {}),
    ('gevent', 'gevent', 'gevent.pywsgi.WSGIServer + geventwebsocket WebSocketHandler after patch_all()',
     ['gevent', 'geventwebsocket'], {}),
    ('uwsgi', 'gevent_uwsgi', 'uwsgi --http-socket --gevent 1000, 1 process, no master (no HTTP keep-alive: '
     'the generator opens a connection per polling request)',
     ['gevent'], {'exe': 'uwsgi', 'http_close': True}),
]
SYNC_IMPLS = [('fast', 'engineio_fast', 'engineio_fast Server + WSGIApp'),
              ('pyeio', 'engineio', 'python-engineio Server + WSGIApp')]
for _kind, _mode, _what, _mods, _extra in SYNC_KINDS:
    for _impl, _pkg, _lib in SYNC_IMPLS:
        TARGETS[f'{_impl}-{_kind}'] = dict(
            dict(cmd=[PY, '-m', 'benchmarks.load.sync_serve', _kind, _impl, '--host', '127.0.0.1',
                      '--port', '{port}'] + (['--threads', str(SYNC_THREADS)] if _kind == 'gthread' else []),
                 modules=[_pkg] + _mods, skip=SYNC_SKIP, sync=True,
                 what=f'{_lib}, async_mode {_mode!r}, on {_what}'), **_extra)
SYNC_REAL_TARGETS = [f'{impl}-{kind}' for kind, *_ in SYNC_KINDS for impl, *_ in SYNC_IMPLS]
SYNC_RATIOS = [(f'fast-{kind}', f'pyeio-{kind}') for kind, *_ in SYNC_KINDS]

# The python-socketio targets (``--group socketio``, benchmarks/sio/): python-socketio 5 on engineio_fast
# (switched by engineio_fast.install() in the app module, before ``import socketio``) on the built-in server and
# under uvicorn, python-socketio on python-engineio under uvicorn, and Node's socket.io 4.8. The Engine.IO path
# is the group's (``/socket.io/``); the ``ceiling`` server answers the Socket.IO scenarios too.
SIO_APPS = 'benchmarks.sio.apps'
TARGETS.update({
    'sio-builtin': {
        'cmd': [PY, '-m', 'benchmarks.sio.serve_builtin', f'{SIO_APPS}.fast_app',
                '--host', '127.0.0.1', '--port', '{port}'],
        'modules': ['socketio', 'engineio_fast.__main__', 'uvloop', 'httptools'],
        'group': 'socketio',
        'what': "python-socketio AsyncServer on engineio_fast's built-in server (uvloop, httptools), started "
                "as `python -m engineio_fast MODULE:ATTR` (benchmarks/sio/serve_builtin.py)",
    },
    'sio-builtin-plain': {
        'cmd': [PY, '-m', 'benchmarks.sio.serve_builtin', f'{SIO_APPS}.fast_app',
                '--host', '127.0.0.1', '--port', '{port}'],
        'env': {'ENGINEIO_FAST_SOCKETIO_ACCEL': '0'},
        'modules': ['socketio', 'engineio_fast.__main__', 'uvloop', 'httptools'],
        'group': 'socketio',
        'what': "sio-builtin with ENGINEIO_FAST_SOCKETIO_ACCEL=0: python-socketio's own emit and packet class "
                "(what the accelerations give: --targets sio-builtin sio-builtin-plain)",
    },
    'sio-fast-uvicorn': {
        'cmd': [PY, '-m', 'uvicorn', f'{SIO_APPS}.fast_app:app'] + UVICORN,
        'modules': ['socketio', 'engineio_fast', 'uvicorn', 'uvloop', 'httptools', 'websockets'],
        'group': 'socketio',
        'what': 'python-socketio AsyncServer + socketio.ASGIApp on engineio_fast (engineio_fast.install()) under '
                'uvicorn (uvloop, httptools, websockets)',
    },
    'sio-pyeio-uvicorn': {
        'cmd': [PY, '-m', 'uvicorn', f'{SIO_APPS}.pyeio_app:app'] + UVICORN,
        'modules': ['socketio', 'engineio', 'uvicorn', 'uvloop', 'httptools', 'websockets'],
        'group': 'socketio',
        'what': 'python-socketio AsyncServer + socketio.ASGIApp on python-engineio under uvicorn (uvloop, '
                'httptools, websockets)',
    },
    'sio-node': {
        'cmd': ['node', 'benchmarks/sio/node_server.mjs', '--port', '{port}'],
        'files': ['node_modules/socket.io/package.json'],
        'group': 'socketio',
        'what': 'JavaScript socket.io 4.8 (npm), plain `new Server(httpServer)` on node:http',
    },
})
SIO_REAL_TARGETS = ['sio-builtin', 'sio-fast-uvicorn', 'sio-pyeio-uvicorn', 'sio-node', 'sio-builtin-plain']
SIO_RATIOS = [('sio-builtin', 'sio-node'), ('sio-builtin', 'sio-pyeio-uvicorn'), ('sio-builtin', 'sio-builtin-plain'),
              ('sio-fast-uvicorn', 'sio-pyeio-uvicorn'), ('sio-fast-uvicorn', 'sio-node')]

# Target groups: what ``--group`` runs by default and how its report is laid out. ``async`` is the suite
# as it was before the sync targets existed (same targets, scenarios, output directory and report). ``out`` is
# relative to this directory; ``path`` is the Engine.IO path of the group's servers.
GROUPS = {
    'async': {'targets': ['fast-uvicorn', 'pyeio-uvicorn', 'node', 'builtin', 'floor-py', 'ceiling'],
              'real': REAL_TARGETS, 'ratios': RATIOS, 'scenarios': ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'],
              'out': 'results'},
    'sync': {'targets': SYNC_REAL_TARGETS, 'real': SYNC_REAL_TARGETS, 'ratios': SYNC_RATIOS,
             'scenarios': ['S1', 'S3', 'S4'], 'out': 'results-sync'},
    'socketio': {'targets': SIO_REAL_TARGETS + ['ceiling'], 'real': SIO_REAL_TARGETS, 'ratios': SIO_RATIOS,
                 'scenarios': ['IO1', 'IO2', 'IO3'], 'out': os.path.join('..', 'sio', 'results'),
                 'path': '/socket.io/', 'title': 'python-socketio'},
}


def target_group(name):
    """The group a (non-ceiling) target belongs to."""
    spec = TARGETS[name]
    return spec.get('group') or ('sync' if spec.get('sync') else 'async')


def runs_scenario(name, sid):
    """Whether target ``name`` runs scenario ``sid``: its group's scenarios (the ceiling: all), less its skip list."""
    spec = TARGETS[name]
    if sid in spec.get('skip', []):
        return False
    return bool(spec.get('ceiling')) or sid in GROUPS[target_group(name)]['scenarios']

# Scenarios: id -> list of variants (row label, loadgen config, quick overrides of params).
SCENARIOS = {
    'S1': [(f'echo ws C={c} x{k} (32 B text)', {'scenario': 'echo', 'params': {'clients': c, 'inflight': k}}, {})
           for c in (1, 50, 500) for k in (1, 16)],
    'S2': [('broadcast 1000 ws clients', {'scenario': 'broadcast',
                                          'params': {'clients': 1000, 'inflight': 2, 'max_broadcasts': 3000}},
            {'clients': 200}),
           # 10 of them stop reading once connected: the rate is the 990 others' deliveries
           ('broadcast 1000 ws clients, 10 stop reading', {'scenario': 'broadcast',
                                                           'params': {'clients': 1000, 'inflight': 2,
                                                                      'max_broadcasts': 3000, 'stalled': 10}},
            {'clients': 200})],
    'S3': [('ws connect+open+close (concurrency 50)', {'scenario': 'connect',
                                                       'params': {'total': 4000, 'concurrency': 50}},
            {'total': 600})],
    'S4': [('polling echo C=1', {'scenario': 'polling', 'params': {'mode': 'echo', 'clients': 1}}, {}),
           ('polling echo C=50', {'scenario': 'polling', 'params': {'mode': 'echo', 'clients': 50}}, {}),
           ('polling echo parked GET C=1', {'scenario': 'polling', 'params': {'mode': 'echo-parked', 'clients': 1}},
            {}),
           ('polling echo parked GET C=50', {'scenario': 'polling',
                                            'params': {'mode': 'echo-parked', 'clients': 50}}, {}),
           ('polling handshake C=1', {'scenario': 'polling', 'params': {'mode': 'handshake', 'clients': 1}}, {}),
           ('polling handshake C=50', {'scenario': 'polling', 'params': {'mode': 'handshake', 'clients': 50}}, {})],
    'S5': [('idle ws session RSS', {'scenario': 'rss', 'params': {'steps': [5000, 10000]}},
            {'steps': [1000, 2000]})],
    'S6': [(f'64 KiB binary echo ws C={c}', {'scenario': 'echo',
                                            'params': {'clients': c, 'inflight': 1, 'binary_size': 65536}}, {})
           for c in (1, 8)],
    # python-socketio group (benchmarks/sio/README.md)
    'IO1': [(f'emit echo ws C={c} x{k} (ack)', {'scenario': 'sio_echo', 'params': {'clients': c, 'inflight': k}}, {})
            for c, k in ((50, 16), (500, 1))],
    'IO2': [('room broadcast to 1000 ws clients', {'scenario': 'sio_broadcast',
                                                   'params': {'clients': 1000, 'inflight': 2, 'max_broadcasts': 3000}},
             {'clients': 200})],
    'IO3': [(f'connect {tr} (concurrency 50)', {'scenario': 'sio_connect', 'max_s': 20,
                                               'params': {'transport': tr, 'total': 4000, 'concurrency': 50}},
             {'total': 1000}) for tr in ('websocket', 'polling')],
}
LOWER_IS_BETTER = {'S5'}
# latency quantiles (ms) some scenarios report (the socketio group): per message or delivery, and for a broadcast
# the time until its last client had it
LATENCY_KEYS = ('lat_p50_ms', 'lat_p99_ms', 'all_p50_ms', 'all_p99_ms')
GEN_BOUND = 0.9  # generator CPU fraction from which a rate is marked as limited by the generator


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else hard
    for limit in (max(want, 65536), want):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, max(limit, hard) if hard != resource.RLIM_INFINITY else hard))
            return
        except (ValueError, OSError):
            continue


def free_port(start):
    port = start
    for _ in range(500):
        port += 1
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', port))
                return port
            except OSError:
                continue
    raise RuntimeError('no free port')


def core_busy():
    """Busy seconds of each core from /proc/stat."""
    clk = os.sysconf('SC_CLK_TCK')
    out = {}
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('cpu') and line[3].isdigit():
                name, *vals = line.split()
                v = [int(x) for x in vals]
                out[name] = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / clk
    return out


def wait_quiet(max_wait, threshold=0.15):
    """Wait (bounded) until both cores are mostly idle, so other work on the machine skews less.
    Returns the busy fractions seen last."""
    t0 = time.monotonic()
    while True:
        a = core_busy()
        time.sleep(0.5)
        b = core_busy()
        busy = {k: round((b[k] - a[k]) / 0.5, 2) for k in b}
        if all(v <= threshold for v in busy.values()) or time.monotonic() - t0 > max_wait:
            return busy


def proc_start(pid):
    """The start time of process pid (clock ticks since boot), None if there is no such process."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return int(f.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def launch_place(spec):
    """(working directory, environment) of a target's server process: the repository, with it on
    PYTHONPATH; a target with a 'cwd' (builtin-base: another checkout) starts there instead, since
    `python -m` puts the working directory ahead of PYTHONPATH on sys.path."""
    cwd = spec.get('cwd', REPO)
    return cwd, {**os.environ, 'PYTHONPATH': cwd, **spec.get('env', {})}


class Server:
    def __init__(self, name, port, logdir=RESULTS, path='/engine.io/'):
        self.name = name
        self.port = port
        self.path = path  # the Engine.IO path the generator and the readiness check use
        spec = TARGETS[name]
        self.spec = spec
        cmd = [c.replace('{port}', str(port)) for c in spec['cmd']]
        self.errpath = os.path.join(logdir, f'.server-{name}.log')
        self.err = open(self.errpath, 'wb')
        cwd, env = launch_place(spec)
        self.proc = subprocess.Popen(['taskset', '-c', SERVER_CORE] + cmd, cwd=cwd, stdout=self.err,
                                     stderr=subprocess.STDOUT, preexec_fn=raise_nofile, env=env)
        self.pid = self.proc.pid
        # the process whose CPU time the generator reads: the server itself, or for a pre-fork server
        # (gunicorn: master + 1 worker) the worker that serves every request (resolve_worker)
        self.measure_pid = self.pid

    def children(self):
        try:
            with open(f'/proc/{self.pid}/task/{self.pid}/children') as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def resolve_worker(self):
        """For a target measured on its worker: the worker's pid (None if there is not exactly one)."""
        if self.spec.get('measure') != 'worker':
            return self.pid
        kids = self.children()
        self.measure_pid = kids[0] if len(kids) == 1 else None
        self.measure_start = proc_start(self.measure_pid) if self.measure_pid else None
        return self.measure_pid

    def worker_lost(self):
        """True if the measured worker of a pre-fork server is no longer the process it was."""
        return self.measure_pid != self.pid and proc_start(self.measure_pid) != self.measure_start

    def wait_ready(self, timeout=20):
        url = f'http://127.0.0.1:{self.port}{self.path}?EIO=4&transport=polling'
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                return f'exited with code {self.proc.returncode}: {self.stderr_tail()}'
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    body = r.read().decode()
                if body.startswith('0{'):
                    if self.resolve_worker() is None:
                        return f'expected one worker process under pid {self.pid}, found {self.children()}'
                    return None
                last = f'unexpected handshake body {body[:80]!r}'
            except Exception as e:  # not up yet
                last = repr(e)
            time.sleep(0.2)
        return f'no Engine.IO handshake within {timeout}s ({last}): {self.stderr_tail()}'

    def stderr_tail(self):
        self.err.flush()
        try:
            with open(self.errpath, 'rb') as f:
                return f.read()[-600:].decode('utf-8', 'replace').strip()
        except OSError:
            return ''

    def stop(self):
        kids = [(pid, proc_start(pid)) for pid in self.children()] if self.spec.get('measure') == 'worker' else []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid, started in kids:  # a worker left behind by a killed master
            deadline = time.monotonic() + 5
            while proc_start(pid) == started and time.monotonic() < deadline:
                time.sleep(0.05)
            if proc_start(pid) == started:  # still that very process (not a reused pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.err.close()


def sio_builtin_form():
    """The ``MODULE:ATTR`` the sio-builtin target serves (``app`` once the CLI accepts a python-socketio app)."""
    cmd = TARGETS['sio-builtin']['cmd'][:4] + ['--which']
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PYTHONPATH=REPO))
    except subprocess.TimeoutExpired:
        return 'form unknown (timed out)'
    spec = p.stdout.strip()
    if p.returncode or not spec:
        return f'form unknown ({p.stderr.strip()[-200:]})'
    if spec.endswith(':app'):
        return f'`python -m engineio_fast {spec}` (socketio.ASGIApp)'
    return (f'`python -m engineio_fast {spec}` (an engineio_fast ASGIApp around sio.eio at /socket.io/: the CLI '
            f'does not take socketio.ASGIApp yet)')


def availability(name):
    """None if the target can be tried, else the reason it cannot."""
    spec = TARGETS[name]
    for m in spec.get('modules', []):
        try:
            if importlib.util.find_spec(m) is None:
                return f'Python module {m} not found'
        except ImportError as e:
            return f'Python module {m} not importable: {e}'
    for f in spec.get('files', []):
        if not os.path.exists(os.path.join(REPO, f)):
            return f'{f} missing (run npm ci at the repository root)'
    if spec['cmd'][0] == 'node' and not shutil.which('node'):
        return 'node not on PATH'
    exe = spec.get('exe')
    if exe and not (os.access(os.path.join(os.path.dirname(PY), exe), os.X_OK) or shutil.which(exe)):
        return f'{exe} executable not found (next to {PY} or on PATH)'
    return None


def run_loadgen(config, server, quick):
    cfg = dict(config)
    cfg.update(port=server.port, pid=server.measure_pid, clk_tck=os.sysconf('SC_CLK_TCK'), path=server.path,
               warmup_s=0.3 if quick else 0.5, duration_s=1.0 if quick else 1.5)
    if server.spec.get('http_close'):
        # a server without HTTP keep-alive (uWSGI's --http-socket): the generator's polling clients open a
        # connection per request and read a response without a length up to the close
        cfg['http_close'] = True
    cmd = ['taskset', '-c', GEN_CORE, 'node', LOADGEN, json.dumps(cfg)]
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, timeout=300, preexec_fn=raise_nofile)
    except subprocess.TimeoutExpired:
        return {'error': 'load generator timed out (300 s)'}
    lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith('{')]
    if not lines:
        return {'error': f'load generator exit {p.returncode}: {p.stderr.decode()[-600:]}'}
    res = json.loads(lines[-1])
    if p.returncode and 'error' not in res:
        res['error'] = f'load generator exit {p.returncode}'
    return res


def machine(group='async'):
    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception as e:
            return f'? ({e})'
    lscpu = cmd(['lscpu'])
    info = {}
    for line in lscpu.splitlines():
        k, _, v = line.partition(':')
        if k.strip() in ('Model name', 'CPU(s)', 'Thread(s) per core', 'Core(s) per socket', 'CPU family',
                         'Model', 'Hypervisor vendor', 'L3 cache'):
            info[k.strip()] = v.strip()

    def version(mod):
        try:
            from importlib.metadata import version as v
            return v(mod)
        except Exception:
            return None

    def npm_version(pkg):
        try:
            with open(os.path.join(REPO, 'node_modules', pkg, 'package.json')) as f:
                return json.load(f)['version']
        except OSError:
            return None
    try:
        import engineio_fast
        kernels = getattr(engineio_fast, 'kernels', None) or getattr(engineio_fast, 'KERNELS', None) or \
            getattr(engineio_fast, 'IMPLEMENTATION', None)
        fast_version = getattr(engineio_fast, '__version__', None)
    except Exception as e:
        kernels, fast_version = None, f'import failed: {e}'
    with open('/proc/meminfo') as f:
        mem = f.readline().split()[1]
    return {
        'cpu': info, 'memory_gib': round(int(mem) / 1024 / 1024, 1), 'kernel': platform.release(),
        'python': platform.python_version(), 'node': cmd(['node', '--version']),
        'packages': {
            'async': lambda: {'engineio_fast': fast_version, 'engineio_fast_kernels': str(kernels) if kernels else None,
                              'python-engineio': version('python-engineio'), 'uvicorn': version('uvicorn'),
                              'uvloop': version('uvloop'), 'httptools': version('httptools'),
                              'websockets': version('websockets'), 'engine.io (npm)': npm_version('engine.io'),
                              'ws (npm)': npm_version('ws')},
            'sync': lambda: {'engineio_fast': fast_version, 'engineio_fast_kernels': str(kernels) if kernels else None,
                             'python-engineio': version('python-engineio'), 'gunicorn': version('gunicorn'),
                             'eventlet': version('eventlet'), 'gevent': version('gevent'),
                             'gevent-websocket': version('gevent-websocket'), 'uWSGI': version('uWSGI'),
                             'simple-websocket': version('simple-websocket')},
            'socketio': lambda: {'engineio_fast': fast_version,
                                 'engineio_fast_kernels': str(kernels) if kernels else None,
                                 'python-socketio': version('python-socketio'),
                                 'python-engineio': version('python-engineio'), 'uvicorn': version('uvicorn'),
                                 'uvloop': version('uvloop'), 'httptools': version('httptools'),
                                 'websockets': version('websockets'), 'socket.io (npm)': npm_version('socket.io'),
                                 'engine.io (npm)': npm_version('engine.io')},
        }[group](),
        'nofile_limit': resource.getrlimit(resource.RLIMIT_NOFILE),
        'git_head': cmd(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD']),
        'git_modified': [ln.split(None, 1)[1] for ln in cmd(['git', '-C', REPO, 'status', '--porcelain', '--untracked-files=no']).splitlines()],
        'loadavg_at_start': open('/proc/loadavg').read().split()[:3],
    }


def rows_of(sid, label, res):
    """One measurement can give several table rows (S5 gives one per session count)."""
    if sid == 'S5' and 'points' in res:
        return [(f'{label} @{p["target"]}', p['kib_per_session'], p['sessions'] < p['target'])
                for p in res['points']]
    return [(label, res.get('rate'), False)]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(raw, targets, scenario_ids, ratios=RATIOS):
    rows = []
    for sid in scenario_ids:
        for label, _, _ in SCENARIOS[sid]:
            per_label = {}
            for t in targets:
                ms = [m for m in raw if m['target'] == t and m['scenario'] == sid and m['variant'] == label]
                for m in ms:
                    res = m['result']
                    for row_label, value, short in rows_of(sid, label, res):
                        d = per_label.setdefault(row_label, {}).setdefault(t, {
                            'values': [], 'cpu_us_per_op': [], 'gen_cpu_frac': [], 'gen_bound_rate': [],
                            'errors': 0, 'lost': 0, 'latency': {},
                            'failed_runs': 0, 'other_load': [], 'unit': res.get('unit')})
                        if 'error' in res or value is None:
                            d['failed_runs'] += 1
                            continue
                        d['unit'] = res.get('unit') or d['unit']
                        d['values'].append(value)
                        d['cpu_us_per_op'].append(res.get('server_cpu_us_per_op'))
                        for k in LATENCY_KEYS:  # the socketio scenarios' latency quantiles (ms)
                            if res.get(k) is not None:
                                d['latency'].setdefault(k, []).append(res[k])
                        d['gen_cpu_frac'].append(res.get('gen_cpu_frac'))
                        if res.get('gen_cpu_frac'):
                            # the rate this run's generator work would give at 100 % of its core
                            d['gen_bound_rate'].append(value / res['gen_cpu_frac'])
                        c0 = res.get('core0_busy_frac')
                        if c0 is not None and res.get('server_cpu_frac') is not None:
                            d['other_load'].append(round(max(0.0, c0 - res['server_cpu_frac']), 3))
                        d['errors'] += sum(int(res.get(k) or 0) for k in (
                            'errors', 'connect_failures', 'close_failures', 'unexpected_packets', 'closed_early',
                            'echo_errors')) + int(short)
                        d['lost'] += int(res.get('lost') or 0)
            for row_label, per_t in per_label.items():
                row = {'scenario': sid, 'variant': row_label, 'targets': {}}
                for t, d in per_t.items():
                    row['unit'] = row.get('unit') or d['unit']
                    row['targets'][t] = {
                        'median': median(d['values']), 'runs': d['values'],
                        'server_cpu_us_per_op': median(d['cpu_us_per_op']),
                        'gen_cpu_frac_max': max([g for g in d['gen_cpu_frac'] if g is not None], default=None),
                        'gen_cpu_frac_median': median(d['gen_cpu_frac']),
                        'gen_saturation_rate_est': median(d['gen_bound_rate']),
                        'other_load_on_server_core_median': median(d['other_load']),
                        'errors': d['errors'], 'lost': d['lost'], 'failed_runs': d['failed_runs'],
                    }
                    if d['latency']:
                        row['targets'][t]['latency_ms'] = {k: median(v) for k, v in d['latency'].items()}
                for a, b in ratios:
                    va = row['targets'].get(a, {}).get('median')
                    vb = row['targets'].get(b, {}).get('median')
                    row.setdefault('ratios', {})[f'{a}/{b}'] = (va / vb) if va and vb else None
                    # the same comparison by server CPU per operation (b's cost / a's cost: > 1 = a cheaper);
                    # still meaningful when the generator, not the server, limited the rate
                    ca = row['targets'].get(a, {}).get('server_cpu_us_per_op')
                    cb = row['targets'].get(b, {}).get('server_cpu_us_per_op')
                    row.setdefault('cpu_ratios', {})[f'{a}/{b}'] = (cb / ca) if ca and cb else None
                rows.append(row)
    return rows


def fmt(v, unit=None):
    if v is None:
        return '—'
    if unit == 'KiB/session' or abs(v) < 100:
        return f'{v:.1f}' if abs(v) >= 10 else f'{v:.2f}'
    return f'{v:,.0f}'


def shown_targets(group, targets):
    """The group's real targets, then any other non-ceiling target that was run."""
    real = GROUPS[group]['real']
    return list(real) + [t for t in targets if t not in real and not TARGETS[t].get('ceiling')]


def write_markdown(path, summary, info, unavailable, targets, args, elapsed, group='async'):
    shown = shown_targets(group, targets)
    RATIOS = GROUPS[group]['ratios']
    lines = ['# Load suite results' + {'sync': ' — synchronous servers', 'socketio': ' — python-socketio'}.get(group, ''), '',
             f'Generated {info["finished"]} by `python benchmarks/load/run.py {" ".join(args.argv)}`'
             f' ({info["runs"]} run(s) per scenario and target, medians shown; {elapsed:.0f} s).', '']
    if group == 'sync':
        lines += sync_intro(summary, info, unavailable, targets)
    elif group == 'socketio':
        lines += socketio_intro(info, unavailable, targets)
    m = info['machine']
    cpu = m['cpu']
    lines += ['## Machine', '',
              f'- CPU: {cpu.get("Model name")} (family {cpu.get("CPU family")}, model {cpu.get("Model")}), '
              f'{cpu.get("CPU(s)")} CPUs ({cpu.get("Core(s) per socket")} cores/socket, '
              f'{cpu.get("Thread(s) per core")} thread/core), hypervisor {cpu.get("Hypervisor vendor")}; '
              f'{m["memory_gib"]} GiB',
              f'- Linux {m["kernel"]}, Python {m["python"]}, Node {m["node"]}',
              '- ' + ', '.join(f'{k} {v}' for k, v in m['packages'].items() if v),
              f'- servers pinned to core {SERVER_CORE}, load generator to core {GEN_CORE}; '
              f'open-file limit {m["nofile_limit"][0]}; load average at start {" ".join(m["loadavg_at_start"])}',
              ] + ([f'- engineio_fast tree: commit {m["git_head"]}'
                   + (f', with uncommitted changes in {", ".join(m["git_modified"])}' if m.get('git_modified') else '')]
                   if m.get('git_head') else []) + ['']
    if unavailable:
        lines += ['## Unavailable targets', '']
        for t, why in unavailable.items():
            lines.append(f'- **{t}**: unavailable — {why}')
        lines.append('')
    head = (['Scenario', 'unit'] + shown + [f'{a}/{b}' for a, b in RATIOS]
            + ['ceiling (bare)', 'gen. ceiling est.', 'max gen CPU'])
    lines += ['## Rates (median)', '',
              ('Higher is better except S5 (KiB of server RSS per idle websocket session; lower is better). '
               if 'S5' in GROUPS[group]['scenarios'] else 'Higher is better. ') +
              '"—" = not run or unavailable. "max gen CPU" is the highest fraction of its core the load '
              'generator used in any measurement of the row (1.0 = saturated). '
              f'**†** = the generator used ≥ {GEN_BOUND:.0%} of its core (median over runs): that rate is a '
              'lower bound set by the generator, compare the server CPU per operation below instead. '
              '**⚠** = errors or losses (see Correctness). "ceiling (bare)" is the rate measured against the '
              'bare server; "gen. ceiling est." is that rate divided by the generator\'s CPU fraction in the '
              'same run (median): what the generator would drive at 100 % of its core on that work.', '',
              '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in summary:
        cells = [row['scenario'] + ' ' + row['variant'], row.get('unit') or '']
        gens = []
        for t in shown:
            d = row['targets'].get(t)
            if t in unavailable:
                cells.append('n/a')
                continue
            if not d:
                cells.append('—')
                continue
            flag = ''
            if d['errors'] or d['lost'] or d['failed_runs']:
                flag = ' ⚠'
            if (d.get('gen_cpu_frac_median') or 0) >= GEN_BOUND:
                flag += ' †'
            cells.append(fmt(d['median'], row.get('unit')) + flag)
            if d['gen_cpu_frac_max'] is not None:
                gens.append(d['gen_cpu_frac_max'])
        for a, b in RATIOS:
            r = row['ratios'].get(f'{a}/{b}')
            cells.append(f'{r:.2f}×' if r else '—')
        c = row['targets'].get('ceiling')
        cells.append(fmt(c['median'], row.get('unit')) if c else '—')
        cells.append(fmt(c.get('gen_saturation_rate_est'), row.get('unit')) if c else '—')
        cells.append(f'{max(gens):.2f}' if gens else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', '## Server CPU time per operation (µs, median)', '',
              'utime+stime of the server process (all threads) over the measured window divided by the '
              'operations in it (messages, deliveries, connections, requests or round trips). Ratio columns: '
              'the second target\'s CPU per operation divided by the first\'s (> 1 = the first is cheaper); '
              'unlike the rate ratios they hold when the generator limited the rate.', '',
              '| Scenario | ' + ' | '.join(shown + ['ceiling (bare)'] + [f'{a}/{b}' for a, b in RATIOS]) + ' |',
              '|' + '---|' * (len(shown) + 2 + len(RATIOS))]
    for row in summary:
        if row['scenario'] == 'S5':
            continue
        cells = [row['scenario'] + ' ' + row['variant']]
        for t in shown + ['ceiling']:
            d = row['targets'].get(t)
            cells.append(fmt(d['server_cpu_us_per_op']) if d and d['server_cpu_us_per_op'] is not None else '—')
        for a, b in RATIOS:
            r = row.get('cpu_ratios', {}).get(f'{a}/{b}')
            cells.append(f'{r:.2f}×' if r else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += latency_table(summary, shown + ['ceiling'])
    lines += ['', '## Correctness', '',
              'Per target, summed over runs: errors (wrong or unexpected echo content, failed connects/closes, '
              'unexpected packets, sessions closed by the server, failed runs) / lost (sent, never answered). '
              'Every scenario checks content, not only counts.', '',
              '| Scenario | ' + ' | '.join(shown + ['ceiling']) + ' |', '|' + '---|' * (len(shown) + 2)]
    for row in summary:
        cells = [row['scenario'] + ' ' + row['variant']]
        for t in shown + ['ceiling']:
            d = row['targets'].get(t)
            cells.append(f'{d["errors"] + d["failed_runs"]} / {d["lost"]}' if d else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', '## Other load on the server core', '',
              'Median over runs of (core-0 busy fraction − server CPU fraction) during the window: work by '
              'other processes on the server\'s core (this machine is shared). Large values mean the row '
              'understates that target.', '',
              '| Scenario | ' + ' | '.join(shown + ['ceiling']) + ' |', '|' + '---|' * (len(shown) + 2)]
    for row in summary:
        cells = [row['scenario'] + ' ' + row['variant']]
        for t in shown + ['ceiling']:
            d = row['targets'].get(t)
            v = d and d['other_load_on_server_core_median']
            cells.append(f'{v:.2f}' if v is not None else '—')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def socketio_intro(info, unavailable, targets):
    """The socketio report's head: what each target is (benchmarks/sio/README.md has the rest)."""
    lines = ['python-socketio on engineio_fast (switched by `engineio_fast.install()` before `import socketio`) on '
             'the built-in server and under uvicorn, against python-socketio on python-engineio under uvicorn and '
             "Node's socket.io 4.8, with the same app (`benchmarks/sio/apps/common.py`, "
             '`benchmarks/sio/node_server.mjs`) and the raw Socket.IO-over-Engine.IO generator '
             '(`benchmarks/load/loadgen.mjs`). Emit echo: the client emits `echo` with an ack id, the handler '
             'returns the data, which comes back as the ack (`42<id>["echo",d]` → `43<id>[d]`). Scenarios and '
             'method: `benchmarks/sio/README.md`.', '',
             '| target | what |', '|---|---|']
    for t in targets:
        why = unavailable.get(t)
        lines.append(f'| `{t}` | {info["targets"].get(t, TARGETS[t]["what"])}'
                     + (f' — **unavailable**: {why}' if why else '') + ' |')
    lines.append('')
    return lines


def latency_table(summary, targets):
    """Latency quantiles, for the rows whose measurements reported them (the socketio scenarios)."""
    rows = [r for r in summary if any('latency_ms' in d for d in r['targets'].values())]
    if not rows:
        return []
    lines = ['', '## Latency (ms, median over runs of each run\'s p50 / p99)', '',
             'Emit echo: emit → ack, per message. Broadcast: emit by the sender → arrival, per delivery, and '
             '(second line) → arrival at the last of the clients, per broadcast. Connect: start → Socket.IO '
             'connect packet received. Measured under the row\'s load, inside its window, by the generator.', '',
             '| Scenario | ' + ' | '.join(targets) + ' |', '|' + '---|' * (len(targets) + 1)]

    def cell(lat, a, b):
        if lat.get(a) is None:
            return '—'
        return f'{lat[a]:.2f} / {lat[b]:.2f}' if lat.get(b) is not None else f'{lat[a]:.2f}'
    for row in rows:
        for keys, suffix in ((('lat_p50_ms', 'lat_p99_ms'), ''), (('all_p50_ms', 'all_p99_ms'), ' (last client)')):
            if not any(keys[0] in d.get('latency_ms', {}) for d in row['targets'].values()):
                continue
            cells = [row['scenario'] + ' ' + row['variant'] + suffix]
            for t in targets:
                d = row['targets'].get(t)
                cells.append(cell(d.get('latency_ms', {}), *keys) if d else '—')
            lines.append('| ' + ' | '.join(cells) + ' |')
    return lines


def sync_intro(summary, info, unavailable, targets):
    """The sync report's head: what each pair is, and engineio_fast / python-engineio per mode."""
    lines = ['engineio_fast `Server` + `WSGIApp` against python-engineio `Server` + `WSGIApp`, each pair on '
             'the same WSGI server with the same flags and async mode (`benchmarks/load/sync_serve.py`, the '
             'app in `benchmarks/load/apps/sync_common.py`). The targets of a scenario take turns within each '
             'run. Scenarios S1, S3 and S4 (the others are not run for these targets). The `ceiling` columns '
             'below stay empty unless `ceiling` is added to `--targets`; "max gen CPU" shows how busy the '
             'generator was.', '',
             '| target | what |', '|---|---|']
    for t in targets:
        why = unavailable.get(t)
        lines.append(f'| `{t}` | {info["targets"].get(t, TARGETS[t]["what"])}'
                     + (f' — **unavailable**: {why}' if why else '') + ' |')
    skipped = {}
    for t in targets:
        for sid, why in TARGETS[t].get('skip_why', {}).items():
            skipped.setdefault((sid, why), []).append(t)
    if skipped:
        lines.append('')
    for (sid, why), ts in skipped.items():
        lines.append(f'- **{sid} not run** for {", ".join(f"`{t}`" for t in ts)}: {why}.')
    pairs = [(a, b) for a, b in SYNC_RATIOS if a in targets or b in targets]
    lines += ['', '## engineio_fast / python-engineio per mode', '',
              'Per row and mode: rate ratio (engineio_fast rate / python-engineio rate, > 1 = engineio_fast '
              'faster) and, after the slash, server CPU per operation ratio (python-engineio µs/op / '
              'engineio_fast µs/op, > 1 = engineio_fast cheaper). "—" = one side has no figure (unavailable '
              'or failed, see below); **⚠** = either side had errors or losses in that row.', '',
              '| Scenario | ' + ' | '.join(a.split('-', 1)[1] for a, _ in pairs) + ' |',
              '|' + '---|' * (len(pairs) + 1)]
    for row in summary:
        cells = [row['scenario'] + ' ' + row['variant']]
        for a, b in pairs:
            r = row.get('ratios', {}).get(f'{a}/{b}')
            c = row.get('cpu_ratios', {}).get(f'{a}/{b}')
            bad = any(d and (d['errors'] or d['lost'] or d['failed_runs'])
                      for d in (row['targets'].get(a), row['targets'].get(b)))
            if all(row['scenario'] in TARGETS[x].get('skip', []) for x in (a, b)):
                cells.append('not run')
                continue
            cells.append((f'{r:.2f}×' if r else '—') + ' / ' + (f'{c:.2f}×' if c else '—') + (' ⚠' if bad else ''))
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    return lines


def write_plot(path, summary, unavailable, group='async', targets=()):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        log('matplotlib missing (pip install -r benchmarks/requirements.txt): no plot')
        return
    colors = {'fast-uvicorn': '#1f77b4', 'pyeio-uvicorn': '#ff7f0e', 'node': '#2ca02c', 'builtin': '#d62728',
              'sio-fast-uvicorn': '#1f77b4', 'sio-pyeio-uvicorn': '#ff7f0e', 'sio-node': '#2ca02c',
              'sio-builtin': '#d62728'}
    for kind, *_ in SYNC_KINDS:
        colors[f'fast-{kind}'] = '#1f77b4'
        colors[f'pyeio-{kind}'] = '#ff7f0e'
    shown = shown_targets(group, targets)
    n = len(summary)
    cols = 4
    rws = (n + cols - 1) // cols
    fig, axes = plt.subplots(rws, cols, figsize=(4.2 * cols, 3.0 * rws), squeeze=False)
    for ax, row in zip(axes.flat, summary):
        names, vals, cols_, hatches = [], [], [], []
        for t in shown:
            d = row['targets'].get(t)
            bound = bool(d and (d.get('gen_cpu_frac_median') or 0) >= GEN_BOUND)
            label = t.replace('-', '\n', 1) if TARGETS[t].get('sync') else t.replace('-uvicorn', '\n+uvicorn')
            if target_group(t) == 'socketio' and not TARGETS[t].get('ceiling'):
                label = label[len('sio-'):]
            names.append((label if t not in unavailable else t + '\n(n/a)')
                         + (' †' if bound else ''))
            vals.append(d['median'] if d and d['median'] is not None else 0)
            cols_.append(colors.get(t, '#7f7f7f'))
            hatches.append('//' if bound else '')
        bars = ax.bar(range(len(names)), vals, color=cols_)
        for bar, h in zip(bars, hatches):
            bar.set_hatch(h)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=7)
        c = row['targets'].get('ceiling')
        if c and c['median']:
            ax.axhline(c['median'], color='grey', linestyle='--', linewidth=1, label='bare server (generator ceiling)')
            ax.legend(fontsize=6, loc='upper left')
        ax.set_title(f'{row["scenario"]} {row["variant"]}', fontsize=8)
        ax.set_ylabel(row.get('unit') or '', fontsize=7)
        ax.tick_params(axis='y', labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis('off')
    fig.suptitle('engineio_fast load suite' + {'sync': ', synchronous servers', 'socketio': ', python-socketio'}.get(group, '') + ' (medians; ' + ('S5 lower is better; ' if 'S5' in GROUPS[group]['scenarios'] else '') + '† hatched = generator-bound, a lower bound)', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_baseline(path, args):
    """``--baseline DIR``: the target builtin-base (the built-in server with DIR first on the Python path), its
    ratio to builtin in every group that has builtin, and builtin-base run right after builtin."""
    if not os.path.isfile(os.path.join(path, 'engineio_fast', '__init__.py')):
        sys.exit(f'--baseline {path}: no engineio_fast package there')
    try:
        commit = subprocess.run(['git', '-C', path, 'rev-parse', '--short', 'HEAD'], capture_output=True,
                                text=True, timeout=10).stdout.strip() or 'unknown commit'
    except (OSError, subprocess.TimeoutExpired):
        commit = 'unknown commit'
    TARGETS['builtin-base'] = dict(TARGETS['builtin'], cwd=path, env={'PYTHONPATH': path},
                                   what=f'builtin from {path} (commit {commit}): the before of a before/after')
    for group in GROUPS.values():
        if 'builtin' in group['targets']:
            group['ratios'].append(('builtin', 'builtin-base'))
            group['targets'].insert(group['targets'].index('builtin') + 1, 'builtin-base')
    if args.targets is not None and 'builtin' in args.targets and 'builtin-base' not in args.targets:
        args.targets.insert(args.targets.index('builtin') + 1, 'builtin-base')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='1 run, shorter windows, smaller counts (smoke test)')
    ap.add_argument('--group', choices=list(GROUPS), default=None,
                    help='async (default): the uvicorn/Node/builtin targets, every scenario, --out results/; '
                         'sync: engineio_fast vs python-engineio Server on gunicorn gthread, eventlet, gevent '
                         'and uwsgi, S1 S3 S4, --out results-sync/; socketio: python-socketio on engineio_fast '
                         '(built-in, uvicorn) vs on python-engineio (uvicorn) vs Node socket.io 4.8, IO1-IO3, --out '
                         '../sio/results/ (default: the group of the --targets given, ceiling aside)')
    ap.add_argument('--targets', nargs='+', default=None, choices=list(TARGETS),
                    help="default: the group's targets")
    ap.add_argument('--scenarios', nargs='+', default=None, choices=list(SCENARIOS),
                    help="default: the group's scenarios (async: S1-S6)")
    ap.add_argument('--runs', type=int, default=None, help='runs per scenario and target (default 3, quick 1)')
    ap.add_argument('--quiet-wait', type=float, default=None,
                    help='seconds to wait (at most) for an idle machine before each measurement (default 1.5, quick 1)')
    ap.add_argument('--out', default=None, help="results directory (default: the group's, results/, results-sync/ "
                                                  "or ../sio/results/)")
    ap.add_argument('--baseline', metavar='DIR', default=None,
                    help='also run the built-in server from the checkout DIR (its extension built, e.g. a '
                         '`git worktree` of an earlier commit) as the target builtin-base, beside builtin, with a '
                         'builtin/builtin-base ratio: a before/after in one run')
    ap.add_argument('--report', action='store_true',
                    help='only rebuild results.md and results.png from the results.json in --out')
    args = ap.parse_args()
    args.argv = sys.argv[1:]
    if args.baseline:
        add_baseline(os.path.abspath(args.baseline), args)
    if args.group is None:
        groups = {target_group(t) for t in args.targets or () if not TARGETS[t].get('ceiling')}
        args.group = groups.pop() if len(groups) == 1 else 'async'
    group = GROUPS[args.group]
    if args.out is None:
        args.out = os.path.join(HERE, group['out'])
    if args.targets is None:
        args.targets = list(group['targets'])
    if args.scenarios is None:
        args.scenarios = list(group['scenarios'])
    if args.report:
        with open(os.path.join(args.out, 'results.json')) as f:
            data = json.load(f)
        info = data['info']
        if '--group' not in args.argv:
            args.group = info.get('group', 'async')
        targets = list(info['targets'])
        scenario_ids = sorted({m['scenario'] for m in data['raw']})
        summary = summarise(data['raw'], targets, scenario_ids, GROUPS[args.group]['ratios'])
        data['summary'] = summary
        with open(os.path.join(args.out, 'results.json'), 'w') as f:
            json.dump(data, f, indent=1)
        args.argv = info.get('argv', [])
        write_markdown(os.path.join(args.out, 'results.md'), summary, info, data['unavailable'], targets, args,
                       info.get('elapsed_s', 0), args.group)
        write_plot(os.path.join(args.out, 'results.png'), summary, data['unavailable'], args.group, targets)
        print(open(os.path.join(args.out, 'results.md')).read())
        return
    runs = args.runs or (1 if args.quick else 3)
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (1 if args.quick else 1.5)
    os.makedirs(args.out, exist_ok=True)
    raise_nofile()
    t_start = time.monotonic()
    info = {'started': datetime.datetime.now().isoformat(timespec='seconds'), 'runs': runs, 'quick': args.quick,
            'argv': args.argv,
            'machine': machine(args.group), 'targets': {t: TARGETS[t]['what'] for t in args.targets}}
    if args.group != 'async':
        info['group'] = args.group
    if 'sio-builtin' in args.targets:
        # which form the built-in server was started with (serve_builtin.py picks it)
        info['targets']['sio-builtin'] += ': ' + sio_builtin_form()
    unavailable = {}
    for t in args.targets:
        why = availability(t)
        if why:
            unavailable[t] = why
            log(f'target {t}: UNAVAILABLE — {why}')
    raw = []
    port = 18500
    # Targets take turns within each scenario (not one target after the
    # other), so the figures compared in a row were taken minutes apart at
    # most: this shared machine's speed drifts over a run.
    for run in range(runs):
        for sid in args.scenarios:
            for t in args.targets:
                if t in unavailable or not runs_scenario(t, sid):
                    continue
                port = free_port(port)
                server = Server(t, port, args.out, group.get('path', '/engine.io/'))
                try:
                    why = server.wait_ready()
                    if why:
                        unavailable[t] = f'server did not start: {why}'
                        log(f'target {t}: UNAVAILABLE — {unavailable[t]}')
                        continue
                    for label, config, quick_params in SCENARIOS[sid]:
                        cfg = json.loads(json.dumps(config))
                        if args.quick:
                            cfg['params'].update(quick_params)
                        busy = wait_quiet(quiet_wait)
                        res = run_loadgen(cfg, server, args.quick)
                        if server.proc.poll() is not None:
                            res['error'] = (res.get('error') or '') + \
                                f' server exited ({server.proc.returncode}): {server.stderr_tail()}'
                        elif server.worker_lost():
                            res['error'] = (res.get('error') or '') + \
                                f' worker {server.measure_pid} exited: {server.stderr_tail()}'
                            if server.resolve_worker() is None:
                                log(f'target {t}: no worker after the loss of one')
                        raw.append({'run': run, 'target': t, 'scenario': sid, 'variant': label, 'config': cfg,
                                    'busy_before': busy, 'result': res})
                        shown = res.get('error') or (
                            f'{fmt(res.get("rate"), res.get("unit"))} {res.get("unit")}  '
                            f'cpu/op {res.get("server_cpu_us_per_op")} us  gen {res.get("gen_cpu_frac")}  '
                            f'err {res.get("errors")} lost {res.get("lost")}')
                        log(f'run {run + 1}/{runs} {t:14} {sid} {label}: {shown}')
                        time.sleep(0.3)
                finally:
                    server.stop()
    elapsed = time.monotonic() - t_start
    info['finished'] = datetime.datetime.now().isoformat(timespec='seconds')
    info['elapsed_s'] = round(elapsed, 1)
    summary = summarise(raw, args.targets, args.scenarios, group['ratios'])
    out = {'info': info, 'unavailable': unavailable, 'summary': summary, 'raw': raw}
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump(out, f, indent=1)
    write_markdown(os.path.join(args.out, 'results.md'), summary, info, unavailable, args.targets, args, elapsed,
                   args.group)
    write_plot(os.path.join(args.out, 'results.png'), summary, unavailable, args.group, args.targets)
    for name in os.listdir(args.out):
        if name.startswith('.server-'):
            os.remove(os.path.join(args.out, name))
    log(f'done in {elapsed:.0f} s: {args.out}/results.md')
    print(open(os.path.join(args.out, 'results.md')).read())


if __name__ == '__main__':
    main()
