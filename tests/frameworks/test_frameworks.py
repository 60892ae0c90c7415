"""The AsyncServer in aiohttp, Sanic and Tornado over real sockets on
127.0.0.1: python-engineio's async modes and import paths, whole bodies
(the 200 KB POST python-engineio's aiohttp driver truncates at times), the
same answers to bad input as the ASGI server, CORS, cookies, compression,
websockets with bad frames, the connect handler's environ, the path given
to attach(), and shutdown. The session rules, the conformance suite and the
official client run on these servers too (tests/io/test_session_rules.py,
tests/conformance, tests/interop)."""

import asyncio
import gzip
import importlib
import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

import engineio_fast
from engineio_fast.adapters import frameworks as _frameworks

from ..io.builtin_helpers import (
    OP_CLOSE,
    OP_TEXT,
    RawWs,
    close_code,
    frame,
    wait_for,
)
from ..support import FrameworkServer
from .conftest import echo_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

pytestmark = pytest.mark.timeout(90)

WAIT = 5.0
POLL = '/engine.io/?EIO=4&transport=polling'
WS = '/engine.io/?EIO=4&transport=websocket'
BIG = 200_000


def open_sid(client, path=POLL, **kw):
    r = client.get(path, **kw)
    assert r.status_code == 200, r.text
    return json.loads(r.text[1:].split('\x1e')[0])['sid']


# -- async modes and import paths, as python-engineio ------------------------

def test_default_async_mode_is_python_engineios():
    import engineio
    assert engineio_fast.AsyncServer().async_mode == \
        engineio.AsyncServer().async_mode == 'aiohttp'
    assert engineio_fast.AsyncServer().async_modes() == \
        engineio.AsyncServer().async_modes()


@pytest.mark.parametrize('mode', ['aiohttp', 'sanic', 'tornado', 'asgi'])
def test_each_mode_as_python_engineio(mode):
    import engineio
    assert engineio_fast.AsyncServer(async_mode=mode).async_mode == \
        engineio.AsyncServer(async_mode=mode).async_mode == mode


@pytest.mark.parametrize('mode', ['threading', 'eventlet', 'bogus'])
def test_invalid_mode_is_python_engineios_value_error(mode):
    import engineio
    with pytest.raises(ValueError) as theirs:
        engineio.AsyncServer(async_mode=mode)
    with pytest.raises(ValueError) as ours:
        engineio_fast.AsyncServer(async_mode=mode)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize('missing, chosen', [
    ((), 'aiohttp'), (('aiohttp',), 'sanic'), (('aiohttp', 'sanic'), 'tornado'),
    (('aiohttp', 'sanic', 'tornado'), 'asgi')])
def test_auto_selection_order(monkeypatch, missing, chosen):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name in missing
                        else real(name, *a))
    assert engineio_fast.AsyncServer().async_mode == chosen
    for mode in missing:
        # asked for by name, a missing framework is python-engineio's
        # ValueError (its sanic driver imports without Sanic, and fails
        # later: ours says so at once)
        with pytest.raises(ValueError, match='Invalid async_mode'):
            engineio_fast.AsyncServer(async_mode=mode)


def _driver_modules():
    import engineio.async_drivers as theirs
    return sorted(name[:-3] for name in os.listdir(theirs.__path__[0])
                  if name.endswith('.py') and not name.startswith('_'))


_IMPORTS = r"""
import importlib, json, sys, warnings
out = {}
for module in sys.argv[1:]:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # eventlet's deprecation notice
        try:
            importlib.import_module(module)
            out[module] = 'ok'
        except ImportError as exc:
            out[module] = type(exc).__name__
print(json.dumps(out))
"""


def _imports(*modules):
    """What importing each module gives (``'ok'`` or the ImportError's
    class name), each in the same fresh interpreter: importing the green
    frameworks' drivers into the test process would leave eventlet's and
    gevent's hubs about for every later test."""
    out = subprocess.run([sys.executable, '-c', _IMPORTS] + list(modules),
                         capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_python_engineio_driver_path_exists():
    names = _driver_modules()
    assert set(names) >= {'aiohttp', 'asgi', 'eventlet', 'gevent',
                          'gevent_uwsgi', 'sanic', 'threading', 'tornado'}
    got = _imports(*[prefix + name for name in names
                     for prefix in ('engineio_fast.async_drivers.',
                                    'engineio.async_drivers.')])
    for name in names:
        ours = got['engineio_fast.async_drivers.' + name]
        theirs = got['engineio.async_drivers.' + name]
        assert ours == theirs, (name, ours, theirs)
    # outside uWSGI both fail alike; everything else imports
    assert got['engineio_fast.async_drivers.gevent_uwsgi'] == \
        'ModuleNotFoundError'
    assert [n for n in names if got['engineio.async_drivers.' + n] == 'ok'] \
        == [n for n in names if n != 'gevent_uwsgi']


def test_driver_paths_name_what_python_socketio_imports():
    from engineio_fast.async_drivers.asgi import ASGIApp
    from engineio_fast.async_drivers.tornado import get_tornado_handler
    assert ASGIApp is engineio_fast.ASGIApp
    eio = engineio_fast.AsyncServer(async_mode='tornado')
    import tornado.websocket
    assert issubclass(get_tornado_handler(eio),
                      tornado.websocket.WebSocketHandler)
    assert issubclass(engineio_fast.get_tornado_handler(eio),
                      tornado.websocket.WebSocketHandler)


def test_attach_refuses_what_it_cannot_serve():
    eio = engineio_fast.AsyncServer(async_mode='asgi')
    with pytest.raises(ValueError, match='get_tornado_handler'):
        eio.attach(object())
    assert _frameworks.select_mode('asgi') == 'asgi'


# -- bodies ----------------------------------------------------------------

def test_big_post_arrives_whole(serve):
    server = serve(max_http_buffer_size=1_000_000)
    rec = server.eio.rec
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
        sent = []
        for i in range(5):
            text = ('%d' % i) * BIG
            r = client.post(POLL + '&sid=' + sid, content='4' + text)
            assert (r.status_code, r.text) == (200, 'ok')
            sent.append(text)
        got = []
        while len(got) < len(sent):
            r = client.get(POLL + '&sid=' + sid)
            assert r.status_code == 200
            got += [p[1:] for p in r.text.split('\x1e')]
    assert got == sent
    assert [e[2] for e in rec.of('message')] == sent


def test_big_post_in_slow_pieces_arrives_whole(serve):
    """A body sent in 16 KB pieces with pauses: every piece is read (a
    single read returns what arrived so far)."""
    server = serve()
    rec = server.eio.rec
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
    body = ('4' + 'x' * BIG).encode()
    sock = socket.create_connection(('127.0.0.1', server.port), timeout=WAIT)
    with sock:
        sock.sendall(('POST %s&sid=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                      'Content-Type: text/plain;charset=UTF-8\r\n'
                      'Content-Length: %d\r\n\r\n'
                      % (POLL, sid, len(body))).encode())
        for i in range(0, len(body), 16384):
            sock.sendall(body[i:i + 16384])
            time.sleep(0.005)
        reply = b''
        while b'\r\n\r\n' not in reply or not reply.endswith(b'ok'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b'HTTP/1.1 200') and reply.endswith(b'ok'), reply
    assert wait_for(lambda: rec.of('message'))
    assert rec.of('message')[0][2] == 'x' * BIG


def test_body_over_the_limit_is_the_engines_400(serve):
    server = serve(max_http_buffer_size=1000)
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
        r = client.post(POLL + '&sid=' + sid, content='4' + 'x' * 5000)
        assert r.status_code == 400
        assert r.json() == {'code': 3, 'message': 'Payload too large'}
    assert server.eio.rec.reason(sid) == 'transport error'


# -- the same answers as the other servers ------------------------------------

BAD = [
    ('GET', '/engine.io/?EIO=3&transport=polling', {}, b''),
    ('GET', '/engine.io/?transport=polling', {}, b''),
    ('GET', '/engine.io/?EIO=4&transport=carrier-pigeon', {}, b''),
    ('GET', '/engine.io/?EIO=4&transport=polling&sid=nope', {}, b''),
    ('POST', '/engine.io/?EIO=4&transport=polling&sid=nope', {}, b'4x'),
    ('POST', '/engine.io/?EIO=4&transport=polling', {}, b'4x'),
    ('PUT', '/engine.io/?EIO=4&transport=polling', {}, b''),
    ('DELETE', '/engine.io/?EIO=4&transport=polling', {}, b''),
    ('GET', '/engine.io/?EIO=4&transport=polling&j=x', {}, b''),
    ('GET', '/engine.io/?EIO=4&transport=websocket', {}, b''),
    ('GET', '/engine.io/?EIO=4&transport=polling',
     {'Origin': 'http://evil.example'}, b''),
    ('OPTIONS', '/engine.io/?EIO=4&transport=polling',
     {'Origin': 'http://good.example',
      'Access-Control-Request-Method': 'POST'}, b''),
]
OPTIONS = dict(cors_allowed_origins=['http://good.example'], cookie='io')
COMPARED_HEADERS = ('content-type', 'access-control-allow-origin',
                    'access-control-allow-credentials',
                    'access-control-allow-methods', 'content-encoding')


def _answer(base, method, path, headers, body):
    r = httpx.request(method, base + path, headers=headers, content=body,
                      timeout=WAIT)
    shown = {h: r.headers.get(h) for h in COMPARED_HEADERS}
    try:
        payload = r.json()
    except ValueError:
        payload = r.text
    return r.status_code, payload, shown


def test_bad_input_gets_the_asgi_servers_answers(serve, asgi_reference):
    ours = serve(**OPTIONS)
    reference = asgi_reference(**OPTIONS)
    for method, path, headers, body in BAD:
        got = _answer(ours.url, method, path, headers, body)
        expected = _answer(reference.url, method, path, headers, body)
        assert got == expected, (method, path, headers)
        assert got[0] in (200, 400, 403), got


def test_invalid_packet_post_ends_the_session_as_on_asgi(serve):
    server = serve()
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
        r = client.post(POLL + '&sid=' + sid, content='9bogus')
        assert (r.status_code, r.json()) == (
            400, {'code': 3, 'message': 'Bad request'})
        r = client.get(POLL + '&sid=' + sid)
        assert (r.status_code, r.json()) == (
            400, {'code': 1, 'message': 'Session ID unknown'})
    assert server.eio.rec.reason(sid) == 'transport error'


def test_cors_cookie_and_compression(serve, asgi_reference):
    ours = serve(**OPTIONS)
    reference = asgi_reference(**OPTIONS)
    seen = []
    for server in (ours, reference):
        headers = {'Origin': 'http://good.example',
                   'Accept-Encoding': 'gzip'}
        with httpx.Client(base_url=server.url, timeout=WAIT) as client:
            r = client.get(POLL, headers=headers)
            sid = json.loads(r.text[1:])['sid']
            cookie = r.headers.get('set-cookie', '').replace(sid, 'SID')
            big = 'y' * 5000
            r = client.post(POLL + '&sid=' + sid, content='4' + big,
                            headers=headers)
            assert r.text == 'ok'
            r = client.get(POLL + '&sid=' + sid, headers=headers)
            assert r.text == '4' + big    # (httpx decompresses it)
            seen.append((cookie, r.headers.get('content-encoding'),
                         r.headers.get('access-control-allow-origin'),
                         r.headers.get('access-control-allow-credentials')))
            client.post(POLL + '&sid=' + sid, content='1', headers=headers)
    assert seen[0] == seen[1], seen
    assert seen[0][0].startswith('io=SID') and seen[0][1] == 'gzip'
    assert seen[0][2] == 'http://good.example'


def test_compressed_body_is_gzip_on_the_wire(serve):
    server = serve()
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
        client.post(POLL + '&sid=' + sid, content='4' + 'z' * 4000)
    sock = socket.create_connection(('127.0.0.1', server.port), timeout=WAIT)
    with sock:
        sock.sendall(('GET %s&sid=%s HTTP/1.1\r\nHost: x\r\n'
                      'Accept-Encoding: gzip\r\n\r\n' % (POLL, sid)).encode())
        data = b''
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            data += sock.recv(65536)
            head, _, body = data.partition(b'\r\n\r\n')
            length = [int(line.split(b':')[1]) for line in head.split(b'\r\n')
                      if line.lower().startswith(b'content-length')]
            if length and len(body) >= length[0]:
                break
    assert b'content-encoding: gzip' in head.lower(), head
    assert gzip.decompress(body) == ('4' + 'z' * 4000).encode()


# -- websockets ---------------------------------------------------------------

def test_websocket_session_and_upgrade(serve):
    server = serve()
    with ws_connect(server.ws_url + WS, open_timeout=WAIT) as ws:
        assert ws.recv(timeout=WAIT).startswith('0')
        ws.send('4hello')
        assert ws.recv(timeout=WAIT) == '4hello'
        ws.send(b'\x01\x02')
        assert ws.recv(timeout=WAIT) == b'\x01\x02'
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client)
        with ws_connect(server.ws_url + WS + '&sid=' + sid,
                        open_timeout=WAIT) as ws:
            ws.send('2probe')
            assert ws.recv(timeout=WAIT) == '3probe'
            r = client.get(POLL + '&sid=' + sid)
            assert (r.status_code, r.text) == (200, '6')
            ws.send('5')
            ws.send('4up')
            assert ws.recv(timeout=WAIT) == '4up'
    assert server.eio.rec.reason(sid) == 'transport close'


def _close_code_or_end(ws):
    """The code of the server's close frame (None: without a status), or
    'ended' when it ended the connection without one; then the connection
    must end. AssertionError if neither comes within WAIT."""
    deadline = time.monotonic() + WAIT
    while True:
        ws.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            op, _fin, _rsv, payload = ws.recv_frame()
        except socket.timeout:
            raise AssertionError('neither close nor end') from None
        except (OSError, EOFError):
            return 'ended'
        if op == OP_CLOSE:
            assert ws.closed_within(WAIT), 'left open after the close frame'
            return close_code(payload)
        assert time.monotonic() < deadline, 'neither close nor end'


def _bad_frame_closes_cleanly(server, frame_kwargs, codes):
    rec = server.eio.rec
    with ws_connect(server.ws_url + WS, open_timeout=WAIT) as other:
        other_sid = json.loads(other.recv(timeout=WAIT)[1:])['sid']
        ws = RawWs(server.port, WS)
        with ws:
            sid = ws.open_packet()['sid']
            ws.send_frame(**frame_kwargs)
            code = _close_code_or_end(ws)
        assert code in codes, code
        assert wait_for(lambda: server.eio._engine.get(sid) is None)
        assert rec.reason(sid) in ('transport error', 'transport close')
        # the other session goes on
        other.send('4still')
        assert other.recv(timeout=WAIT) == '4still'
        assert server.eio._engine.get(other_sid) is not None


@pytest.mark.parametrize('bad', ['reserved-opcode', 'bad-utf8', 'unmasked'])
def test_websocket_with_bad_frames_gets_a_clean_close(serve, kind, bad):
    server = serve()
    bad_frame = {'reserved-opcode': dict(op=0x3, payload=b'4x'),
                 'bad-utf8': dict(op=0x1, payload=b'4\xff\xfe'),
                 'unmasked': dict(op=0x1, payload=b'4x', mask=False)}[bad]
    if bad == 'unmasked' and kind in ('aiohttp', 'tornado'):
        # these frameworks take an unmasked client frame as any other (the
        # frames are theirs to parse): the message is echoed
        ws = RawWs(server.port, WS)
        with ws:
            ws.open_packet()
            ws.send_frame(**bad_frame)
            assert ws.recv_text() == '4x'
        return
    # a close frame with a protocol error code (aiohttp, Sanic), or the
    # connection ended (Tornado aborts it without one)
    _bad_frame_closes_cleanly(server, bad_frame, (1002, 1007, 'ended'))


def test_messages_before_a_lost_connection_reach_the_handlers(serve, kind):
    """The client sends messages and its close frame and drops the TCP
    connection at once, while a handler that must end first
    (``async_handlers=False``) is still running: every message reaches the
    handlers, in order, and only then the disconnect, as on the built-in
    server. (Sanic cancels its request handler when the connection is lost;
    the adapter's session runs on in a task of its own. This test does not
    make that cancellation land while a message waits: the socket.io matrix
    with both cores busy did, tests/socketio/test_js_matrix.py's
    sanic-chromium-upgrade-client_disconnect.)"""
    eio = echo_server(kind, async_handlers=False)
    rec = eio.rec

    @eio.on('message')
    async def message(sid, data):
        rec.add('message', sid, data)
        if data == 'slow':
            await asyncio.sleep(0.3)

    server = serve(eio)
    ws = RawWs(server.port, WS)
    sid = ws.open_packet()['sid']
    ws.send(frame(OP_TEXT, '4slow') + frame(OP_TEXT, '4a') +
            frame(OP_TEXT, '4b') +
            frame(OP_CLOSE, (1000).to_bytes(2, 'big')))
    ws.sock.close()
    assert rec.reason(sid) == 'transport close'
    mine = [e for e in rec.events if e[1] == sid and e[0] != 'connect']
    assert mine == [('message', sid, 'slow'), ('message', sid, 'a'),
                    ('message', sid, 'b'),
                    ('disconnect', sid, 'transport close')], mine


def test_websocket_message_over_the_limit(serve):
    server = serve(max_http_buffer_size=1000)
    _bad_frame_closes_cleanly(server, dict(op=0x1, payload=b'4' + b'x' * 5000),
                              (1009, 'ended'))


def test_websocket_refused_by_the_connect_handler(serve, kind):
    eio = echo_server(kind)
    eio.on('connect', lambda sid, environ: {'reason': 'no'})
    server = serve(eio)
    r = httpx.get(server.url + WS, timeout=WAIT, headers={
        'Upgrade': 'websocket', 'Connection': 'Upgrade',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13'})
    # the engine's 401 with the handler's value, as on the built-in server
    assert (r.status_code, r.json()) == (401, {'reason': 'no'})
    assert not eio._engine.sessions


# -- the connect handler's environ, the path, manual routing ---------------------

def test_connect_environ(serve, kind):
    server = serve()
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        sid = open_sid(client, POLL + '&x=1', headers={'X-Test': 'yes'})
    environ = [e[2] for e in server.eio.rec.of('connect') if e[1] == sid][0]
    assert environ['REQUEST_METHOD'] == 'GET'
    assert environ['PATH_INFO'] == '/engine.io/'
    assert 'x=1' in environ['QUERY_STRING']
    assert environ['HTTP_X_TEST'] == 'yes'
    assert environ['REMOTE_ADDR'] == '127.0.0.1'
    assert environ['wsgi.url_scheme'] == 'http'
    key = {'aiohttp': 'aiohttp.request', 'sanic': 'sanic.request',
           'tornado': 'tornado.handler'}[kind]
    assert key in environ


def test_engineio_path(serve):
    server = serve(path='/custom/')
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        r = client.get('/custom/?EIO=4&transport=polling')
        assert r.status_code == 200 and r.text.startswith('0')
        assert client.get(POLL).status_code == 404


def test_aiohttp_route_to_handle_request():
    """python-engineio's other way: route to ``eio.handle_request``."""
    import asyncio

    from aiohttp import web

    eio = echo_server('aiohttp')
    app = web.Application()
    app.router.add_route('*', '/engine.io/', eio.handle_request)

    async def main():
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, '127.0.0.1', 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()

        def client():
            with httpx.Client(timeout=WAIT) as c:
                base = 'http://127.0.0.1:%d' % port
                sid = open_sid(c, base + POLL)
                c.post(base + POLL + '&sid=' + sid, content='4hi')
                return c.get(base + POLL + '&sid=' + sid).text
        try:
            return await loop.run_in_executor(None, client)
        finally:
            await runner.cleanup()

    assert asyncio.run(main()) == '4hi'


# -- shutdown ---------------------------------------------------------------------

def test_shutdown_closes_every_session(kind):
    eio = echo_server(kind)
    server = FrameworkServer(kind, eio).start()
    stopped = False
    try:
        ws = RawWs(server.port, WS)
        ws_sid = ws.open_packet()['sid']
        client = httpx.Client(base_url=server.url, timeout=WAIT)
        sid = open_sid(client)
        import concurrent.futures
        pool = concurrent.futures.ThreadPoolExecutor(1)
        parked = pool.submit(client.get, POLL + '&sid=' + sid)
        assert wait_for(lambda: (eio._engine.get(sid) is not None and
                                 eio._engine.get(sid).poll_waker is not None))
        server.stop()
        stopped = True
        r = parked.result(WAIT)
        assert (r.status_code, r.text) == (200, '1')
        frames = []
        with ws:
            for _ in range(3):
                op, _fin, _rsv, payload = ws.recv_frame()
                frames.append((op, payload))
                if op == OP_CLOSE:
                    break
        assert frames[0] == (0x1, b'1'), frames
        assert frames[-1][0] == OP_CLOSE, frames
        assert close_code(frames[-1][1]) in (None, 1000, 1001)
        assert eio.rec.reason(sid) == 'server disconnect'
        assert eio.rec.reason(ws_sid) == 'server disconnect'
        client.close()
        pool.shutdown()
    finally:
        if not stopped:
            server.stop()
