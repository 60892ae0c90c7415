"""Fixtures for the interop suite: real servers on 127.0.0.1 and the node drivers.

Fixtures (all module scoped, parametrised over ``SERVER_KINDS``):

``server_kind``   the name of the server running the app ('uvicorn', 'builtin', or the
                  AsyncServer in 'aiohttp', 'sanic', 'tornado')
``start_server``  factory ``start_server(**server_options) -> ServerHandle``; every server it
                  starts is stopped when the module ends
``server``        a ``ServerHandle`` with default server options

``ServerHandle`` has ``kind``, ``port``, ``url`` ('http://127.0.0.1:PORT'), ``ws_url``,
``eio_url`` (the engine.io endpoint, '/engine.io/'), ``eio``, ``app``, ``recorder`` and
``call(coro_fn, *args, timeout=5)`` to run a coroutine on the server's loop.

Helpers: ``run_node(script, payload, timeout)`` runs a node driver with a JSON payload on
stdin and returns its JSON output. Missing node, node_modules or chromium fail loudly.
"""

import asyncio
import json
import os
import shutil
import subprocess

import pytest

from ..support import BuiltinServer, FrameworkServer, LiveServer
from .app import NODE_MODULES, make_app, static_plain

FRAMEWORKS = ['aiohttp', 'sanic', 'tornado']
SERVER_KINDS = ['uvicorn', 'builtin'] + FRAMEWORKS
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js')
CHROMIUM = '/usr/bin/chromium'


class ServerHandle:
    def __init__(self, kind, port, eio, app, recorder, loop_getter, stop):
        self.kind = kind
        self.port = port
        self.url = f'http://127.0.0.1:{port}'
        self.ws_url = f'ws://127.0.0.1:{port}'
        self.eio_url = f'{self.url}/engine.io/'
        self.eio = eio
        self.app = app
        self.recorder = recorder
        self._loop_getter = loop_getter
        self.stop = stop

    def call(self, coro_fn, *args, timeout=5.0):
        """Run ``coro_fn(*args)`` on the server's event loop and return its result."""
        future = asyncio.run_coroutine_threadsafe(coro_fn(*args), self._loop_getter())
        return future.result(timeout)


def _start_uvicorn(app):
    live = LiveServer(app).start()
    if not live.started:
        raise RuntimeError(f'uvicorn did not start: {live.error!r}')
    return live.port, (lambda: live.loop), live.stop


def _start_builtin(app):
    live = BuiltinServer(app).start()
    if not live.started:
        raise RuntimeError(f'the built-in server did not start: {live.error!r}')
    return live.port, (lambda: live.loop), live.stop


STARTERS = {'uvicorn': _start_uvicorn, 'builtin': _start_builtin}


@pytest.fixture(scope='module', params=SERVER_KINDS)
def server_kind(request):
    return request.param


@pytest.fixture(scope='module')
def start_server(server_kind):
    handles = []

    def start(**server_options):
        if server_kind in FRAMEWORKS:
            eio, asgi_app, recorder = make_app(server_kind, **server_options)
            live = FrameworkServer(server_kind, eio, static_plain).start()
            port, loop_getter, stop = live.port, (lambda: live.loop), live.stop
        else:
            eio, asgi_app, recorder = make_app(**server_options)
            port, loop_getter, stop = STARTERS[server_kind](asgi_app)
        handle = ServerHandle(server_kind, port, eio, asgi_app, recorder, loop_getter, stop)
        handles.append(handle)
        return handle

    yield start
    errors = []
    for handle in reversed(handles):
        try:
            handle.stop()
        except Exception as exc:  # keep stopping the others
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture(scope='module')
def server(start_server):
    return start_server()


def require_node():
    if shutil.which('node') is None:
        pytest.fail('node is not installed (the interop suite needs Node >= 18)')
    if not os.path.isfile(os.path.join(NODE_MODULES, 'engine.io-client', 'package.json')):
        pytest.fail(f'{NODE_MODULES} is missing: run `npm ci` in the repository root')


def require_chromium():
    require_node()
    if not os.path.isfile(os.path.join(NODE_MODULES, 'playwright-core', 'package.json')):
        pytest.fail('playwright-core is missing from node_modules: run `npm ci`')
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f'{CHROMIUM} is missing: apt-get install chromium')


def run_node(script, payload, timeout):
    """Run ``js/<script>`` with ``payload`` as JSON on stdin; return its JSON stdout.

    The driver bounds itself; ``timeout`` (seconds) is the hard limit for the process.
    """
    require_node()
    path = os.path.join(JS_DIR, script)
    try:
        proc = subprocess.run(['node', path], input=json.dumps(payload).encode(),
                              capture_output=True, timeout=timeout, cwd=JS_DIR)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f'node {script} did not exit within {timeout}s; '
                             f'stderr: {(exc.stderr or b"")[-3000:]!r}') from None
    stdout = proc.stdout.decode('utf-8', 'replace')
    stderr = proc.stderr.decode('utf-8', 'replace')
    if proc.returncode != 0:
        raise AssertionError(f'node {script} exited {proc.returncode}; stderr: {stderr[-3000:]}'
                             f'\nstdout: {stdout[-2000:]}')
    try:
        return json.loads(stdout)
    except ValueError:
        raise AssertionError(f'node {script} printed no JSON: {stdout[-2000:]!r}; '
                             f'stderr: {stderr[-3000:]}') from None
