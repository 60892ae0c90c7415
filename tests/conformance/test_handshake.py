"""Handshake on both transports, and its errors (the official suite's
"handshake" section, with the JavaScript server's error bodies)."""

import json
import os
import subprocess

import pytest

from .wire import (
    HERE,
    MAX_PAYLOAD,
    PING_INTERVAL,
    PING_TIMEOUT,
    QUICK,
    RawRequest,
    assert_no_session,
    eio_path,
    ws_open,
    ws_recv,
)

pytestmark = pytest.mark.interop

OPEN_KEYS = {'sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload'}


def _check_open(info, upgrades):
    assert set(info) == OPEN_KEYS, info
    assert isinstance(info['sid'], str) and info['sid'], info
    assert info['upgrades'] == upgrades
    assert info['pingInterval'] == round(PING_INTERVAL * 1000)
    assert info['pingTimeout'] == round(PING_TIMEOUT * 1000)
    assert info['maxPayload'] == MAX_PAYLOAD


def test_polling_opens_a_session(target, agent):
    reply = agent.get(eio_path())
    assert reply.status == 200
    assert reply.headers['content-type'].lower() == 'text/plain; charset=utf-8'
    assert reply.text.startswith('0'), reply
    _check_open(json.loads(reply.text[1:]), ['websocket'])


@pytest.mark.parametrize('query', [
    '?transport=polling', '?EIO=abc&transport=polling',
    '?EIO=3&transport=polling'])
def test_polling_bad_eio(target, agent, query):
    reply = agent.get('/engine.io/' + query)
    assert reply.status == 400
    assert reply.json() == {'code': 5,
                            'message': 'Unsupported protocol version'}


@pytest.mark.parametrize('query', ['?EIO=4', '?EIO=4&transport=abc'])
def test_polling_bad_transport(target, agent, query):
    reply = agent.get('/engine.io/' + query)
    assert reply.status == 400
    assert reply.json() == {'code': 0, 'message': 'Transport unknown'}


@pytest.mark.parametrize('method', ['POST', 'PUT'])
def test_handshake_bad_method(target, agent, method):
    reply = agent.request(method, eio_path(), body='4hello')
    assert reply.status == 400
    assert reply.json() == {'code': 2, 'message': 'Bad handshake method'}


def test_websocket_transport_without_upgrade(target, agent):
    reply = agent.get(eio_path(transport='websocket'))
    assert reply.status == 400
    assert reply.json() == {'code': 3, 'message': 'Bad request'}


def test_unknown_sid(target, agent):
    reply = agent.get(eio_path('no-such-sid'))
    assert reply.status == 400
    assert reply.json() == {'code': 1, 'message': 'Session ID unknown'}


def test_websocket_opens_a_session(target):
    with ws_open(target) as ws:
        first = ws_recv(ws)
        assert isinstance(first, str) and first.startswith('0'), first
        _check_open(json.loads(first[1:]), [])


@pytest.mark.parametrize('eio', [None, 'abc', '3'])
def test_websocket_bad_eio(target, eio):
    assert_no_session(target, EIO=eio)


@pytest.mark.parametrize('transport', [None, 'abc'])
def test_websocket_bad_transport(target, transport):
    assert_no_session(target, transport=transport)


def test_websocket_unknown_sid(target):
    assert_no_session(target, sid='no-such-sid')


def test_connection_close_is_never_silent(target):
    """A request with ``Connection: close``: the server closes the
    connection after its response only if that response says ``Connection:
    close`` (RFC 9112 9.6). Closing without saying so breaks clients that
    keep connections alive, such as Node's agent (the next test)."""
    req = RawRequest(target.port, 'GET', eio_path(),
                     ['Connection: close'])
    try:
        reply = req.read_response()
        assert reply.status == 200 and reply.text.startswith('0'), reply
        said_close = reply.headers.get('connection', '').lower() == 'close'
        assert req.closed_by_server(QUICK if said_close else 0.5) \
            == said_close, reply.headers
    finally:
        req.close()


def test_requests_as_the_official_suite_makes_them(target):
    """The official suite's HTTP client: node-fetch on Node's keep-alive
    global agent sends ``Connection: close`` yet puts the socket back in the
    pool unless the response says ``close``. Every request of a polling
    session made that way gets its answer (js/agent.mjs)."""
    proc = subprocess.run(
        ['node', os.path.join(HERE, 'js', 'agent.mjs'), str(target.port)],
        capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    steps = json.loads(proc.stdout)
    got = [(s['what'], s['status']) for s in steps]
    assert got == [(s['what'], s['expect']) for s in steps]
