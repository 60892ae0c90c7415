"""Two server processes ("hosts") sharing one Redis, and clients that
record what they receive."""

import json
import os
import threading
import time

import engineio_fast
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
