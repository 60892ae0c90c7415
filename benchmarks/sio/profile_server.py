"""Where a python-socketio server's CPU goes, per package, under the emit-echo load.

    python benchmarks/sio/profile_server.py                       # sio-builtin, py-spy, 8 s
    python benchmarks/sio/profile_server.py --profiler cprofile
    python benchmarks/sio/profile_server.py --target sio-pyeio-uvicorn --clients 500 --inflight 1

Starts the target exactly as the suite does (``benchmarks/load/run.py --group socketio``: pinned to core 0,
a fresh port), drives it with the suite's generator on core 1 (scenario ``sio_echo``, 50 clients x 16
emits in flight by default), profiles the server for ``--seconds`` inside the generator's load, and
reports self-time per package: python-socketio's own code (``socketio/``), ours (``engineio_fast/``,
its compiled kernels included), and the rest (asyncio, the event loop, json, ...), with each package's
share turned into microseconds of server CPU per echoed message (the generator measures the server's
CPU per message over the same load). Results: ``benchmarks/sio/results/profile-<target>.md`` / ``.json``.

Profilers:

* ``py-spy`` (default when installed: ``pip install py-spy``): samples the server's Python stacks from
  outside, ``--nonblocking`` (the process is never stopped, so the profile costs it nothing). A sample
  is charged to the package of its innermost Python frame, so C code called from Python (the json
  encoder, our compiled kernels, a transport write) is charged to the Python code that called it. A
  sample whose innermost Python frame is the call that runs the event loop (``run_until_complete``,
  ``run_forever``) is in the loop's own C code (uvloop, ``_asyncio``'s task steps) or a system call made
  there: "event loop (C) + system calls". Without
  ``--nonblocking`` (``--blocking``) py-spy stops the process for each sample; on this VM the stop lands
  at the next system call, so the samples pile up on system calls (44 % on one ``getpid`` in
  ``asyncio.ensure_future`` in a try, where ``perf`` puts 0.1 %): do not use it here.
* ``cprofile``: the server runs under ``cProfile`` (switched on and off by SIGUSR1/SIGUSR2 around the
  window). Deterministic, but it adds a fixed cost to every Python call, which inflates code that makes
  many small calls (python-socketio's) against C code; C functions are charged to their package when
  their name says it (uvloop, _asyncio, _json, engineio_fast._speedups, httptools), otherwise to their
  caller; the time outside every profiled call (the event loop's C code, system calls, idle) is
  reported as such. Wall-clock timer: on a shared core, time other processes take is spread over
  whatever ran.

Every loop and wait is bounded; the server only listens on 127.0.0.1.
"""
import argparse
import collections
import json
import linecache
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks.load import run as suite  # noqa: E402  (the suite's targets, Server and generator)

PATH = suite.GROUPS['socketio']['path']
# headline buckets: python-socketio's own code, ours, and the rest
OURS = 'engineio_fast'
SIO = 'python-socketio'
LOOP = 'event loop (C) + system calls'
LOOP_CALL = re.compile(r'\.(run_until_complete|run_forever)\(')


def package_of(path):
    """The package a Python source file belongs to (from its path)."""
    p = path.replace('\\', '/')
    if '/engineio_fast/' in p or p.startswith('engineio_fast/') or p.startswith('src_pyx/'):
        return OURS
    m = re.search(r'/(?:site|dist)-packages/([A-Za-z0-9_]+)', p)
    if m:
        name = m.group(1)
        return {'socketio': SIO, 'engineio': 'python-engineio'}.get(name, name)
    if '/benchmarks/' in p or p.startswith('benchmarks/'):
        return 'the benchmark app'
    if p.startswith('<frozen'):
        return 'import system'
    m = re.search(r'/lib/python3\.\d+/([A-Za-z0-9_]+)', p)
    if m:
        return m.group(1)  # the standard library: asyncio, json, inspect, ...
    return 'other'


def builtin_package(name):
    """The package of a C function cProfile saw (by its name), None when the name does not say."""
    for key, pkg in (('engineio_fast', OURS), ('uvloop', 'uvloop'), ('_asyncio', 'asyncio'), ('_json', 'json'),
                     ('httptools', 'httptools'), ('websockets', 'websockets')):
        if key in name:
            return pkg
    return None


# ----------------------------------------------------------------------------------------------- py-spy
def pyspy_profile(server, seconds, rate, out_raw, blocking=False):
    exe = shutil.which('py-spy')
    cmd = (['taskset', '-c', suite.GEN_CORE, exe, 'record', '--pid', str(server.pid), '--rate', str(rate),
            '--duration', str(seconds), '--format', 'raw', '--full-filenames', '-o', out_raw]
           + ([] if blocking else ['--nonblocking']))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    note = (p.stdout + p.stderr).strip().splitlines()
    if p.returncode or not os.path.exists(out_raw):
        raise RuntimeError('py-spy failed (%s): %s' % (p.returncode, '\n'.join(note[-5:])))
    m = re.search(r'Samples: (\d+) Errors: (\d+)', '\n'.join(note))
    if not m:
        return []
    return ['py-spy read %s stacks; %s more tries found the stack changing while it was read (--nonblocking '
            'does not stop the process) and were dropped' % m.groups()]


def parse_frame(frame):
    """``func (path:line)`` -> (func, path, line) (path None when the frame has no source)."""
    m = re.match(r'^(.*) \((.*?)(?::(\d+))?\)$', frame)
    if not m:
        return frame, None, None
    return m.group(1), m.group(2), m.group(3)


def pyspy_shares(raw_path):
    stacks = []
    with open(raw_path) as f:
        for line in f:
            line = line.rstrip('\n')
            if not line:
                continue
            stack, _, n = line.rpartition(' ')
            frames = [fr for fr in stack.split(';') if fr and parse_frame(fr)[1]]
            if frames and n.isdigit():
                stacks.append((frames, int(n)))
    total = sum(n for _, n in stacks)
    if not total:
        raise RuntimeError('py-spy recorded no samples')
    # a sample whose innermost Python frame is the call that runs the event loop (run_until_complete,
    # run_forever) is in the loop's own C code: uvloop or asyncio's loop, _asyncio's task steps, system calls
    by_pkg = collections.Counter()
    by_func = collections.Counter()
    runners = collections.Counter()
    for frames, n in stacks:
        func, path, line = parse_frame(frames[-1])
        if line and LOOP_CALL.search(linecache.getline(path, int(line))):
            by_pkg[LOOP] += n
            runners['%s (%s:%s)' % (func, short(path), line)] += n
            continue
        pkg = package_of(path)
        by_pkg[pkg] += n
        by_func[(pkg, '%s (%s)' % (func, short(path)))] += n
    for runner, n in runners.items():
        by_func[(LOOP, 'below ' + runner)] += n
    return total, by_pkg, by_func, sorted(runners)


def short(path):
    p = path.replace('\\', '/')
    for marker in ('/site-packages/', '/lib/python3.11/', '/lib/python3.12/', REPO + '/'):
        if marker in p:
            return p.split(marker, 1)[1]
    return p


# --------------------------------------------------------------------------------------------- cProfile
def child(out, argv):
    """Run ``python -m MODULE ARGS`` (argv = ['-m', MODULE, ARGS...]) with cProfile switched on by SIGUSR1
    and off (stats written to ``out``) by SIGUSR2."""
    import cProfile
    import runpy
    if len(argv) < 2 or argv[0] != '-m':
        raise SystemExit('--child expects -- -m MODULE ARGS...')
    prof = cProfile.Profile()

    def on(signum, frame):
        prof.enable()

    def off(signum, frame):
        prof.disable()
        prof.dump_stats(out + '.tmp')
        os.replace(out + '.tmp', out)

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    sys.argv = [argv[1]] + argv[2:]
    runpy.run_module(argv[1], run_name='__main__', alter_sys=True)


def cprofile_shares(stats_path, window_s):
    st = pstats.Stats(stats_path).stats
    by_pkg = collections.Counter()
    by_func = collections.Counter()

    def pkg_of(key):
        path, _, name = key
        if path == '~':
            return builtin_package(name)
        return package_of(path)

    for key, (_cc, _nc, tt, _ct, callers) in st.items():
        path, line, name = key
        pkg = pkg_of(key)
        label = name if path == '~' else '%s (%s:%s)' % (name, short(path), line)
        if pkg is not None:
            by_pkg[pkg] += tt
            by_func[(pkg, label)] += tt
            continue
        # a C function whose name says nothing (list.append, isinstance, ...): charged to its callers
        edges = {c: v[2] for c, v in callers.items()}
        spread = sum(edges.values())
        for caller, ctt in edges.items():
            cpkg = pkg_of(caller) or 'other'
            by_pkg[cpkg] += ctt
            by_func[(cpkg, label)] += ctt
        if tt > spread:  # no caller recorded (called from C): unknown
            by_pkg['other'] += tt - spread
            by_func[('other', label)] += tt - spread
    profiled = sum(by_pkg.values())
    by_pkg[LOOP] += max(0.0, window_s - profiled)
    return sum(by_pkg.values()), by_pkg, by_func


# ------------------------------------------------------------------------------------------------- main
def start_loadgen(cfg):
    cmd = ['taskset', '-c', suite.GEN_CORE, 'node', suite.LOADGEN, json.dumps(cfg)]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=suite.raise_nofile)


def finish_loadgen(proc, timeout):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    lines = [ln for ln in out.decode().splitlines() if ln.startswith('{')]
    if not lines:
        return {'error': 'load generator exit %s: %s' % (proc.returncode, err.decode()[-600:])}
    return json.loads(lines[-1])


def report(args, res, total, by_pkg, by_func, unit, extra):
    cpu_op = res.get('server_cpu_us_per_op')
    groups = collections.OrderedDict([(SIO, by_pkg.get(SIO, 0)), (OURS, by_pkg.get(OURS, 0)),
                                      ('the rest', total - by_pkg.get(SIO, 0) - by_pkg.get(OURS, 0))])

    def us(x):
        return '%.2f' % (x / total * cpu_op) if cpu_op else '—'
    lines = ['# Server CPU by package: %s, emit echo %d clients x %d in flight' % (args.target, args.clients,
                                                                                  args.inflight), '',
             'Generated %s by `python benchmarks/sio/profile_server.py %s` (%s, %.0f s of load profiled).'
             % (time.strftime('%Y-%m-%d %H:%M:%S'), ' '.join(sys.argv[1:]), args.profiler, args.seconds), '',
             '- target: %s' % suite.TARGETS[args.target]['what'],
             '- load (generator, same run, profiler attached): %s msg/s, server CPU %s µs per message, server '
             'core busy %s, server CPU %s of a core (the difference is other processes on the core), errors %s, '
             'lost %s' % (suite.fmt(res.get('rate')), cpu_op, res.get('core0_busy_frac'),
                          res.get('server_cpu_frac'), res.get('errors'), res.get('lost')),
             '- %s: %s' % ('samples' if args.profiler == 'py-spy' else 'profiled seconds', unit)] + \
        ['- ' + e for e in extra] + \
        ['', '| | share | µs per message |', '|---|---|---|']
    for name, v in groups.items():
        lines.append('| **%s** | **%.1f %%** | **%s** |' % (name, 100 * v / total, us(v)))
    lines += ['', 'Per package:', '', '| package | share | µs per message |', '|---|---|---|']
    for name, v in by_pkg.most_common():
        lines.append('| %s | %.1f %% | %s |' % (name, 100 * v / total, us(v)))
    lines += ['', 'Top functions (self time):', '', '| package | function | share |', '|---|---|---|']
    for (pkg, func), v in by_func.most_common(args.top):
        lines.append('| %s | `%s` | %.1f %% |' % (pkg, func, 100 * v / total))
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--target', default='sio-builtin',
                    choices=[t for t in suite.GROUPS['socketio']['real'] if suite.TARGETS[t]['cmd'][0] == suite.PY])
    ap.add_argument('--profiler', choices=['auto', 'py-spy', 'cprofile'], default='auto',
                    help='auto: py-spy when it is installed, else cprofile')
    ap.add_argument('--blocking', action='store_true', help='py-spy: stop the process for each sample (biased here)')
    ap.add_argument('--seconds', type=float, default=8.0, help='seconds profiled (default 8)')
    ap.add_argument('--rate', type=int, default=250, help='py-spy samples per second (default 250)')
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--inflight', type=int, default=16)
    ap.add_argument('--top', type=int, default=25, help='functions listed (default 25)')
    ap.add_argument('--out', default=os.path.join(HERE, 'results'))
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args, rest = ap.parse_known_args()
    if args.child:
        return child(args.child, rest[1:] if rest and rest[0] == '--' else rest)
    if rest:
        ap.error('unrecognised arguments: %s' % ' '.join(rest))
    if args.profiler == 'auto':
        args.profiler = 'py-spy' if shutil.which('py-spy') else 'cprofile'
    if args.profiler == 'py-spy' and not shutil.which('py-spy'):
        ap.error('py-spy is not installed (pip install py-spy), or use --profiler cprofile')
    args.seconds = max(1.0, min(args.seconds, 120.0))
    why = suite.availability(args.target)
    if why:
        print('%s unavailable: %s' % (args.target, why))
        return 2
    os.makedirs(args.out, exist_ok=True)
    suite.raise_nofile()
    name = args.target
    stats_path = os.path.join(args.out, '.profile-%s.prof' % args.target)
    if args.profiler == 'cprofile':
        spec = suite.TARGETS[args.target]
        name = '_profiled-' + args.target
        suite.TARGETS[name] = dict(spec, cmd=[suite.PY, '-m', 'benchmarks.sio.profile_server', '--child', stats_path,
                                              '--'] + spec['cmd'][1:])
        if os.path.exists(stats_path):
            os.remove(stats_path)
    port = suite.free_port(19500)
    server = suite.Server(name, port, args.out, PATH)
    raw_path = os.path.join(args.out, '.profile-%s.raw' % args.target)
    try:
        why = server.wait_ready()
        if why:
            print('%s did not start: %s' % (args.target, why))
            return 2
        # the profile starts once the clients are connected and warm, and ends inside the generator's window
        delay = 1.0 + args.clients / 1000
        cfg = {'scenario': 'sio_echo', 'params': {'clients': args.clients, 'inflight': args.inflight},
               'port': port, 'pid': server.pid, 'clk_tck': os.sysconf('SC_CLK_TCK'), 'path': PATH,
               'warmup_s': delay + 0.5, 'duration_s': args.seconds + 1.0}
        gen = start_loadgen(cfg)
        time.sleep(delay)
        extra = []
        if args.profiler == 'py-spy':
            extra += pyspy_profile(server, int(round(args.seconds)), args.rate, raw_path, args.blocking)
        else:
            os.kill(server.pid, signal.SIGUSR1)
            t0 = time.monotonic()
            time.sleep(args.seconds)
            os.kill(server.pid, signal.SIGUSR2)
            window = time.monotonic() - t0
            deadline = time.monotonic() + 30
            while not os.path.exists(stats_path) and time.monotonic() < deadline:
                time.sleep(0.1)
        res = finish_loadgen(gen, args.seconds + 120)
    finally:
        server.stop()
        suite.TARGETS.pop('_profiled-' + args.target, None)
    if res.get('error'):
        print('load generator failed: %s' % res['error'])
        return 1
    if args.profiler == 'py-spy':
        total, by_pkg, by_func, runner = pyspy_shares(raw_path)
        unit = '%d (%d per second, nonblocking)' % (total, args.rate) if not args.blocking else '%d (blocking)' % total
        extra.append('samples whose innermost Python frame runs the event loop, counted as "%s": %s'
                     % (LOOP, ', '.join('`%s`' % r for r in runner) or 'none'))
    else:
        if not os.path.exists(stats_path):
            print('the server wrote no profile (%s)' % stats_path)
            return 1
        total, by_pkg, by_func = cprofile_shares(stats_path, window)
        unit = '%.2f s of wall time (window %.2f s)' % (total, window)
    text = report(args, res, total, by_pkg, by_func, unit, extra)
    base = os.path.join(args.out, 'profile-%s' % args.target)
    with open(base + '.md', 'w') as f:
        f.write(text)
    with open(base + '.json', 'w') as f:
        json.dump({'argv': sys.argv[1:], 'profiler': args.profiler, 'target': args.target, 'load': res,
                   'total': total, 'by_package': dict(by_pkg),
                   'top_functions': [[p, fn, v] for (p, fn), v in by_func.most_common(100)]}, f, indent=1)
    if not os.environ.get('SIO_PROFILE_KEEP'):
        for p in (raw_path, stats_path):
            if os.path.exists(p):
                os.remove(p)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
