"""Graceful shutdown of the built-in server: SIGTERM and SIGINT to the CLI
in a subprocess (websockets closed with the Engine.IO close packet and
1001, parked polls answered, disconnect handlers run, new connections
refused, exit code 0 within a bound), and shutdown in-process with slow or
half-sent requests."""

import contextlib
import json
import signal
import socket
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

import engineio_fast as engineio

from ..support import BuiltinServer
from .builtin_helpers import (
    EIO_POLL,
    EIO_WS,
    WAIT,
    RawConn,
    RawWs,
    ServerProcess,
    echo_server,
    polling_open,
    request,
    wait_for,
)

EXIT_BOUND = 5.0


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT],
                         ids=['SIGTERM', 'SIGINT'])
def test_signal_graceful_shutdown(tmp_path, sig):
    with ServerProcess(['tests.io.builtin_app:app'], tmp_path) as srv, \
            contextlib.ExitStack() as stack:
        srv.wait_listening()
        assert 'serving on http://127.0.0.1:%d/' % srv.port in srv.stdout
        ws = stack.enter_context(ws_connect(srv.ws_url + EIO_WS,
                                            open_timeout=WAIT))
        ws_sid = json.loads(ws.recv(timeout=WAIT)[1:])['sid']
        ws.send('4hello')
        assert ws.recv(timeout=WAIT) == '4hello'
        poll_sid = polling_open(srv.url)
        parked = RawConn(srv.port)
        parked.send(request('GET', EIO_POLL + '&sid=' + poll_sid))
        assert parked.nothing_for(0.3)
        idle = RawConn(srv.port)           # keep-alive, between requests
        idle.send(request('GET', '/hello'))
        assert idle.read_response().body == b'hello from /hello'
        assert wait_for(lambda: len(srv.handler_lines()) >= 3)

        start = time.monotonic()
        srv.proc.send_signal(sig)
        # the websocket: the Engine.IO close packet, then a 1001 close
        assert ws.recv(timeout=WAIT) == '1'
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=WAIT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        ws.close()
        # the parked poll is answered with the close packet
        r = parked.read_response()
        assert (r.status, r.body) == (200, b'1')
        assert r.headers.get('connection') == 'close'
        assert parked.closed_within(WAIT)
        assert idle.closed_within(WAIT)
        # no new connections
        refused = False
        for _ in range(50):
            try:
                socket.create_connection(('127.0.0.1', srv.port),
                                         timeout=0.5).close()
            except OSError:
                refused = True
                break
            time.sleep(0.05)
        assert refused
        assert srv.proc.wait(EXIT_BOUND) == 0
        assert time.monotonic() - start < EXIT_BOUND
    lines = srv.handler_lines()
    assert ['connect', ws_sid] in lines and ['connect', poll_sid] in lines
    assert ['disconnect', ws_sid, 'server', 'disconnect'] in lines
    assert ['disconnect', poll_sid, 'server', 'disconnect'] in lines
    assert ['lifespan.startup'] == lines[0]
    assert ['lifespan.shutdown'] in lines
    assert 'Traceback' not in srv.stderr


def test_signal_with_nothing_connected(tmp_path):
    with ServerProcess(['tests.io.builtin_app:eio'], tmp_path) as srv:
        srv.wait_listening()
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(EXIT_BOUND) == 0
        assert time.monotonic() - start < EXIT_BOUND
    assert 'Traceback' not in srv.stderr


def test_shutdown_with_many_sessions(tmp_path):
    with ServerProcess(['tests.io.builtin_app:app'], tmp_path) as srv:
        srv.wait_listening()
        raws = [RawWs(srv.port) for _ in range(30)]
        sids = [ws.open_packet()['sid'] for ws in raws]
        polls = [polling_open(srv.url) for _ in range(10)]
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for ws in raws:
            assert ws.recv_text() == '1'
            assert ws.expect_close() == 1001
            ws.close()
        assert srv.proc.wait(EXIT_BOUND) == 0
        assert time.monotonic() - start < EXIT_BOUND
    gone = {line[1] for line in srv.handler_lines()
            if line[0] == 'disconnect'}
    assert gone == set(sids) | set(polls)


def test_in_process_shutdown_cuts_half_sent_requests():
    """Connections still sending request headers, or idle, do not hold the
    shutdown up; a parked poll and a websocket are answered."""
    eio = echo_server()
    srv = BuiltinServer(engineio.ASGIApp(eio)).start()
    try:
        half = RawConn(srv.port)
        half.send(b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n'
                  b'Host: x\r\nX-Slow: ')
        silent = RawConn(srv.port)
        sid = polling_open(srv.url)
        parked = RawConn(srv.port)
        parked.send(request('GET', EIO_POLL + '&sid=' + sid))
        ws = RawWs(srv.port)
        ws_sid = ws.open_packet()['sid']
        assert parked.nothing_for(0.2)
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 3.0
        assert parked.read_response().body == b'1'
        assert ws.recv_text() == '1'
        assert ws.expect_close() == 1001
        assert half.closed_within(WAIT)
        assert silent.closed_within(WAIT)
        for c in (half, silent, parked, ws):
            c.close()
    finally:
        srv.stop()
    assert eio.rec.reason(sid) == 'server disconnect'
    assert eio.rec.reason(ws_sid) == 'server disconnect'


def test_in_process_shutdown_lets_a_bridged_response_finish():
    import asyncio

    async def slow(scope, receive, send):
        if scope['type'] != 'http':
            return
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-length', b'10')]})
        await asyncio.sleep(0.5)
        await send({'type': 'http.response.body', 'body': b'0123456789'})

    srv = BuiltinServer(engineio.ASGIApp(echo_server(),
                                         other_asgi_app=slow)).start()
    try:
        c = RawConn(srv.port)
        c.send(request('GET', '/slow'))
        status, _, headers = c.read_head()
        assert status == 200
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 3.0
        assert c.read_exact(10) == b'0123456789'
        assert c.closed_within(WAIT)
        c.close()
    finally:
        srv.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + '/slow', timeout=1)
