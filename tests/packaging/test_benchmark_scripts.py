"""The benchmark scripts still run against today's package: each speed
claim in the README comes from one of them, so a script that no longer
runs (an API it used moved) must fail here, not on the day of a
measurement. Tiny sizes: this checks that they work, not how fast."""

import importlib
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCH = os.path.join(REPO, 'benchmarks')


def _run(*args, timeout=120):
    return subprocess.run([sys.executable] + list(args), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_ws_frame_path_runs():
    r = _run(os.path.join(BENCH, 'ws_frame_path.py'), '--count', '20',
             '--rounds', '1')
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ('builtin ', 'builtin-assembly', 'wsgi '):
        line = next(x for x in r.stdout.splitlines() if x.startswith(name))
        assert float(line.split()[1]) > 0, line


@pytest.mark.parametrize('script', ['load/run.py', 'client_bench.py'])
def test_script_parses_its_options(script):
    r = _run(os.path.join(BENCH, script), '--help')
    assert r.returncode == 0 and 'usage:' in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize('module', [
    'benchmarks.load.apps.fast_app', 'benchmarks.load.apps.sync_fast_app'])
def test_load_apps_import(module, monkeypatch):
    monkeypatch.syspath_prepend(REPO)
    monkeypatch.setenv('BENCH_ASYNC_MODE', 'threading')
    mod = importlib.import_module(module)
    assert getattr(mod, 'app', None) is not None
