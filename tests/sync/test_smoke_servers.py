"""Smoke test: the echo app (tests/sync/echo_app.py) on every real WSGI
server kind, for python-engineio and engineio_fast: a polling handshake, a
message round trip over polling, a websocket round trip and a polling ->
websocket upgrade. Each server runs in a subprocess; only 127.0.0.1."""

import base64
import json
import time

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from .servers import KINDS, ServerProcess, kind_unavailable

IMPLS = [
    pytest.param('engineio_fast'),
    pytest.param('engineio'),
]

EIO_PATH = '/engine.io/?EIO=4'
TIMEOUT = 10.0


@pytest.mark.parametrize('kind', KINDS)
def test_kind_available(kind):
    """A kind whose server cannot run here fails (never a silent skip)."""
    problem = kind_unavailable(kind)
    assert problem is None, problem


@pytest.fixture(scope='module', params=KINDS)
def kind(request):
    return request.param


@pytest.fixture(scope='module', params=IMPLS)
def impl(request):
    return request.param


@pytest.fixture(scope='module')
def srv(kind, impl):
    with ServerProcess(kind, env={'EIO_IMPL': impl}) as server:
        yield server


def _handshake(client, srv):
    resp = client.get(srv.url + EIO_PATH + '&transport=polling')
    assert resp.status_code == 200, resp.text
    assert resp.text.startswith('0'), resp.text
    return json.loads(resp.text[1:])


def _poll_until(client, srv, sid, wanted):
    """GET polls (bounded) until every packet in ``wanted`` arrived."""
    got = []
    deadline = time.monotonic() + TIMEOUT
    for _ in range(20):
        if all(p in got for p in wanted) or time.monotonic() > deadline:
            break
        resp = client.get(srv.url + EIO_PATH + '&transport=polling&sid='
                          + sid)
        assert resp.status_code == 200, resp.text
        got += [p for p in resp.text.split('\x1e') if p != '6']
    return got


def test_polling_handshake(srv):
    with httpx.Client(timeout=TIMEOUT) as client:
        open_packet = _handshake(client, srv)
    assert isinstance(open_packet['sid'], str) and open_packet['sid']
    assert open_packet['upgrades'] == ['websocket']
    assert isinstance(open_packet['pingInterval'], int)
    assert isinstance(open_packet['pingTimeout'], int)
    assert isinstance(open_packet['maxPayload'], int)
    record = srv.record()
    assert record['impl'] == srv.env['EIO_IMPL']
    assert any(e['event'] == 'connect' and e['sid'] == open_packet['sid']
               for e in record['events'])


def test_polling_message_round_trip(srv):
    blob = bytes(range(256))
    b64 = base64.b64encode(blob).decode()
    with httpx.Client(timeout=TIMEOUT) as client:
        sid = _handshake(client, srv)['sid']
        resp = client.post(srv.url + EIO_PATH + '&transport=polling&sid='
                           + sid, content='4hello \u00e9\u20ac\x1eb' + b64)
        assert resp.status_code == 200, resp.text
        assert resp.text.lower() == 'ok'  # python-engineio answers 'OK'
        got = _poll_until(client, srv, sid,
                          ['4hello \u00e9\u20ac', 'b' + b64])
        assert '4hello \u00e9\u20ac' in got
        assert 'b' + b64 in got
        client.post(srv.url + EIO_PATH + '&transport=polling&sid=' + sid,
                    content='1')
    events = [e for e in srv.record()['events']
              if e['sid'] == sid and e['event'] == 'message']
    assert {e['data']['type'] for e in events} == {'str', 'bytes'}


def test_websocket_round_trip(srv):
    url = srv.ws_url + EIO_PATH + '&transport=websocket'
    with ws_connect(url, open_timeout=TIMEOUT, close_timeout=2) as ws:
        first = ws.recv(timeout=TIMEOUT)
        assert first.startswith('0'), first
        open_packet = json.loads(first[1:])
        assert open_packet['upgrades'] == []
        ws.send('4hello \u00e9')
        assert ws.recv(timeout=TIMEOUT) == '4hello \u00e9'
        ws.send(b'\x00\x01\xff')
        assert ws.recv(timeout=TIMEOUT) == b'\x00\x01\xff'
        ws.send('4sid')
        assert ws.recv(timeout=TIMEOUT) == '4' + open_packet['sid']


def test_polling_to_websocket_upgrade(srv):
    with httpx.Client(timeout=TIMEOUT) as client:
        sid = _handshake(client, srv)['sid']
        url = (srv.ws_url + EIO_PATH + '&transport=websocket&sid=' + sid)
        with ws_connect(url, open_timeout=TIMEOUT, close_timeout=2) as ws:
            ws.send('2probe')
            assert ws.recv(timeout=TIMEOUT) == '3probe'
            ws.send('5')
            ws.send('4transport')
            reply = ws.recv(timeout=TIMEOUT)
            while reply == '6':  # bounded: the server sends at most a few
                reply = ws.recv(timeout=TIMEOUT)
            assert reply == '4websocket'
