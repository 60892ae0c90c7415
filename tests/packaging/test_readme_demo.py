"""The README's first command, as a new user runs it from a fresh clone.

``npm ci && pip install . && <demo part>``: in a copy of the checkout as a
clone has it (no built extension, no build leftovers), with node_modules in
place of ``npm ci`` and ``pip install .`` into a fresh venv, the demo part
runs exactly as the README writes it (plus ``--port``), from the checkout,
with the venv first on PATH. It must serve the page with the compiled
kernels of the installed wheel, not the pure ones of the source tree.
"""

import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import venv

import httpx
import pytest

from .. import ports as _ports

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
README = os.path.join(REPO, 'README.md')
NODE_MODULES = os.path.join(REPO, 'node_modules')
START_TIMEOUT = 60.0
WAIT = 10.0

# what a fresh clone lacks: builds and caches (.gitignore's list), and .git
FRESH_CLONE_LACKS = shutil.ignore_patterns(
    '.git', 'build', 'dist', 'node_modules', '*.so', '*.pyd', '*.pyc',
    '__pycache__', '*.egg-info', '.hypothesis', '.mypy_cache', '.ruff_cache',
    '.pytest_cache', '.benchmarks', '.venv*')

pytestmark = pytest.mark.timeout(600)


def readme_first_command():
    """The first line of the README's first bash block."""
    with open(README, encoding='utf-8') as f:
        match = re.search(r'^```bash\n(.+)$', f.read(), re.M)
    assert match, 'README.md has no bash block'
    return match.group(1).strip()


def demo_part(command):
    """The README command's part after its npm and pip steps."""
    steps = [s.strip() for s in command.split('&&')]
    assert steps[:2] == ['npm ci', 'pip install .'], command
    assert len(steps) == 3, command
    return steps[2]


def clean_env(bin_dir):
    """The environment of a user with the venv activated: none of the test
    run's Python path or kernel switches."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('PYTHON', 'ENGINEIO_FAST_'))}
    env['PATH'] = bin_dir + os.pathsep + env.get('PATH', '')
    env['VIRTUAL_ENV'] = os.path.dirname(bin_dir)
    return env


free_port = _ports.free_port   # see tests/ports.py


def read_line(proc, deadline):
    """One line of ``proc``'s stdout, waiting until ``deadline``."""
    line = b''
    while not line.endswith(b'\n'):
        remaining = deadline - time.monotonic()
        assert remaining > 0, ('the demo printed no first line', line)
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            assert chunk, ('the demo closed its stdout', proc.poll(), line)
            line += chunk
    return line.decode()


def test_readme_demo_command_runs_the_installed_compiled_wheel(tmp_path):
    command = readme_first_command()
    demo = demo_part(command)
    assert os.path.isfile(os.path.join(
        NODE_MODULES, 'engine.io-client', 'dist', 'engine.io.min.js')), (
        'node_modules lacks engine.io-client: run npm ci')

    # a fresh clone, `npm ci`'s node_modules, `pip install .` in a venv
    clone = str(tmp_path / 'clone')
    shutil.copytree(REPO, clone, ignore=FRESH_CLONE_LACKS, symlinks=True)
    os.symlink(NODE_MODULES, os.path.join(clone, 'node_modules'))
    env_dir = str(tmp_path / 'venv')
    venv.create(env_dir, with_pip=True)
    bin_dir = os.path.join(env_dir, 'Scripts' if sys.platform == 'win32'
                           else 'bin')
    env = clean_env(bin_dir)
    python = os.path.join(bin_dir, 'python')
    pip = subprocess.run(
        [python, '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
         '.'], cwd=clone, env=env, capture_output=True, text=True,
        timeout=480)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]

    # the checkout holds only the pure kernels (nothing is built in a fresh
    # clone): Python run from it with the checkout on sys.path (python -m,
    # python -c) would import them instead of the installed wheel
    here = subprocess.run(
        [python, '-c', 'import engineio_fast as e; print(e.IMPLEMENTATION)'],
        cwd=clone, env=env, capture_output=True, text=True, timeout=60)
    assert here.stdout.split() == ['python'], here

    port = free_port()
    err = open(tmp_path / 'demo.err', 'w+')
    argv = shlex.split(demo) + ['--port', str(port)]
    # the program as the user's shell finds it: first on the venv's PATH
    argv[0] = shutil.which(argv[0], path=env['PATH']) or argv[0]
    proc = subprocess.Popen(argv, cwd=clone, env=env,
                            stdout=subprocess.PIPE, stderr=err)
    try:
        first = read_line(proc, time.monotonic() + START_TIMEOUT)
        assert '(cython kernels)' in first, (demo, first)
        assert 'http://127.0.0.1:%d/' % port in first, first
        base = 'http://127.0.0.1:%d' % port
        page = httpx.get(base + '/', timeout=WAIT)
        assert page.status_code == 200
        assert page.headers['content-type'].startswith('text/html')
        assert 'engine.io.min.js' in page.text
        js = httpx.get(base + '/engine.io.min.js', timeout=WAIT)
        assert js.status_code == 200 and len(js.content) > 10000
        handshake = httpx.get(base + '/engine.io/', params={
            'EIO': '4', 'transport': 'polling'}, timeout=WAIT)
        assert handshake.status_code == 200
        assert handshake.text.startswith('0{"sid":')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0, (tmp_path / 'demo.err').read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
        proc.stdout.close()
        err.close()
