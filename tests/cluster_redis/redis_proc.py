"""A real redis-server (Debian's /usr/bin/redis-server) for one test: on a
free 127.0.0.1 port, in a temporary directory, stopped by the test.

    with RedisServer(tmp_path, aof=True) as redis_srv:
        redis_srv.url          # redis://127.0.0.1:PORT/0
        redis_srv.stop()       # SHUTDOWN (with aof: everything is on disk)
        redis_srv.start()      # the same port and directory again
"""

import os
import shutil
import socket
import subprocess
import time

from .. import ports as _ports

REDIS_SERVER = shutil.which('redis-server') or '/usr/bin/redis-server'
START_TIMEOUT = 10.0


free_port = _ports.free_port   # see tests/ports.py


def available():
    return os.path.isfile(REDIS_SERVER) and os.access(REDIS_SERVER, os.X_OK)


def ping(port, timeout=0.5):
    """Whether a Redis answers PING on ``port``."""
    try:
        with socket.create_connection(('127.0.0.1', port),
                                      timeout=timeout) as s:
            s.sendall(b'PING\r\n')
            return s.recv(64).startswith(b'+PONG')
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory, aof=False, port=None):
        self.dir = str(directory)
        self.aof = aof
        self.port = port or free_port()
        self.proc = None
        self.log = os.path.join(self.dir, 'redis.log')

    @property
    def url(self):
        return 'redis://127.0.0.1:%d/0' % self.port

    def argv(self):
        argv = [REDIS_SERVER, '--port', str(self.port), '--bind', '127.0.0.1',
                '--dir', self.dir, '--save', '', '--daemonize', 'no',
                '--logfile', self.log, '--protected-mode', 'no']
        if self.aof:
            argv += ['--appendonly', 'yes', '--appendfsync', 'always']
        else:
            argv += ['--appendonly', 'no']
        return argv

    def start(self):
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('redis-server exited: %s' % self.tail())
            if ping(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError('redis-server did not answer: %s' % self.tail())

    def tail(self):
        try:
            with open(self.log) as f:
                return f.read()[-2000:]
        except OSError:
            return ''

    def stop(self):
        """SIGTERM (Redis shuts down cleanly, its AOF on disk), then
        SIGKILL after 10 s; by this process's pid only."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
