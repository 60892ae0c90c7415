"""``python -m engineio_fast`` / ``engineio-fast``: serving an AsyncServer
and an ASGIApp, TLS options, bad specs, and the demo."""

import gc
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from ..support import BuiltinServer, make_cert
from .builtin_helpers import (
    EIO_POLL,
    EIO_WS,
    ROOT,
    WAIT,
    ServerProcess,
    echo_server,
    free_port,
    run_cli,
    sigterm,
)


def test_serve_a_bare_async_server(tmp_path):
    with ServerProcess(['tests.io.builtin_app:eio'], tmp_path) as srv:
        srv.wait_listening()
        r = httpx.get(srv.url + EIO_POLL, timeout=WAIT)
        assert r.status_code == 200 and r.text.startswith('0{')
        sid = json.loads(r.text[1:])['sid']
        q = EIO_POLL + '&sid=' + sid
        assert httpx.post(srv.url + q, content=b'4cli').text == 'ok'
        assert httpx.get(srv.url + q, timeout=WAIT).text == '4cli'
        assert httpx.get(srv.url + '/hello').status_code == 404
        with ws_connect(srv.ws_url + EIO_WS, open_timeout=WAIT) as ws:
            assert ws.recv(timeout=WAIT)[0] == '0'
            ws.send('4via ws')
            assert ws.recv(timeout=WAIT) == '4via ws'
        sigterm(srv)
    assert ['connect', sid] in srv.handler_lines()
    out = srv.stdout
    assert 'serving on http://127.0.0.1:%d/' % srv.port in out
    assert 'kernels' in out


def test_the_process_freezes_what_it_starts_with(tmp_path):
    """The CLI owns its process: once listening, what exists is frozen for
    the cyclic collector (gc.freeze()); a BuiltinServer started inside
    another process (here, this one) freezes nothing."""
    with ServerProcess(['tests.io.builtin_app:eio'], tmp_path) as srv:
        srv.wait_listening()
        r = httpx.get(srv.url + EIO_POLL, timeout=WAIT)
        q = EIO_POLL + '&sid=' + json.loads(r.text[1:])['sid']
        assert httpx.post(srv.url + q, content=b'4gc-frozen').text == 'ok'
        answer = httpx.get(srv.url + q, timeout=WAIT).text
        assert answer.startswith('4frozen '), answer
        assert int(answer.split()[1]) > 1000, answer
        sigterm(srv)
    before = gc.get_freeze_count()
    live = BuiltinServer(echo_server()).start()
    try:
        assert gc.get_freeze_count() == before
    finally:
        live.stop()


def test_serve_an_asgi_app(tmp_path):
    with ServerProcess(['tests.io.builtin_app:app', '--host', '127.0.0.1',
                        '--loop', 'asyncio'], tmp_path) as srv:
        srv.wait_listening()
        r = httpx.get(srv.url + '/some/page', timeout=WAIT)
        assert (r.status_code, r.text) == (200, 'hello from /some/page')
        r = httpx.get(srv.url + EIO_POLL, timeout=WAIT)
        assert r.status_code == 200 and r.text.startswith('0{')
        sigterm(srv)
    assert srv.handler_lines()[0] == ['lifespan.startup']
    assert srv.handler_lines()[-1] == ['lifespan.shutdown']


def test_serve_with_tls(tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    with ServerProcess(['tests.io.builtin_app:app', '--ssl-certfile',
                        certfile, '--ssl-keyfile', keyfile],
                       tmp_path) as srv:
        srv.wait_listening()
        ctx = ssl.create_default_context(cafile=certfile)
        base = 'https://127.0.0.1:%d' % srv.port
        r = httpx.get(base + EIO_POLL, verify=ctx, timeout=WAIT)
        assert r.status_code == 200 and r.text.startswith('0{')
        with ws_connect('wss://127.0.0.1:%d' % srv.port + EIO_WS, ssl=ctx,
                        open_timeout=WAIT) as ws:
            assert ws.recv(timeout=WAIT)[0] == '0'
            ws.send('4tls')
            assert ws.recv(timeout=WAIT) == '4tls'
        sigterm(srv)
    assert 'serving on https://' in srv.stdout


@pytest.mark.parametrize('spec, message', [
    ('no_colon_here', 'expected module:attribute'),
    ('tests.io.no_such_module:app', 'cannot load'),
    ('tests.io.builtin_app:no_such_attr', 'cannot load'),
    (':app', 'expected module:attribute'),
    ('tests.io.builtin_app:', 'expected module:attribute'),
    ('tests.io.builtin_app:not_an_app', 'AsyncServer'),
])
def test_bad_spec_exits_2(spec, message):
    port = free_port()
    p = run_cli([spec, '--port', str(port)])
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert message in p.stderr
    assert 'Traceback' not in p.stderr


def test_bad_arguments_exit_2():
    p = run_cli([])
    assert p.returncode == 2 and 'usage' in p.stderr
    p = run_cli(['tests.io.builtin_app:app', '--port', 'eighty'])
    assert p.returncode == 2 and 'port must be 0 to 65535' in p.stderr
    p = run_cli(['--help'])
    assert p.returncode == 0 and 'module:attribute' in p.stdout


def test_port_in_use(tmp_path):
    import socket
    log = tmp_path / 'handlers.log'
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = run_cli(['tests.io.builtin_app:app', '--port', str(port)],
                    env=dict(os.environ, BUILTIN_APP_LOG=str(log)))
    assert p.returncode == 1
    assert 'address already in use' in p.stderr.lower()
    assert 'Traceback' not in p.stderr
    # the app had started: it is shut down again
    assert log.read_text().split() == ['lifespan.startup',
                                       'lifespan.shutdown']


def _demo_cmd():
    exe = shutil.which('engineio-fast')
    if exe is not None:
        return [exe, 'demo']
    return [sys.executable, '-m', 'engineio_fast', 'demo']


def test_demo_serves_the_page(tmp_path):
    from engineio_fast import demo
    assert demo.find_client_js() is not None, \
        'engine.io-client is not installed: run npm ci'
    port = free_port()
    out = open(tmp_path / 'out', 'wb')
    err = open(tmp_path / 'err', 'wb')
    proc = subprocess.Popen(_demo_cmd() + ['--port', str(port)], cwd=ROOT,
                            stdout=out, stderr=err)
    try:
        base = 'http://127.0.0.1:%d' % port
        r = None
        for _ in range(200):      # up to ~10 s to start
            try:
                r = httpx.get(base + '/', timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                import time
                time.sleep(0.05)
        assert r is not None, (tmp_path / 'err').read_text()
        assert r.status_code == 200
        assert r.headers['content-type'].startswith('text/html')
        assert '<html' in r.text.lower() and 'engine.io' in r.text
        js = httpx.get(base + '/engine.io.min.js', timeout=WAIT)
        assert js.status_code == 200 and len(js.content) > 10000
        with ws_connect('ws://127.0.0.1:%d' % port + EIO_WS,
                        open_timeout=WAIT) as ws:
            assert ws.recv(timeout=WAIT)[0] == '0'
            ws.send('4{"type":"ping","ts":1}')
            # the demo also sends presence lists (who is connected)
            for _ in range(5):
                reply = json.loads(ws.recv(timeout=WAIT)[1:])
                if reply['type'] != 'presence':
                    break
            assert reply['type'] == 'pong' and reply['ts'] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        out.close()
        err.close()
