"""Coverage-guided fuzzing of tests/fuzz/targets.py with atheris (libFuzzer).

    python -m tests.fuzz.run [--seconds N] [--targets packet http ...]
                             [--merge] [--native] [--jobs J]

Each target runs N seconds (default 15) in a process of its own, J of them
at a time (default: one per core; each process is single-threaded), seeded
from ``tests/fuzz/corpus/<target>/``; the engineio_fast modules it imports
are instrumented for coverage (the compiled kernels run on every input of
the differential targets, compared with their instrumented pure twins);
with ``--native`` the compiled kernels are rebuilt with clang's coverage
instrumentation (``-fsanitize=fuzzer-no-link``) and guide the search too.
New inputs go to a temporary folder, or also into the repository's corpus
with ``--merge`` (each input that added coverage, named by its SHA-1).
A crash, a divergence (an AssertionError from a target), an input that
runs over 10 s (a hang) or a process over 2 GiB of memory fails the run;
the input is printed and kept under the temporary folder.

Prints one line per target: inputs tried, new coverage, crashes. Exit
status 1 if any target failed. Run from the repository root.
"""

import argparse
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, 'corpus')
NAMES = ['packet', 'payload', 'frames', 'sio', 'query', 'http']


def worker(name, libfuzzer_args):
    """In the child: instrument engineio_fast, then fuzz one target.

    With ENGINEIO_FAST_FUZZ_NATIVE (``--native``), engineio_fast comes from
    that folder, whose compiled kernels were built with clang's
    ``-fsanitize=fuzzer-no-link``, and the process runs with clang's
    libFuzzer preloaded (LD_PRELOAD, set by :func:`run_target`): atheris
    then drives that libFuzzer, which the kernels' coverage counters and
    comparison hooks feed too.
    """
    native = os.environ.get('ENGINEIO_FAST_FUZZ_NATIVE')
    if native:
        sys.path.insert(0, native)
    import atheris
    with atheris.instrument_imports(include=['engineio_fast']):
        from tests.fuzz import targets
    if native:
        from engineio_fast import _speedups
        assert _speedups is not None and \
            _speedups.__file__.startswith(native), _speedups
    atheris.Setup([sys.argv[0]] + libfuzzer_args, targets.TARGETS[name])
    atheris.Fuzz()


def build_native(scratch):
    """engineio_fast with its compiled kernels built for coverage (clang,
    ``-fsanitize=fuzzer-no-link``, the Cython directives of setup.py), in a
    folder of its own under ``scratch``, and clang's libFuzzer as a shared
    library: (that folder, the library's path)."""
    import ast
    import sysconfig
    with open(os.path.join(ROOT, 'setup.py')) as f:
        tree = ast.parse(f.read())
    directives = next(ast.literal_eval(node.value) for node in tree.body
                      if isinstance(node, ast.Assign) and
                      getattr(node.targets[0], 'id', '') ==
                      'CYTHON_DIRECTIVES')
    root = os.path.join(scratch, 'native')
    package = os.path.join(root, 'engineio_fast')
    shutil.copytree(os.path.join(ROOT, 'engineio_fast'), package,
                    ignore=shutil.ignore_patterns('_speedups*.so',
                                                  '__pycache__',
                                                  # the compiled twins (not
                                                  # instrumented): their
                                                  # pure sources run, and
                                                  # Python's coverage
                                                  # guides those targets
                                                  '_*_c.*.so'))
    src = os.path.join(ROOT, 'src_pyx')
    c_file = os.path.join(scratch, '_speedups.c')
    level = directives.pop('language_level', 3)
    subprocess.run([sys.executable, '-m', 'cython', '-%d' % level, '-I', src]
                   + ['-X%s=%s' % kv for kv in directives.items()]
                   + [os.path.join(src, '_speedups.pyx'), '-o', c_file],
                   check=True)
    so = os.path.join(package, '_speedups' +
                      sysconfig.get_config_var('EXT_SUFFIX'))
    subprocess.run(['clang', '-shared', '-fPIC', '-O1',
                    '-fsanitize=fuzzer-no-link',
                    '-I' + sysconfig.get_paths()['include'], c_file,
                    '-o', so], check=True)
    # clang's libFuzzer (no main) as a shared library, to preload
    runtime = subprocess.run(['clang', '-print-runtime-dir'], check=True,
                             capture_output=True, text=True).stdout.strip()
    libfuzzer = os.path.join(scratch, 'libfuzzer_no_main.so')
    subprocess.run(['clang++', '-shared', '-fPIC', '-o', libfuzzer,
                    '-Wl,--whole-archive',
                    os.path.join(runtime,
                                 'libclang_rt.fuzzer_no_main-x86_64.a'),
                    '-Wl,--no-whole-archive', '-lpthread'], check=True)
    return root, libfuzzer


def run_target(name, seconds, merge, scratch, native=None):
    seeds = os.path.join(CORPUS, name)
    os.makedirs(seeds, exist_ok=True)
    new = os.path.join(scratch, name + '-new')
    artifacts = os.path.join(scratch, name + '-')
    os.makedirs(new, exist_ok=True)
    args = [new, seeds, '-max_total_time=%d' % seconds, '-timeout=10',
            '-rss_limit_mb=2048', '-max_len=4096', '-print_final_stats=1',
            '-artifact_prefix=' + artifacts]
    started = time.monotonic()
    env = dict(os.environ)
    if native is not None:
        env['ENGINEIO_FAST_FUZZ_NATIVE'], env['LD_PRELOAD'] = native
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.fuzz.run', '--worker', name, '--']
        + args, cwd=ROOT, capture_output=True, text=True, env=env,
        timeout=seconds + 300)
    log = proc.stdout + proc.stderr
    runs = re.findall(r'stat::number_of_executed_units:\s*(\d+)', log)
    done = int(runs[-1]) if runs else 0
    found = len(os.listdir(new))
    ok = proc.returncode == 0
    if merge and ok and found:
        # (libFuzzer's own -merge re-runs argv[0], which is no program
        # here): every input found is kept, named by its content
        for f in os.listdir(new):
            with open(os.path.join(new, f), 'rb') as fh:
                data = fh.read()
            digest = hashlib.sha1(data).hexdigest()
            with open(os.path.join(seeds, digest), 'wb') as fh:
                fh.write(data)
    line = '%-8s %9d inputs in %5.1f s, %4d new, %s' % (
        name, done, time.monotonic() - started, found,
        'no crash' if ok else 'FAILED (exit %d)' % proc.returncode)
    if native is not None:
        # libFuzzer's count of the compiled kernels' coverage counters
        counters = re.findall(r'Loaded \d+ modules\s+\((\d+) inline 8-bit '
                              r'counters\)', log)
        line += ', compiled-kernel edges %s' % (counters[0] if counters
                                                 else 'NONE')
        ok = ok and bool(counters)
    if not ok:
        line += '\n' + log[-4000:]
        for f in os.listdir(scratch):
            if f.startswith(name + '-') and f != name + '-new':
                path = os.path.join(scratch, f)
                with open(path, 'rb') as fh:
                    line += '\n%s: %r' % (path, fh.read()[:2000])
    return ok, done, line


def main():
    if '--worker' in sys.argv:
        i = sys.argv.index('--worker')
        rest = sys.argv[i + 3:] if sys.argv[i + 2:i + 3] == ['--'] \
            else sys.argv[i + 2:]
        return worker(sys.argv[i + 1], rest)
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=int, default=15)
    parser.add_argument('--targets', nargs='+', choices=NAMES, default=NAMES)
    parser.add_argument('--merge', action='store_true',
                        help='add the new inputs that add coverage to the '
                             "repository's corpus")
    parser.add_argument('--native', action='store_true',
                        help='build the compiled kernels with clang for '
                             'coverage, so that they guide the search too '
                             '(needs clang)')
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1,
                        help='targets fuzzed at the same time (default: '
                             'one per core)')
    opts = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix='eio-fuzz-')
    native = build_native(scratch) if opts.native else None
    if native:
        print('compiled kernels instrumented for coverage: %s' % native[0],
              flush=True)
    failed = False
    total = 0
    # each target is a process of its own: threads here only wait on them
    # (lines printed in the targets' order)
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.jobs)) as pool:
        runs = [pool.submit(run_target, name, opts.seconds, opts.merge,
                            scratch, native) for name in opts.targets]
        for run in runs:
            ok, done, line = run.result()
            total += done
            failed |= not ok
            print(line, flush=True)
    print('%d inputs in all; %s' % (
        total, 'FAILED' if failed else '0 crashes, 0 hangs, 0 divergences'))
    if not failed:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
