"""The benchmark scripts still run against today's package: each speed
claim in the README comes from one of them, so a script that no longer
runs (an API it used moved) must fail here, not on the day of a
measurement. Tiny sizes: this checks that they work, not how fast."""

import http.client
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


def test_connect_path_runs():
    r = _run(os.path.join(BENCH, 'connect_path.py'), '--count', '20',
             '--rounds', '1')
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ('connect ', 'message '):
        line = next(x for x in r.stdout.splitlines() if x.startswith(name))
        assert float(line.split()[1]) > 0, line


def test_api_ratios_runs():
    r = _run(os.path.join(BENCH, 'api_ratios.py'), '--repeat', '1',
             '--number', '3')
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [line for line in r.stdout.splitlines()
            if line.startswith('| ') and '×' in line]
    # eight cases and the geometric mean, each with two positive ratios
    assert len(rows) == 9, r.stdout
    for row in rows:
        ratios = [float(c.strip(' *×')) for c in row.split('|')
                  if c.strip().rstrip('*').endswith('×')]
        assert len(ratios) == 2 and min(ratios) > 0, row


def test_eager_start_runs():
    r = _run(os.path.join(BENCH, 'eager_start.py'), '--calls', '200',
             '--runs', '1')
    assert r.returncode == 0, r.stdout + r.stderr
    got = {line.split()[0]: float(line.split()[1])
           for line in r.stdout.splitlines() if line.strip()}
    assert set(got) == {'bare', 'lent', 'lent-pure', 'task'} and all(
        v > 0 for v in got.values()), r.stdout


def test_metrics_cost_runs():
    r = _run(os.path.join(BENCH, 'metrics_cost.py'), '--messages', '200',
             '--rounds', '1')
    assert r.returncode == 0, r.stdout + r.stderr
    off, on = (float(next(x for x in r.stdout.splitlines()
                          if x.strip().startswith(name)).split()[2])
               for name in ('metrics off:', 'metrics on:'))
    assert off > 0 and on > 0, r.stdout
    # the comparison with another tree (here: this one), in processes
    r = _run(os.path.join(BENCH, 'metrics_cost.py'), '--messages', '200',
             '--rounds', '1', '--against', REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'difference:' in r.stdout, r.stdout


@pytest.mark.parametrize('script', ['load/run.py', 'client_bench.py',
                                    'sio/profile_server.py',
                                    'cluster/workers_bench.py',
                                    'cluster/run.py', 'cluster/redis_bench.py',
                                    'cluster/forward_bench.py'])
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


@pytest.mark.parametrize('module,engine', [
    ('benchmarks.sio.apps.fast_app', 'engineio_fast.async_server'),
    ('benchmarks.sio.apps.pyeio_app', 'engineio.async_server')])
def test_socketio_apps_run_on_their_engine(module, engine):
    # a fresh interpreter: fast_app runs engineio_fast.install(), which is
    # process-wide and must come before anything imports engineio
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop('ENGINEIO_FAST_AS_ENGINEIO', None)
    r = subprocess.run(
        [sys.executable, '-c', 'import %s as m; print(type(m.sio.eio).__module__)'
         % module], cwd=REPO, capture_output=True, text=True, timeout=120,
        env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == [engine]


def test_socketio_builtin_target_picks_a_form():
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop('ENGINEIO_FAST_AS_ENGINEIO', None)
    r = subprocess.run(
        [sys.executable, '-m', 'benchmarks.sio.serve_builtin',
         'benchmarks.sio.apps.fast_app', '--which'], cwd=REPO,
        capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() in (['benchmarks.sio.apps.fast_app:app'],
                                ['benchmarks.sio.apps.fast_app:eio_app'])


def test_socketio_group_is_wired(monkeypatch):
    monkeypatch.syspath_prepend(REPO)
    from benchmarks.load import run
    group = run.GROUPS['socketio']
    for target in group['targets']:
        assert all(run.runs_scenario(target, sid)
                   for sid in group['scenarios']), target
        for f in run.TARGETS[target].get('files', []):
            assert f.startswith('node_modules/') or \
                os.path.exists(os.path.join(REPO, f)), f
    for target in run.GROUPS['async']['targets']:
        assert not any(run.runs_scenario(target, sid)
                       for sid in group['scenarios']) or \
            run.TARGETS[target].get('ceiling'), target
    for name in ('node_server.mjs',):
        assert os.path.exists(os.path.join(BENCH, 'sio', name))


def test_load_compare_reads_two_runs():
    """benchmarks/load/compare.py on the committed before/after runs: one
    row per scenario of either, the README's polling figures among them."""
    results = os.path.join(BENCH, 'load', 'results')
    r = _run(os.path.join(BENCH, 'load', 'compare.py'),
             os.path.join(results, 'before-issue15-round2.json'),
             os.path.join(results, 'issue15-round2.json'))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [line for line in r.stdout.splitlines()
            if line.startswith('| S')]
    assert len(rows) == 18, r.stdout
    echo = next(row for row in rows if 'polling echo C=50 ' in row)
    cells = [c.strip() for c in echo.split('|')]
    assert cells[5:7] == ['46.2', '42.1'], echo



def _http(port, method, query, body=b''):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    conn.request(method, '/engine.io/?EIO=4&transport=polling' + query, body)
    return conn, conn.getresponse()


def test_floor_target_answers_the_load_scenarios():
    """bare_py.py (the floor-py target) speaks enough Engine.IO for S1, S3
    and S4: a polling handshake, an echo over POST then GET and over a
    parked GET, an unknown sid refused, a websocket's open packet, echo
    and close."""
    import json
    import socket
    import time

    from tests.ports import free_port
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(
        BENCH, 'load', 'bare_py.py'), '--port', str(port)], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        _, r = _http(port, 'GET', '')
        body = r.read().decode()
        assert r.status == 200 and body[0] == '0', body
        sid = json.loads(body[1:])['sid']
        conn, r = _http(port, 'POST', '&sid=' + sid, b'4hello')
        assert (r.status, r.read()) == (200, b'ok')
        conn.request('GET', '/engine.io/?EIO=4&transport=polling&sid=' + sid)
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b'4hello')
        # parked: the GET waits, the POST on a second connection answers it
        parked = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        parked.request('GET',
                       '/engine.io/?EIO=4&transport=polling&sid=' + sid)
        time.sleep(0.2)
        _, r = _http(port, 'POST', '&sid=' + sid, b'4later')
        assert (r.status, r.read()) == (200, b'ok')
        r = parked.getresponse()
        assert (r.status, r.read()) == (200, b'4later')
        _, r = _http(port, 'GET', '&sid=nope')
        assert r.status == 400 and b'Session ID unknown' in r.read()
        # websocket: 101 and the open packet, an echo, the close echoed
        ws = socket.create_connection(('127.0.0.1', port), 10)
        ws.sendall(b'GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n'
                   b'Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                   b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                   b'Sec-WebSocket-Version: 13\r\n\r\n')
        got = b''
        while b'\r\n\r\n' not in got or not got.split(b'\r\n\r\n', 1)[1]:
            got += ws.recv(4096)
        head, rest = got.split(b'\r\n\r\n', 1)
        assert head.startswith(b'HTTP/1.1 101') and \
            b's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' in head, head
        assert rest[0] == 0x81 and rest[2:3] == b'0', rest
        key = b'\x01\x02\x03\x04'
        text = b'4abc'
        ws.sendall(bytes((0x81, 0x80 | len(text))) + key +
                   bytes(b ^ key[i % 4] for i, b in enumerate(text)))
        assert ws.recv(64) == b'\x81\x04' + text
        ws.sendall(b'\x88\x82' + key + bytes(
            b ^ key[i % 4] for i, b in enumerate(b'\x03\xe8')))
        assert ws.recv(64) == b'\x88\x02\x03\xe8'
        ws.close()
    finally:
        proc.kill()
        proc.wait(10)


def test_baseline_runs_another_checkout_beside_builtin(monkeypatch):
    """--baseline DIR: builtin-base (the built-in server with DIR first on
    the path) taking turns right after builtin, with its ratio."""
    import argparse
    import copy
    monkeypatch.syspath_prepend(REPO)
    from benchmarks.load import run
    monkeypatch.setattr(run, 'TARGETS', dict(run.TARGETS))
    monkeypatch.setattr(run, 'GROUPS', copy.deepcopy(run.GROUPS))
    args = argparse.Namespace(targets=['node', 'builtin', 'floor-py'])
    run.add_baseline(REPO, args)
    assert args.targets == ['node', 'builtin', 'builtin-base', 'floor-py']
    spec = run.TARGETS['builtin-base']
    assert spec['cmd'] == run.TARGETS['builtin']['cmd']
    assert ('builtin', 'builtin-base') in run.GROUPS['async']['ratios']
    with pytest.raises(SystemExit):
        run.add_baseline(os.path.join(REPO, 'docs'), args)


def test_baseline_server_imports_the_other_checkout(monkeypatch, tmp_path):
    """A process started where and as the suite starts builtin-base's
    server imports engineio_fast from the baseline checkout, not from this
    one (`python -m` and `-c` put the working directory ahead of
    PYTHONPATH), and builtin's from this one."""
    import argparse
    import copy
    monkeypatch.syspath_prepend(REPO)
    from benchmarks.load import run
    monkeypatch.setattr(run, 'TARGETS', dict(run.TARGETS))
    monkeypatch.setattr(run, 'GROUPS', copy.deepcopy(run.GROUPS))
    other = tmp_path / 'checkout'
    (other / 'engineio_fast').mkdir(parents=True)
    (other / 'engineio_fast' / '__init__.py').write_text('')
    run.add_baseline(str(other), argparse.Namespace(targets=None))
    probe = [sys.executable, '-c',
             'import engineio_fast; print(engineio_fast.__file__)']
    for name, tree in (('builtin-base', str(other)), ('builtin', REPO)):
        cwd, env = run.launch_place(run.TARGETS[name])
        out = subprocess.run(probe, cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout
        assert os.path.dirname(os.path.dirname(out.strip())) == tree, name
