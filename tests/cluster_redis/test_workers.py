"""Issue 13, item 4: ``uvicorn --workers 2`` serving our ASGIApp with the
AsyncRedisManager, and ``gunicorn -w 2`` (gthread, eventlet) serving our
WSGIApp with the RedisManager, with no sticky load balancer: polling
requests that land on the worker that does not own their session are
forwarded to the owner through Redis, so every session works and every
message comes back in order (the official engine.io-client, polling
only)."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.cluster_redis.helpers import wait_for
from tests.cluster_redis.redis_proc import free_port, ping

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
pytestmark = [pytest.mark.timeout(120), pytest.mark.interop]


def start_workers(kind, redis_url, port, log_path, workers=2):
    """``kind``: 'uvicorn', 'gunicorn-gthread' or 'gunicorn-eventlet'."""
    env = dict(os.environ, REDIS_URL=redis_url, PYTHONUNBUFFERED='1',
               PYTHONPATH=ROOT)
    if kind == 'uvicorn':
        argv = [sys.executable, '-m', 'uvicorn',
                'tests.cluster_redis.asgi_app:app', '--workers',
                str(workers), '--host', '127.0.0.1', '--port', str(port),
                '--log-level', 'info', '--no-access-log']
    else:
        worker = kind.split('-')[1]
        env['EIO_ASYNC_MODE'] = ('eventlet' if worker == 'eventlet'
                                 else 'threading')
        argv = [sys.executable, '-m', 'gunicorn', '-w', str(workers),
                '-k', worker, '-b', '127.0.0.1:%d' % port,
                '--log-level', 'info', '--graceful-timeout', '2',
                '--no-control-socket', 'tests.cluster_redis.sync_app:app']
        if worker == 'gthread':
            argv[5:5] = ['--threads', '20']
    log = open(log_path, 'wb')
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, log


def stop_server(proc, log):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)     # its workers, if left
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(10)
    log.close()


READY = {'uvicorn': 'Application startup complete',
         'gunicorn-gthread': 'Booting worker',
         'gunicorn-eventlet': 'Booting worker'}


@pytest.mark.parametrize('kind', list(READY))
def test_polling_across_workers(kind, redis_srv, tmp_path):
    if shutil.which('node') is None:
        pytest.fail('node is not installed (the interop tests need it)')
    port = free_port()
    log_path = str(tmp_path / 'server.log')
    proc, log = start_workers(kind, redis_srv.url, port, log_path)
    try:
        import socket

        def listening():
            try:
                socket.create_connection(('127.0.0.1', port), 0.5).close()
                return True
            except OSError:
                return False
        assert wait_for(listening, timeout=20), open(log_path).read()
        # every worker is accepting (the server says so for each)
        assert wait_for(lambda: open(log_path).read().count(
            READY[kind]) >= 2, timeout=20), \
            open(log_path).read()
        assert ping(redis_srv.port)
        sessions, messages = 16, 30
        # the kernel spreads connections over the workers as it likes: a
        # run whose sessions all landed on one worker proves nothing, so
        # up to 4 runs (each checked below), until both workers own some
        for _ in range(4):
            out = subprocess.run(
                ['node', os.path.join(HERE, 'js', 'workers.mjs')],
                input=json.dumps({'url': 'http://127.0.0.1:%d' % port,
                                  'sessions': sessions,
                                  'messages': messages,
                                  'timeoutMs': 60000}).encode(),
                capture_output=True, timeout=90, cwd=HERE)
            assert out.returncode == 0, out.stderr.decode()[-3000:]
            results = json.loads(out.stdout)['results']
            check(results, messages, open(log_path).read())
            if len({r['pid'] for r in results}) == 2:
                break
    finally:
        stop_server(proc, log)
    text = open(log_path).read()
    # both workers own sessions, and requests were forwarded between them
    assert len({r['pid'] for r in results}) == 2, [r['pid'] for r in results]
    assert 'forwards polling requests' in text


def check(results, messages, text):
    """Every session got every echo, in order, and was not closed."""
    for k, r in enumerate(results):
        assert r['error'] is None, (r['error'], text[-3000:])
        echoes = [m for m in r['got'] if m.startswith('e')]
        assert echoes == ['e%d:%d' % (k, j) for j in range(messages)], \
            (k, r['got'][-5:], r['close'], text[-3000:])
        assert r['close'] is None, r['close']
