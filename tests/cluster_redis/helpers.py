"""Two server processes ("hosts") sharing one Redis, and clients that
record what they receive."""

import json
import os
import signal
import subprocess
import threading
import time

import engineio_fast
from tests.cluster.helpers import KERNELS, STOP_BOUND
from tests.interop.conftest import require_node
from tests.io.builtin_helpers import ServerProcess as BuiltinProcess
from tests.sync.servers import ServerProcess as WsgiProcess

WAIT = 10.0


def wait_for(predicate, timeout=WAIT, step=0.02):
    """Poll ``predicate`` until true or ``timeout`` s passed (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Host:
    """One server process with a Redis manager: the built-in server with an
    AsyncServer (``async``), or gunicorn with a sync Server
    (``gunicorn-gthread``, ``gunicorn-eventlet``)."""

    def __init__(self, kind, redis_url, directory, env=None):
        self.env = dict(env or {})
        self.kind = kind
        self.redis_url = redis_url
        self.dir = str(directory)
        self.proc = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        if self.kind == 'async':
            self.proc = BuiltinProcess(
                ['--redis', self.redis_url], self.dir, env=self.env,
                module='tests.cluster_redis.async_app')
            self.proc.wait_listening()
        else:
            self.proc = WsgiProcess(
                self.kind, app='tests.cluster_redis.sync_app:app',
                env=dict(self.env, REDIS_URL=self.redis_url)).start()
        return self

    @property
    def url(self):
        return self.proc.url

    def log(self):
        if self.kind == 'async':
            return self.proc.stderr + self.proc.stdout
        return self.proc.output()

    def stop(self):
        if self.proc is not None:
            self.proc.stop()


class Peer:
    """An engineio_fast Client (what a Python user would run) recording
    every message it receives."""

    def __init__(self, url, transports=None):
        self.client = engineio_fast.Client()
        self.lock = threading.Lock()
        self.messages = []
        self.disconnected = threading.Event()
        self.client.on('message', self._message)
        self.client.on('disconnect', self._disconnect)
        self.client.connect(url, transports=transports)
        self.sid = self.client.sid

    def _message(self, data):
        with self.lock:
            self.messages.append(data)

    def _disconnect(self, *reason):
        self.disconnected.set()

    def got(self):
        with self.lock:
            return list(self.messages)

    def send(self, data):
        self.client.send(data)

    def ask(self, command, prefix, timeout=WAIT):
        """Send ``command`` and return the next answer starting with
        ``prefix`` (None after ``timeout``)."""
        with self.lock:
            start = len(self.messages)
        self.send(command)
        found = []

        def answered():
            for m in self.got()[start:]:
                if isinstance(m, str) and m.startswith(prefix):
                    found.append(m)
                    return True
            return False
        wait_for(answered, timeout)
        return found[0] if found else None

    def who(self, timeout=WAIT):
        answer = self.ask('who', 'who', timeout)
        assert answer is not None, 'no answer to who'
        assert answer.startswith('who '), answer
        return set(json.loads(answer[4:]))

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass


JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'js')


def drive_node(script, payload, timeout=120):
    """Run ``js/<script>`` with ``payload`` on stdin; its JSON output."""
    require_node()
    proc = subprocess.run(
        ['node', os.path.join(JS, script)],
        input=json.dumps(payload).encode(), capture_output=True,
        timeout=timeout, cwd=JS)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return json.loads(proc.stdout)


def four_workers(spec, module, via, kernels, redis_url, tmp_path, drive):
    """Serve with 4 built-in workers and Redis, by the command line
    (``spec`` is ``module:attribute``) or by ``engineio_fast.run(...,
    workers=4)`` in ``module``'s ``__main__``; run ``drive(url)`` against
    them, then SIGTERM: the workers must stop in time and cleanly.
    Returns ``(what drive returned, the server's stderr)``."""
    env = dict(KERNELS[kernels], REDIS_URL=redis_url)
    if via == 'cli':
        srv = BuiltinProcess([spec, '--workers', '4'], tmp_path, env=env)
    else:
        srv = BuiltinProcess(['--workers', '4'], tmp_path, env=env,
                             module=module)
    try:
        srv.wait_listening()
        out = drive(srv.url)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(STOP_BOUND) == 0
    finally:
        srv.stop()
    return out, srv.stderr
