"""Shared pieces of the client interop tests (tests/client/test_js_server.py).

- ``JSServer``: the official engine.io 6 server (``js_server.mjs``) in a node child process on
  127.0.0.1; ``record(sid)`` returns what the server saw (``GET /_record``).
- ``Session``: one engine.io client (``Client`` or ``AsyncClient`` of either implementation)
  driven through the same blocking API; the AsyncClient runs on its own event loop in a
  thread. Events (connect, messages, disconnect reasons) land in one thread-safe collector.
- fixtures: ``impl`` (engineio_fast / python-engineio), ``kind`` (sync / async),
  ``transport`` (polling / websocket / upgrade), ``js_server`` (module scoped, default
  options), ``start_js_server`` (factory for other options), ``sessions`` (factory; at
  teardown every client is disconnected, every loop closed, and no exception may have escaped
  into a background thread or an event loop), ``known_failure`` (marks python-engineio's
  param strict-xfail for a documented limitation).

The helpers here never import a module of this directory, so they work with or without
tests/client/__init__.py.
"""

import asyncio
import gc
import importlib
import json
import os
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NODE_MODULES = os.path.join(REPO, 'node_modules')
JS_SERVER = os.path.join(HERE, 'js_server.mjs')

# seconds a loaded 2-core machine may add on top of a protocol deadline
SLACK = 1.5
START_TIMEOUT = 15.0

IMPLS = ['engineio_fast', 'python-engineio']
KINDS = ['sync', 'async']
TRANSPORTS = {'polling': ['polling'], 'websocket': ['websocket'], 'upgrade': None}


def load_impl(name):
    """The module whose ``Client`` / ``AsyncClient`` / ``exceptions`` are tested."""
    return importlib.import_module('engineio_fast' if name == 'engineio_fast' else 'engineio')


# ---------------------------------------------------------------------------------------------
# deterministic payloads, the same as js_server.mjs builds
_UNIT = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-é😀'


def big_text(n):
    return (_UNIT * (n // len(_UNIT) + 1))[:n]


def big_bytes(n):
    return bytes(i % 251 for i in range(n))


# ---------------------------------------------------------------------------------------------
# the JavaScript server
def require_node():
    if shutil.which('node') is None:
        pytest.fail('node is not installed (the client interop tests need Node >= 18)')
    if not os.path.isfile(os.path.join(NODE_MODULES, 'engine.io', 'package.json')):
        pytest.fail(f'{NODE_MODULES} is missing engine.io: run `npm ci` in the repository root')


class JSServer:
    """``node js_server.mjs OPTIONS`` on 127.0.0.1; stopped (killed and reaped) by ``stop()``."""

    def __init__(self, **options):
        require_node()
        self.options = options
        self.tls = bool(options.get('tls'))
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ['node', JS_SERVER, json.dumps(options)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, cwd=HERE)
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        scheme = 'https' if self.tls else 'http'
        self.url = f'{scheme}://127.0.0.1:{self.port}'

    def _read_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        line = b''
        while not line.endswith(b'\n'):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f'js_server.mjs printed no port in {START_TIMEOUT}s; '
                                     f'stderr: {self.stderr()}')
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f'js_server.mjs exited ({self.proc.poll()}); '
                                         f'stderr: {self.stderr()}')
                line += chunk
        return json.loads(line)['port']

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode('utf-8', 'replace')[-3000:]

    def alive(self):
        return self.proc.poll() is None

    def record(self, sid=None, timeout=5.0):
        url = f'{self.url}/_record' + (f'?sid={sid}' if sid else '')
        context = None
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(url, timeout=timeout, context=context) as res:
            return json.loads(res.read())

    def wait_record(self, sid, predicate, timeout=5.0):
        """Poll ``record(sid)`` until ``predicate(rec)``; return the last record either way."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.record(sid)
            if rec is not None and predicate(rec):
                return rec
            if time.monotonic() > deadline:
                return rec
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        finally:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self._stderr.close()


# ---------------------------------------------------------------------------------------------
# clients
class Events:
    """What a client's handlers saw; ``wait`` blocks (bounded) until a predicate holds."""

    def __init__(self):
        self.cond = threading.Condition()
        self.connects = 0
        self.messages = []
        self.disconnects = []
        self.times = {}

    def add(self, what, value=None):
        with self.cond:
            if what == 'connect':
                self.connects += 1
            elif what == 'message':
                self.messages.append(value)
            else:
                self.disconnects.append(value)
                self.times.setdefault('disconnect', time.monotonic())
            self.cond.notify_all()

    def wait(self, predicate, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)


def bounded(fn, timeout, what):
    """Run blocking ``fn()`` in a daemon thread; AssertionError if it is still running after
    ``timeout`` seconds (a hung client fails the test instead of hanging it)."""
    box = {}

    def run():
        try:
            box['value'] = fn()
        except BaseException as exc:  # handed to the caller
            box['error'] = exc

    thread = threading.Thread(target=run, daemon=True, name=f'bounded-{what}')
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f'{what} did not return within {timeout}s')
    if 'error' in box:
        raise box['error']
    return box.get('value')


class Session:
    """One client (sync or async) of one implementation behind a blocking API."""

    def __init__(self, mod, kind, unhandled, **client_kwargs):
        self.mod = mod
        self.kind = kind
        self.events = Events()
        self.unhandled = unhandled
        client_kwargs.setdefault('handle_sigint', False)
        self.loop = None
        self.thread = None
        if kind == 'async':
            self.loop = asyncio.new_event_loop()
            self.loop.set_exception_handler(self._loop_exception)
            self.thread = threading.Thread(target=self._run_loop, daemon=True,
                                           name='client-loop')
            self.thread.start()
            self.client = self.call(self._make_async(client_kwargs))
        else:
            self.client = mod.Client(**client_kwargs)
            self.client.on('connect', lambda: self.events.add('connect'))
            self.client.on('message', lambda data: self.events.add('message', data))
            self.client.on('disconnect', lambda reason: self.events.add('disconnect', reason))

    # -- async plumbing
    def _run_loop(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _loop_exception(self, loop, context):
        self.unhandled.append(('loop', context.get('message'), context.get('exception')))

    async def _make_async(self, client_kwargs):
        client = self.mod.AsyncClient(**client_kwargs)

        async def on_connect():
            self.events.add('connect')

        async def on_message(data):
            self.events.add('message', data)

        async def on_disconnect(reason):
            self.events.add('disconnect', reason)

        client.on('connect', on_connect)
        client.on('message', on_message)
        client.on('disconnect', on_disconnect)
        return client

    def call(self, coro, timeout=15.0):
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise AssertionError(f'{getattr(coro, "__qualname__", coro)} did not finish '
                                 f'within {timeout}s') from None

    # -- the client API
    def connect(self, url, headers=None, transports=None, timeout=15.0, **kwargs):
        if self.kind == 'async':
            return self.call(self.client.connect(url, headers=headers, transports=transports,
                                                 **kwargs), timeout)
        return bounded(lambda: self.client.connect(url, headers=headers, transports=transports,
                                                   **kwargs), timeout, 'connect()')

    def send(self, data, timeout=10.0):
        if self.kind == 'async':
            return self.call(self.client.send(data), timeout)
        return self.client.send(data)

    def send_many(self, items, timeout=20.0):
        """Send all ``items`` back to back (one call per item, no waiting in between)."""
        if self.kind == 'async':
            async def send_all():
                for item in items:
                    await self.client.send(item)
            return self.call(send_all(), timeout)
        for item in items:
            self.client.send(item)

    def disconnect(self, timeout=15.0):
        if self.kind == 'async':
            return self.call(self.client.disconnect(), timeout)
        return bounded(self.client.disconnect, timeout, 'disconnect()')

    def transport(self):
        return self.client.transport()

    @property
    def sid(self):
        return self.client.sid

    @property
    def state(self):
        return self.client.state

    # -- waiting on events
    def wait_messages(self, n, timeout=10.0):
        """The first ``n`` messages; AssertionError (with what came) if fewer arrive in time
        or the client disconnects first."""
        ok = self.events.wait(lambda e: len(e.messages) >= n or e.disconnects, timeout)
        ok = ok and len(self.events.messages) >= n
        with self.events.cond:
            got = list(self.events.messages)
        if not ok:
            raise AssertionError(f'{len(got)} of {n} messages within {timeout}s; '
                                 f'disconnects: {self.events.disconnects}; '
                                 f'last: {[_short(m) for m in got[-3:]]}')
        return got[:n]

    def wait_disconnect(self, timeout):
        """The first disconnect reason, or None if there was none within ``timeout``."""
        self.events.wait(lambda e: e.disconnects, timeout)
        with self.events.cond:
            return self.events.disconnects[0] if self.events.disconnects else None

    def close(self):
        """Teardown: disconnect if still connected, stop the loop. Bounded."""
        try:
            if getattr(self, 'client', None) is not None and self.client.state != 'disconnected':
                try:
                    self.disconnect(timeout=10.0)
                except Exception as exc:  # recorded, teardown goes on
                    self.unhandled.append(('teardown disconnect', repr(exc), exc))
        finally:
            if self.loop is not None:
                self._stop_loop()

    def _stop_loop(self):
        async def drain():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=3)
            self.client = None
            # let abandoned aiohttp/websocket objects finalise while the loop can still run
            # their callbacks (not after loop.close(), where they would raise)
            gc.collect()
            await asyncio.sleep(0.01)

        try:
            self.call(drain(), 10)
        except AssertionError:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


def _short(value):
    if isinstance(value, (str, bytes)) and len(value) > 60:
        return f'{type(value).__name__}[{len(value)}]'
    return value


# ---------------------------------------------------------------------------------------------
# fixtures
@pytest.fixture(params=IMPLS)
def impl(request):
    return request.param


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture(params=list(TRANSPORTS))
def transport(request):
    return request.param


@pytest.fixture
def known_failure(request, impl):
    """``known_failure(reason, when=True)``: python-engineio's param is expected to fail
    (strict xfail: it must keep failing, so a fixed upstream shows up).

    ``strict=False`` only for a python-engineio bug that shows up now and then (a race), where
    a strict xfail would make the suite flaky; the reason says so."""

    def mark(reason, when=True, strict=True):
        if impl == 'python-engineio' and when:
            request.node.add_marker(pytest.mark.xfail(strict=strict, reason=reason))

    return mark


@pytest.fixture
def sessions(impl, kind):
    """``sessions(**client_kwargs) -> Session`` for the current impl/kind. Teardown closes them
    and fails the test if an exception escaped into a thread or an event loop."""
    mod = load_impl(impl)
    unhandled = []
    made = []
    previous_hook = threading.excepthook

    def hook(args):
        unhandled.append(('thread', getattr(args.thread, 'name', None), args.exc_value))

    threading.excepthook = hook

    def make(**client_kwargs):
        session = Session(mod, kind, unhandled, **client_kwargs)
        made.append(session)
        return session

    make.mod = mod
    make.unhandled = unhandled
    try:
        yield make
        # pytest keeps the last failure's traceback in sys.last_* (an xfailed test's too); its
        # frames would keep the client's sockets alive past the close of their event loop
        for name in ('last_type', 'last_value', 'last_traceback', 'last_exc'):
            if hasattr(sys, name):
                setattr(sys, name, None)
        for session in made:
            session.close()
    finally:
        threading.excepthook = previous_hook
    errors = [u for u in unhandled if u[2] is not None]
    assert not errors, f'exceptions escaped into background threads/loops: {errors!r}'


@pytest.fixture(scope='module')
def start_js_server():
    servers = []

    def start(**options):
        server = JSServer(**options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope='module')
def js_server(start_js_server):
    return start_js_server(pingInterval=500, pingTimeout=500)


@pytest.fixture
def fresh_js_server():
    """A server of its own (for tests that kill it)."""
    server = JSServer(pingInterval=500, pingTimeout=500)
    try:
        yield server
    finally:
        server.stop()
