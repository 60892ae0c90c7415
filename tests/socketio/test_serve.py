"""python-socketio apps served as they are by engineio_fast's built-in
server: ``engineio-fast module:NAME`` (which switches ``engineio`` to
engineio_fast by itself) and ``engineio_fast.run()`` after
``engineio_fast.install()``, for every shape of tests/socketio/shapes.py (a
bare AsyncServer, its ASGIApp, an ASGIApp in front of FastAPI, FastAPI with
the ASGIApp mounted at ``/``, at ``/ws``, and at ``/ws`` with the full
path), the mounted ones under uvicorn too, at the same paths;
python-socketio's AsyncClient (on python-engineio) and the official
socket.io-client (node) connect to each. And what cannot be served is
refused with a message that says what to do.

Every server starts once for the module, concurrently; each client runs
once for all of them.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ..interop.conftest import run_node
from ..io.builtin_helpers import ROOT, ServerProcess
from .shapes import PATHS, WITH_API

pytestmark = pytest.mark.timeout(120)

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js')
# every shape through the CLI and through engineio_fast.run(); the ASGI
# ones under uvicorn too (the same paths answer there)
UVICORN_SHAPES = ('app_other', 'api_ws', 'api_full')
# no switch from the environment: the CLI (or install()) must make it
NO_ENV_SWITCH = {'ENGINEIO_FAST_AS_ENGINEIO': ''}
TARGETS = [('cli', name) for name in PATHS] + \
    [('run', name) for name in PATHS] + \
    [('uvicorn', name) for name in UVICORN_SHAPES]
IDS = ['%s-%s' % target for target in TARGETS]


@pytest.fixture(scope='module')
def servers(tmp_path_factory):
    procs = {}
    try:
        for how, name in TARGETS:
            folder = tmp_path_factory.mktemp('%s-%s' % (how, name))
            if how == 'cli':
                procs[how, name] = ServerProcess(
                    ['tests.socketio.shapes:' + name], folder,
                    env=NO_ENV_SWITCH)
            else:
                procs[how, name] = ServerProcess(
                    [name] + (['--uvicorn'] if how == 'uvicorn' else []),
                    folder, env=NO_ENV_SWITCH,
                    module='tests.socketio.run_shape')
        for proc in procs.values():
            proc.wait_listening(30)
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def targets_of(servers):
    return [{'name': '%s-%s' % key, 'url': proc.url, 'path': PATHS[key[1]],
             'api': key[1] in WITH_API} for key, proc in servers.items()]


@pytest.fixture(scope='module')
def python_results(servers):
    out = subprocess.run(
        [sys.executable, '-m', 'tests.socketio.shapes_client'],
        input=json.dumps(targets_of(servers)), capture_output=True,
        text=True, timeout=90, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.fixture(scope='module')
def js_results(servers):
    return run_node(os.path.join(JS, 'shapes.mjs'),
                    {'targets': targets_of(servers), 'timeoutMs': 40000}, 60)


def check_hello(hello, how, name):
    assert hello['answer'] == 'HI!'
    assert hello['engine'] == 'engineio_fast.async_server.AsyncServer'
    assert hello['engineio'] == 'engineio_fast'
    # no file of python-engineio was loaded, whoever made the switch
    assert all('/engineio_fast/' in f for f in hello['engineio_files']), \
        hello['engineio_files']
    # the engine saw the request at the full path
    assert hello['path'] == PATHS[name] + '/'


@pytest.mark.parametrize('how, name', TARGETS, ids=IDS)
def test_python_socketio_client(python_results, servers, how, name):
    got = python_results['%s-%s' % (how, name)]
    assert 'error' not in got, got
    assert got['refused'] == [{'message': 'denied', 'data': {'code': 42}}]
    check_hello(got['hello'], how, name)
    assert got['transport'] == 'websocket'
    status, body = got['api']
    if name in WITH_API:
        assert status == 200
        assert json.loads(body) == {'from': 'fastapi',
                                    'engineio': 'engineio_fast'}
    else:
        assert status == 404
    assert servers[how, name].proc.poll() is None


@pytest.mark.interop
@pytest.mark.parametrize('how, name', TARGETS, ids=IDS)
def test_official_client(js_results, how, name):
    got = js_results['%s-%s' % (how, name)]
    assert 'error' not in got, got
    assert got['refused'] == {'message': 'denied', 'data': {'code': 42}}
    check_hello(got['hello'], how, name)
    assert got['transport'] == 'websocket'


def run_cli(args, env=None):
    return subprocess.run(
        [sys.executable, '-m', 'engineio_fast'] + args + ['--port', '1'],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, **(env or NO_ENV_SWITCH)))


@pytest.mark.parametrize('name, message', [
    ('sync_sio', 'is a synchronous Engine.IO server'),
    ('api_alone', 'expected an engineio_fast.AsyncServer, a python-socketio'),
])
def test_cli_refuses_what_it_cannot_serve(name, message):
    out = run_cli(['tests.socketio.shapes:' + name])
    assert out.returncode == 2, out
    assert 'cannot serve tests.socketio.shapes:%s: ' % name in out.stderr
    assert message in out.stderr
    assert 'Traceback' not in out.stderr


def test_cli_says_why_when_python_engineio_was_imported_first():
    """python-engineio imported before the CLI could switch (as a
    sitecustomize could): the app runs on it, and the CLI says so."""
    out = subprocess.run([sys.executable, '-c', textwrap.dedent('''
        import sys, engineio
        from engineio_fast.cli import main
        sys.exit(main(['tests.socketio.shapes:app', '--port', '1']))
    ''')], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, **NO_ENV_SWITCH))
    assert out.returncode == 2, out
    assert 'runs on python-engineio (engineio.async_server.AsyncServer)' \
        in out.stderr
    assert 'call engineio_fast.install() before "import socketio"' \
        in out.stderr
    assert 'engineio_fast.install() must run before "engineio" is ' \
        'imported' in out.stderr


@pytest.mark.parametrize('shape', ['socketio.ASGIApp(sio)', 'sio'])
def test_run_before_install_says_how_to_fix_it(shape):
    out = subprocess.run([sys.executable, '-c', textwrap.dedent('''
        import socketio, engineio_fast
        sio = socketio.AsyncServer(async_mode='asgi')
        try:
            engineio_fast.run(%s, port=1)
        except TypeError as exc:
            print(exc)
    ''' % shape)], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, **NO_ENV_SWITCH))
    assert out.returncode == 0, out.stderr
    assert 'runs on python-engineio (engineio.async_server.AsyncServer), ' \
        'not engineio_fast' in out.stdout
    assert 'call engineio_fast.install() before "import socketio"' \
        in out.stdout


def test_servers_stop_on_sigterm(servers):
    """Last: every server shuts down cleanly (the app's lifespan, the
    python-socketio server's shutdown) on SIGTERM."""
    for proc in servers.values():
        assert proc.proc.poll() is None, proc.stderr
        proc.proc.send_signal(signal.SIGTERM)
    for (how, name), proc in servers.items():
        # uvicorn re-raises the signal once it has shut down
        clean = (0, -signal.SIGTERM) if how == 'uvicorn' else (0,)
        assert proc.proc.wait(15) in clean, (how, name, proc.stderr)
        assert 'Traceback' not in proc.stderr, (how, name, proc.stderr)
