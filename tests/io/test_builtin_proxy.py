"""The built-in server behind a proxy (``proxy_headers``,
``forwarded_allow_ips``, uvicorn's names and defaults): the connect
handler's environ has the client's address and scheme when the peer is a
trusted proxy, and the peer's own when it is not, whatever the headers say.
Clients connect from 127.0.0.2 when they must not be trusted (all of
127/8 is loopback). The same behind a real nginx: tests/proxy/."""

import json

import pytest

from .builtin_helpers import (
    EIO_POLL,
    RawConn,
    RawWs,
    Recorder,
    connect_from,
    echo_server,
    request,
)

FORWARDED = [('X-Forwarded-For', '198.51.100.1, 203.0.113.7'),
             ('X-Forwarded-Proto', 'https')]


def polling_environ(srv, rec, source='127.0.0.1', headers=()):
    with RawConn(srv.port, sock=connect_from(source, srv.port)) as c:
        c.send(request('GET', EIO_POLL, headers))
        r = c.read_response()
    assert r.status == 200, r
    sid = json.loads(r.body[1:])['sid']
    return next(e[2] for e in rec.of('connect') if e[1] == sid)


def ws_environ(srv, rec, source='127.0.0.1', headers=()):
    ws = RawWs(srv.port, headers=headers, sock=connect_from(source, srv.port))
    sid = ws.open_packet()['sid']
    ws.close()
    return next(e[2] for e in rec.of('connect') if e[1] == sid)


@pytest.mark.parametrize('environ_of', [polling_environ, ws_environ],
                         ids=['polling', 'websocket'])
def test_a_trusted_proxy_names_the_client(builtin, environ_of):
    rec = Recorder()
    srv = builtin(echo_server(rec))     # default: 127.0.0.1 is trusted
    env = environ_of(srv, rec, headers=FORWARDED)
    assert env['REMOTE_ADDR'] == '203.0.113.7'
    assert env['wsgi.url_scheme'] == 'https'
    env = environ_of(srv, rec)          # no headers: the peer itself
    assert env['REMOTE_ADDR'] == '127.0.0.1'
    assert env['wsgi.url_scheme'] == 'http'


@pytest.mark.parametrize('environ_of', [polling_environ, ws_environ],
                         ids=['polling', 'websocket'])
def test_headers_from_an_untrusted_peer_are_ignored(builtin, environ_of):
    rec = Recorder()
    srv = builtin(echo_server(rec))
    env = environ_of(srv, rec, source='127.0.0.2', headers=FORWARDED)
    assert env['REMOTE_ADDR'] == '127.0.0.2'
    assert env['wsgi.url_scheme'] == 'http'
    # trusted by a network, then not trusted at all
    srv = builtin(echo_server(rec), forwarded_allow_ips='127.0.0.0/30')
    env = environ_of(srv, rec, source='127.0.0.2', headers=FORWARDED)
    assert env['REMOTE_ADDR'] == '203.0.113.7'
    srv = builtin(echo_server(rec), proxy_headers=False)
    env = environ_of(srv, rec, headers=FORWARDED)
    assert env['REMOTE_ADDR'] == '127.0.0.1'


@pytest.mark.parametrize('environ_of', [polling_environ, ws_environ],
                         ids=['polling', 'websocket'])
def test_each_forwarded_header_is_read_alone_in_any_case(builtin, environ_of):
    # the server notes a request that has a header of either name's length
    # as it parses (only those are read for the proxy's word): each one
    # alone, in whatever letter case, among other headers, still counts
    rec = Recorder()
    srv = builtin(echo_server(rec))
    other = [('Accept-Language', 'en'), ('X-Forwarded-Host', 'example.com')]
    env = environ_of(srv, rec, headers=other + [('x-forwarded-proto',
                                                 'https')])
    assert env['REMOTE_ADDR'] == '127.0.0.1'
    assert env['wsgi.url_scheme'] == 'https'
    env = environ_of(srv, rec, headers=[('X-FORWARDED-FOR', '203.0.113.9')]
                     + other)
    assert env['REMOTE_ADDR'] == '203.0.113.9'
    assert env['wsgi.url_scheme'] == 'http'
    # a header of X-Forwarded-For's length with another name says nothing
    env = environ_of(srv, rec, headers=[('X-Forwarded-Fox', '203.0.113.9')])
    assert env['REMOTE_ADDR'] == '127.0.0.1'


@pytest.mark.parametrize('value', ['unknown', '203.0.113.7:99', 'x' * 3000,
                                   '203.0.113.7, evil.example'])
def test_malformed_forwarded_for_keeps_the_peer(builtin, value):
    rec = Recorder()
    srv = builtin(echo_server(rec))
    env = polling_environ(srv, rec, headers=[('X-Forwarded-For', value)])
    assert env['REMOTE_ADDR'] == '127.0.0.1'


def test_the_rate_limit_counts_the_client_not_the_proxy(builtin):
    # handshake_rate_limit is per REMOTE_ADDR: behind a trusted proxy,
    # that is each client's own address
    rec = Recorder()
    srv = builtin(echo_server(rec, handshake_rate_limit=(2, 60)))
    for client in ('203.0.113.1', '203.0.113.2'):
        for _ in range(2):
            polling_environ(srv, rec, headers=[('X-Forwarded-For', client)])
    with RawConn(srv.port) as c:
        c.send(request('GET', EIO_POLL,
                       [('X-Forwarded-For', '203.0.113.1')]))
        r = c.read_response()
    assert r.status == 429, r
    env = polling_environ(srv, rec, headers=[('X-Forwarded-For',
                                              '203.0.113.3')])
    assert env['REMOTE_ADDR'] == '203.0.113.3'
