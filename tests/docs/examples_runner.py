"""Run a documentation example (docs/examples/) as its page says, and talk
to it with a real client.

An example runs in a subprocess from docs/examples/ (``python X.py`` or
``bash X.sh``), on a free 127.0.0.1 port given as ``$PORT``, in a process
group of its own: :class:`ExampleProcess` is tests/sync/servers.py's
``ServerProcess`` (its readiness probe, output capture and reaping) with the
example's own command line instead of tests/sync/serve.py.
"""

import os
import queue
import signal
import subprocess
import sys
import tempfile

import engineio_fast

from ..ports import free_port
from ..sync.servers import REPO_ROOT, ServerError, ServerProcess

EXAMPLES = os.path.join(REPO_ROOT, 'docs', 'examples')
TIMEOUT = 15.0          # one answer, or one connect, at most


def command(example):
    """The command line a reader types for ``example`` (a file name in
    docs/examples/)."""
    if example.endswith('.sh'):
        return ['bash', example]
    return [sys.executable, example]


def example_env(home, extra=None):
    """The environment of an example: this interpreter's scripts first on
    PATH (engineio-fast, uvicorn, gunicorn, uwsgi), the checkout and the
    examples folder importable, and a HOME of its own (gunicorn >= 25 binds
    a control socket in ~/.gunicorn)."""
    env = dict(os.environ)
    env['PATH'] = os.pathsep.join([os.path.dirname(sys.executable),
                                   env.get('PATH', '')])
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT, EXAMPLES] + ([env['PYTHONPATH']]
                                 if env.get('PYTHONPATH') else []))
    env['PYTHONUNBUFFERED'] = '1'
    env['HOME'] = str(home)
    env.update(extra or {})
    return env


class ExampleProcess(ServerProcess):
    """``example`` (a file in docs/examples/) serving on a free port."""

    MODES = {'example': None}

    def __init__(self, example, home, env=None, tls=False,
                 start_timeout=30.0):
        super().__init__('example', env=env, ready_path='/',
                         start_timeout=start_timeout, stop_timeout=10.0)
        self.example = example
        self.home = home
        self.tls = tls

    @property
    def url(self):
        return '%s://%s:%d' % ('https' if self.tls else 'http', self.host,
                               self.port)

    def _start_once(self):
        self.port = free_port(self.host)
        env = example_env(self.home, self.env)
        env['PORT'] = str(self.port)
        self._logfile = tempfile.NamedTemporaryFile(
            prefix='doc-example-', suffix='.log', delete=False)
        self._final_output = None
        self.proc = subprocess.Popen(
            command(self.example), cwd=EXAMPLES, env=env,
            stdin=subprocess.DEVNULL, stdout=self._logfile,
            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        # a shell example's server is bash's child: SIGTERM the group, so
        # the server itself shuts down (gracefully) rather than waiting out
        # the timeout for the SIGKILL
        proc = self.proc
        if proc is not None and proc.returncode is None \
                and not self._exited():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        super().stop()


class EchoClient:
    """engineio_fast's own Client, connected to ``url``: what it receives
    goes to a queue."""

    def __init__(self, url, transports=None, path='engine.io',
                 ssl_verify=True):
        self.received = queue.Queue()
        self.client = engineio_fast.Client(ssl_verify=ssl_verify)
        self.client.on('message', self.received.put)
        self.client.connect(url, transports=transports, engineio_path=path)

    def send(self, data):
        self.client.send(data)

    def next(self, timeout=TIMEOUT):
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                'nothing received in %.0f s' % timeout) from None

    def close(self):
        self.client.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def assert_echo(url, transports=None, path='engine.io', ssl_verify=True):
    """Connect, send a text and a binary message, get both back; return
    the transport the session ended on."""
    with EchoClient(url, transports, path, ssl_verify) as c:
        c.send('hello docs')
        assert c.next() == 'hello docs'
        c.send(b'\x00\x01binary')
        assert c.next() == b'\x00\x01binary'
        return c.client.transport()


def open_socketio(url, path='socket.io'):
    """A raw Socket.IO client over Engine.IO, left open: it joined the main
    namespace, emitted ``echo`` with an ack id and got the ack with the
    same data."""
    c = EchoClient(url, path=path)
    try:
        c.send('0')                 # CONNECT (Engine.IO adds its '4')
        opened = c.next()
        assert opened.startswith('0{"sid":'), opened
        c.send('21["echo","hello docs"]')     # EVENT with ack id 1
        assert c.next() == '31["hello docs"]'   # its ACK
    except BaseException:
        c.close()
        raise
    return c


def assert_socketio(url, path='socket.io'):
    """:func:`open_socketio`, then disconnect."""
    open_socketio(url, path).close()


def run_client(example, url, home, timeout=60.0):
    """Run a client example against ``url``; its output."""
    env = example_env(home, {'SERVER_URL': url})
    try:
        out = subprocess.run(command(example), cwd=EXAMPLES, env=env,
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ServerError('%s did not finish in %.0f s: %s'
                          % (example, timeout, exc.stdout)) from None
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout
