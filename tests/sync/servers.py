"""Run a WSGI Engine.IO app on a real server in a subprocess.

The pytest process never imports eventlet or gevent: each server runs as
``python -m tests.sync.serve KIND 127.0.0.1 PORT`` (see serve.py).

    with ServerProcess('gevent', env={'EIO_IMPL': 'engineio'}) as srv:
        httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling')
"""

import functools
import http.client
import importlib.util
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time

from .. import ports as _ports

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

KINDS = ['werkzeug', 'gunicorn-gthread', 'gunicorn-eventlet', 'eventlet',
         'gevent', 'gevent-ws', 'uwsgi']

MODE_OF_KIND = {
    'werkzeug': 'threading',
    'gunicorn-gthread': 'threading',
    'gunicorn-eventlet': 'eventlet',
    'eventlet': 'eventlet',
    'gevent': 'gevent',
    'gevent-ws': 'gevent',
    'uwsgi': 'gevent_uwsgi',
}

# the Python distributions each kind needs (import names)
PACKAGES_OF_KIND = {
    'werkzeug': ['werkzeug', 'simple_websocket'],
    'gunicorn-gthread': ['gunicorn', 'simple_websocket'],
    'gunicorn-eventlet': ['gunicorn', 'eventlet'],
    'eventlet': ['eventlet'],
    'gevent': ['gevent', 'simple_websocket'],
    'gevent-ws': ['gevent', 'geventwebsocket'],
    'uwsgi': ['gevent'],
}

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def _find_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def kind_unavailable(kind):
    """None when KIND can run here, else a message saying what is missing.

    Only looks (find_spec, file checks, ``uwsgi --version``): never imports
    eventlet or gevent into the calling process."""
    if kind not in MODE_OF_KIND:
        return 'unknown server kind %r' % kind
    missing = [name for name in PACKAGES_OF_KIND[kind]
               if not _find_module(name)]
    if missing:
        return '%s: missing Python packages: %s' % (kind, ', '.join(missing))
    if kind == 'gunicorn-eventlet':
        spec = importlib.util.find_spec('gunicorn')
        worker = os.path.join(os.path.dirname(spec.origin), 'workers',
                              'geventlet.py')
        if not os.path.exists(worker):
            return ('gunicorn-eventlet: this gunicorn has no eventlet worker '
                    '(removed in gunicorn 26; install gunicorn<26)')
    if kind == 'uwsgi':
        here = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
        binary = here if os.path.isfile(here) else None
        if binary is None:
            import shutil
            binary = shutil.which('uwsgi')
        if binary is None:
            return 'uwsgi: no uwsgi executable (pip install uwsgi failed?)'
        try:
            out = subprocess.run([binary, '--help'], capture_output=True,
                                 timeout=10, text=True)
        except (OSError, subprocess.SubprocessError) as exc:
            return 'uwsgi: %s --help failed: %r' % (binary, exc)
        if '--gevent ' not in out.stdout:
            return 'uwsgi: %s was built without the gevent plugin' % binary
    return None


def kind_available(kind):
    """True when KIND's packages (and executables) are present."""
    return kind_unavailable(kind) is None


free_port = _ports.free_port   # see tests/ports.py


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """Context manager: KIND serving APP on a free 127.0.0.1 port.

    ``env`` entries override the inherited environment (``EIO_IMPL``,
    ``EIO_PING_INTERVAL``, ...); ``EIO_ASYNC_MODE`` defaults to the kind's
    mode. ``ready_path`` is requested until the server answers it with a
    status below 500 (the echo app answers ``/_health``; any app with a
    404 fallback answers too).
    """

    # the kinds this class runs (kind -> async mode), and the module that
    # serves one (a subclass may run more kinds through its own module)
    MODES = MODE_OF_KIND
    SERVE_MODULE = 'tests.sync.serve'

    def __init__(self, kind, app='tests.sync.echo_app:app', env=None,
                 host='127.0.0.1', ready_path='/_health',
                 start_timeout=START_TIMEOUT, stop_timeout=STOP_TIMEOUT,
                 hide_geventwebsocket=None, extra_args=()):
        if kind not in self.MODES:
            raise ValueError('unknown server kind %r' % kind)
        self.kind = kind
        self.app = app
        self.host = host
        self.env = dict(env or {})
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        if hide_geventwebsocket is None:
            # plain gevent pywsgi: python-engineio only does websocket there
            # when gevent-websocket is NOT importable (it then uses
            # simple-websocket); hide it so the kind works as documented
            hide_geventwebsocket = kind == 'gevent'
        self.hide_geventwebsocket = hide_geventwebsocket
        self.extra_args = list(extra_args)
        self.port = None
        self.proc = None
        self._logfile = None
        self._final_output = None

    # -- public -----------------------------------------------------------
    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    @property
    def ws_url(self):
        return 'ws://%s:%d' % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def output(self):
        """Everything the server printed so far (stdout and stderr)."""
        if self._final_output is not None:
            return self._final_output
        if self._logfile is None:
            return ''
        self._logfile.flush()
        with open(self._logfile.name, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def alive(self):
        return self.proc is not None and not self._exited()

    def record(self, clear=False, timeout=5.0):
        """The echo app's /_record JSON (see echo_app.py)."""
        path = '/_record/clear' if clear else '/_record'
        status, body = self.http_get(path, timeout=timeout)
        if status != 200:
            raise ServerError('GET %s -> %s: %r' % (path, status, body[:200]))
        return json.loads(body)

    #: serving HTTPS (with a self-signed certificate): set by subclasses
    tls = False

    def http_get(self, path, timeout=5.0):
        if self.tls:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout,
                context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection(self.host, self.port,
                                              timeout=timeout)
        try:
            conn.request('GET', path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        unavailable = (kind_unavailable(self.kind)
                       if self.kind in MODE_OF_KIND else None)
        if unavailable:
            raise ServerError('server kind unavailable: ' + unavailable)
        last_error = None
        for _ in range(3):  # a new port when another process took ours
            try:
                self._start_once()
                return self
            except ServerError as exc:
                last_error = exc
                if 'Address already in use' not in str(exc):
                    raise
        raise last_error

    def _start_once(self):
        self.port = free_port(self.host)
        env = dict(os.environ)
        env.setdefault('EIO_IMPL', 'engineio_fast')
        env['EIO_ASYNC_MODE'] = self.MODES[self.kind]
        env.update(self.env)
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONPATH'] = os.pathsep.join(
            [REPO_ROOT] + ([env['PYTHONPATH']] if env.get('PYTHONPATH')
                           else []))
        argv = [sys.executable, '-m', self.SERVE_MODULE, self.kind,
                self.host, str(self.port), '--app', self.app]
        if self.hide_geventwebsocket:
            argv.append('--hide-geventwebsocket')
        argv += self.extra_args
        self._logfile = tempfile.NamedTemporaryFile(
            prefix='eio-%s-' % self.kind, suffix='.log', delete=False)
        self._final_output = None
        self.proc = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self._logfile, stderr=subprocess.STDOUT,
            start_new_session=True)  # own process group: reaped as a whole
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        last = None
        while True:
            if self._exited():
                raise ServerError(
                    '%s server exited before it was ready; output:\n%s'
                    % (self.kind, self.output()))
            try:
                status, _ = self.http_get(self.ready_path, timeout=2.0)
                if status < 500:
                    return
                last = 'HTTP %d' % status
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise ServerError(
                    '%s server not ready after %.0f s (last probe: %s); '
                    'output:\n%s' % (self.kind, self.start_timeout, last,
                                     self.output()))
            time.sleep(0.1)

    def _exited(self):
        """True once the leader exited. Leaves it a zombie (WNOWAIT), so its
        pid stays reserved and killing its process group stays safe."""
        if self.proc.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _wait_exited(self, timeout):
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self):
        """SIGTERM, bounded wait, then SIGKILL (the whole process group);
        always reaps. Idempotent."""
        proc = self.proc
        if proc is None:
            return
        try:
            if not self._exited():
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
                self._wait_exited(self.stop_timeout)
        finally:
            # children (gunicorn/uwsgi workers) must not outlive the leader;
            # the leader is at most a zombie here, so the group id is ours
            self._kill_group()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
            if self._logfile is not None:
                self._final_output = self.output()
                self._logfile.close()
                try:
                    os.unlink(self._logfile.name)
                except OSError:
                    pass
                self._logfile = None

    def _kill_group(self):
        if self.proc.returncode is not None:
            return  # reaped already: the group id may not be ours any more
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def __repr__(self):
        return '<ServerProcess %s %s pid=%s>' % (self.kind, self.port and
                                                 self.url, self.pid)
