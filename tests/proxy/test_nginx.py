"""engineio_fast behind a real nginx (Debian ``nginx``, started here on the
shipped deploy/nginx/engineio_fast.conf, only its two addresses changed):
polling and websocket through it to the built-in server and to uvicorn,
and the connect handler sees the client's address (the client connects
from 127.0.0.2; nginx, trusted, from 127.0.0.1), never one a client made
up: straight to the backend from 127.0.0.2, X-Forwarded-For is ignored.
The built-in server's CLI flags (--forwarded-allow-ips,
--no-proxy-headers) are tested the same way."""

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from tests.io.builtin_helpers import (
    EIO_POLL,
    ROOT,
    RawConn,
    RawWs,
    ServerProcess,
    connect_from,
    free_port,
    request,
)

pytestmark = pytest.mark.timeout(120)

SHIPPED = os.path.join(ROOT, 'deploy', 'nginx', 'engineio_fast.conf')
APP = 'tests.proxy.whoami_app:app'
CLIENT = '127.0.0.2'        # the client's own address (loopback too)


def nginx_binary():
    found = shutil.which('nginx') or (
        '/usr/sbin/nginx' if os.path.exists('/usr/sbin/nginx') else None)
    if found is None:
        pytest.fail('nginx is not installed (tests/run.sh installs the '
                    'Debian package)')
    return found


class Nginx:
    """nginx in the foreground on the shipped file, in ``directory``."""

    def __init__(self, directory, backend_port):
        self.port = free_port()
        with open(SHIPPED) as f:
            conf = f.read()
        # the two addresses the file marks, and nothing else
        assert conf.count('127.0.0.1:5000;') == 1
        assert conf.count('listen 80;') == 1
        conf = conf.replace('127.0.0.1:5000;', '127.0.0.1:%d;' % backend_port)
        conf = conf.replace('listen 80;', 'listen 127.0.0.1:%d;' % self.port)
        d = str(directory)
        os.makedirs(os.path.join(d, 'conf.d'), exist_ok=True)
        with open(os.path.join(d, 'conf.d', 'engineio_fast.conf'), 'w') as f:
            f.write(conf)
        temps = ' '.join('%s_temp_path %s/%s;' % (kind, d, kind) for kind in
                         ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
        with open(os.path.join(d, 'nginx.conf'), 'w') as f:
            f.write('worker_processes 1;\npid %s/nginx.pid;\n'
                    'error_log %s/error.log warn;\n'
                    'events { worker_connections 256; }\n'
                    'http { access_log off; %s\n'
                    '  include %s/conf.d/engineio_fast.conf; }\n'
                    % (d, d, temps, d))
        os.chmod(d, 0o777)      # nginx's workers run as nobody
        self.log = os.path.join(d, 'error.log')
        self.proc = subprocess.Popen(
            [nginx_binary(), '-p', d, '-c', os.path.join(d, 'nginx.conf'),
             '-g', 'daemon off;'], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise AssertionError('nginx exited: %s'
                                     % self.proc.stderr.read().decode())
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.5).close()
                return
            except OSError:
                assert time.monotonic() < deadline, 'nginx not listening'
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def backend(kind, directory, *extra):
    os.makedirs(str(directory), exist_ok=True)
    if kind == 'builtin':
        srv = ServerProcess([APP, '--host', '127.0.0.1'] + list(extra),
                            directory)
    else:
        # uvicorn's own --proxy-headers (default 127.0.0.1 trusted)
        srv = ServerProcess([APP, '--host', '127.0.0.1', '--proxy-headers',
                             '--log-level', 'warning'] + list(extra),
                            directory, module='uvicorn')
    srv.wait_listening()
    return srv


def whoami_polling(port, source, headers=()):
    def once(method, target, body=b''):
        with RawConn(port, sock=connect_from(source, port)) as c:
            c.send(request(method, target, list(headers), body=body))
            return c.read_response()

    r = once('GET', EIO_POLL)
    assert r.status == 200, r
    target = EIO_POLL + '&sid=' + json.loads(r.body[1:])['sid']
    r = once('POST', target, b'4whoami')
    assert (r.status, r.body) == (200, b'ok'), r
    r = once('GET', target)
    assert r.status == 200 and r.body.startswith(b'4{'), r
    return json.loads(r.body[1:])


def whoami_websocket(port, source, headers=()):
    ws = RawWs(port, headers=list(headers), sock=connect_from(source, port))
    try:
        ws.open_packet()
        ws.send_text('4whoami')
        text = ws.recv_text()
        assert text.startswith('4{'), text
        return json.loads(text[1:])
    finally:
        ws.close()


WHOAMI = {'polling': whoami_polling, 'websocket': whoami_websocket}


@pytest.mark.parametrize('transport', sorted(WHOAMI))
@pytest.mark.parametrize('kind', ['builtin', 'uvicorn'])
def test_through_nginx_the_client_is_seen(tmp_path, kind, transport):
    srv = backend(kind, tmp_path / 'backend')
    proxy = Nginx(tmp_path / 'nginx', srv.port)
    try:
        # through nginx: the client's address, and its scheme
        assert WHOAMI[transport](proxy.port, CLIENT) == {
            'addr': CLIENT, 'scheme': 'http'}
        # straight to the backend from an untrusted address: what the
        # client claims is ignored
        spoof = [('X-Forwarded-For', '198.51.100.66'),
                 ('X-Forwarded-Proto', 'https')]
        assert WHOAMI[transport](srv.port, CLIENT, spoof) == {
            'addr': CLIENT, 'scheme': 'http'}
    finally:
        proxy.stop()
        srv.stop()
        with open(proxy.log) as f:
            errors = [line for line in f if '[error]' in line
                      or '[crit]' in line or '[emerg]' in line]
        assert errors == []


@pytest.mark.parametrize('transport', sorted(WHOAMI))
def test_through_nginx_without_proxy_headers_nginx_is_seen(tmp_path,
                                                           transport):
    # the same path with the headers not read: the backend sees nginx
    srv = backend('builtin', tmp_path / 'backend', '--no-proxy-headers')
    proxy = Nginx(tmp_path / 'nginx', srv.port)
    try:
        assert WHOAMI[transport](proxy.port, CLIENT) == {
            'addr': '127.0.0.1', 'scheme': 'http'}
    finally:
        proxy.stop()
        srv.stop()


@pytest.mark.parametrize('transport', sorted(WHOAMI))
def test_cli_flags(tmp_path, transport):
    spoof = [('X-Forwarded-For', '198.51.100.66'),
             ('X-Forwarded-Proto', 'https')]
    # trusting 127.0.0.2 only: its headers count, 127.0.0.1's do not
    srv = backend('builtin', tmp_path / 'a', '--forwarded-allow-ips',
                  '127.0.0.2')
    try:
        assert WHOAMI[transport](srv.port, '127.0.0.2', spoof) == {
            'addr': '198.51.100.66', 'scheme': 'https'}
        assert WHOAMI[transport](srv.port, '127.0.0.1', spoof) == {
            'addr': '127.0.0.1', 'scheme': 'http'}
    finally:
        srv.stop()
    # --no-proxy-headers: never read, not even from 127.0.0.1
    srv = backend('builtin', tmp_path / 'b', '--no-proxy-headers')
    try:
        assert WHOAMI[transport](srv.port, '127.0.0.1', spoof) == {
            'addr': '127.0.0.1', 'scheme': 'http'}
    finally:
        srv.stop()
