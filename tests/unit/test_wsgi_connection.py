"""adapters/wsgi/connection.py on its own: which WSGI environs get
``Connection: close`` announced and ``TCP_NODELAY`` set (a real TCP socket
on 127.0.0.1; the environ is the shape gevent.pywsgi builds). The behaviour
on the real servers is tested in tests/sync/test_keepalive.py."""

import socket
import types

import pytest

from engineio_fast.adapters.wsgi import connection

pytestmark = pytest.mark.timeout(30)

GEVENT = 'gevent/26.9 Python/3.11'


@pytest.fixture
def tcp():
    """A connected TCP socket (the server's end) with Nagle on."""
    listener = socket.create_server(('127.0.0.1', 0))
    client = socket.create_connection(listener.getsockname(), timeout=5)
    server, _ = listener.accept()
    listener.close()
    server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    yield server
    server.close()
    client.close()


_RFILES = []


@pytest.fixture(autouse=True)
def _close_rfiles():
    yield
    while _RFILES:
        _RFILES.pop().close()


def _environ(sock, software=GEVENT, connection_header=None, **extra):
    # gevent.pywsgi's wsgi.input holds the connection's reader as .rfile
    rfile = sock.makefile('rb')
    _RFILES.append(rfile)
    environ = {'SERVER_SOFTWARE': software,
               'wsgi.input': types.SimpleNamespace(rfile=rfile)}
    if connection_header is not None:
        environ['HTTP_CONNECTION'] = connection_header
    environ.update(extra)
    return environ


def _headers_sent(start_response):
    got = []

    def server_start(status, headers, exc_info=None):
        got.append((status, list(headers)))
    start = start_response(server_start)
    start('200 OK', [('Content-Length', '0')])
    return got[0][1]


def _nodelay(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize('value', ['close', 'Close', 'keep-alive, close',
                                   'TE,close'])
def test_gevent_close_request_is_announced(tcp, value):
    environ = _environ(tcp, connection_header=value)
    headers = _headers_sent(lambda sr: connection.prepare(environ, sr))
    assert ('Connection', 'close') in headers
    assert _nodelay(tcp)


@pytest.mark.parametrize('value', [None, 'keep-alive', 'Upgrade',
                                   'closed'])
def test_gevent_without_close_only_nodelay(tcp, value):
    environ = _environ(tcp, connection_header=value)
    server_start = object()
    assert connection.prepare(environ, server_start) is server_start
    assert _nodelay(tcp)


@pytest.mark.parametrize('software,extra', [
    ('Werkzeug/3.1', {}),
    ('gunicorn', {}),
    ('', {}),
    # uWSGI's gevent loop is not gevent.pywsgi
    (GEVENT, {'uwsgi.version': b'2.0.31'}),
])
def test_other_servers_untouched(tcp, software, extra):
    environ = _environ(tcp, software=software, connection_header='close',
                       **extra)
    server_start = object()
    assert connection.prepare(environ, server_start) is server_start
    assert not _nodelay(tcp)


def test_not_tcp_is_left_alone():
    a, b = socket.socketpair()
    try:
        environ = _environ(a, connection_header='close')
        headers = _headers_sent(lambda sr: connection.prepare(environ, sr))
        assert ('Connection', 'close') in headers
    finally:
        a.close()
        b.close()


def test_no_socket_still_announces():
    environ = {'SERVER_SOFTWARE': GEVENT, 'HTTP_CONNECTION': 'close'}
    headers = _headers_sent(lambda sr: connection.prepare(environ, sr))
    assert ('Connection', 'close') in headers
