"""The Socket.IO half of the official protocol suite (socketio/socket.io-protocol,
``test-suite/test-suite.js``), written again in Python: the same packets sent
over a raw websocket, the same answers expected, byte for byte. Run against
Node's socket.io 4.8 with the configuration the suite documents
(js/protocol_server.mjs: every test passes there, which keeps the tests
honest) and python-socketio switched to engineio_fast (protocol_app.py) on
the built-in server with the python-socketio accelerations on and off,
uvicorn, aiohttp, gunicorn gthread, eventlet and gevent. The Engine.IO half
of the suite is tests/conformance.
"""

import json
import os
import socket
import subprocess
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ..interop.conftest import require_node
from ..io.builtin_helpers import free_port
from .servers import SioServer

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

HERE = os.path.dirname(os.path.abspath(__file__))
WAIT = 3.0          # for an answer
CLOSE_WAIT = 4.0    # for the server to close (connectTimeout is 1 s)

# target -> (server kind, environment)
TARGETS = {
    'node': None,
    'builtin': ('builtin', {}),
    'builtin-plain': ('builtin', {'ENGINEIO_FAST_SOCKETIO_ACCEL': '0'}),
    'uvicorn': ('uvicorn', {}),
    'aiohttp': ('aiohttp', {}),
    'gthread': ('gunicorn-gthread', {}),
    'eventlet': ('eventlet', {}),
    'gevent': ('gevent-ws', {}),
}


class Node:
    def __init__(self, folder):
        require_node()
        self.port = free_port()
        self.log = open(folder / 'node.log', 'wb')
        self.proc = subprocess.Popen(
            ['node', os.path.join(HERE, 'js', 'protocol_server.mjs'),
             str(self.port)], cwd=os.path.join(HERE, 'js'),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.5).close()
                break
            except OSError:
                assert self.proc.poll() is None and \
                    time.monotonic() < deadline, \
                    (folder / 'node.log').read_text()
                time.sleep(0.05)
        self.url = 'http://127.0.0.1:%d' % self.port

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope='module', params=list(TARGETS))
def target(request, tmp_path_factory):
    spec = TARGETS[request.param]
    if spec is None:
        server = Node(tmp_path_factory.mktemp('node'))
        yield server.url
        server.stop()
        return
    kind, env = spec
    with SioServer(kind, module='tests.socketio.protocol_app',
                   env=env) as server:
        yield server.url


def open_ws(url):
    ws = connect(url.replace('http', 'ws', 1) +
                 '/socket.io/?EIO=4&transport=websocket',
                 open_timeout=WAIT, close_timeout=1, max_size=None,
                 compression=None, ping_interval=None).__enter__()
    return ws


def recv(ws, skip_pings=True):
    """The next message (pings skipped, as the suite's waitForPackets
    does where it counts packets)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            data = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            raise AssertionError('no message within %.1f s' % WAIT) from None
        if skip_pings and data == '2':
            ws.send('3')
            continue
        return data


def closed(ws, timeout=CLOSE_WAIT):
    """Whether the server closes the websocket within ``timeout`` (pings
    are answered meanwhile: a heartbeat must not be what ends it)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            data = ws.recv(timeout=left)
        except TimeoutError:
            return False
        except ConnectionClosed:
            return True
        if data == '2':
            try:
                ws.send('3')
            except ConnectionClosed:
                return True


def engine_open(url):
    ws = open_ws(url)
    assert recv(ws).startswith('0{')      # the Engine.IO handshake
    return ws


def connected(url):
    """initSocketIOConnection: connected to '/', its auth event read."""
    ws = engine_open(url)
    ws.send('40')
    assert recv(ws).startswith('40')
    assert recv(ws) == '42["auth",{}]'
    return ws


def handshake_sid(data, prefix):
    assert data.startswith(prefix), data
    handshake = json.loads(data[len(prefix):])
    assert list(handshake) == ['sid'] and isinstance(handshake['sid'], str)


# -- connect ----------------------------------------------------------------

@pytest.mark.parametrize('packet,prefix,auth', [
    ('40', '40', '42["auth",{}]'),
    ('40{"token":"123"}', '40', '42["auth",{"token":"123"}]'),
    ('40/custom,', '40/custom,', '42/custom,["auth",{}]'),
    ('40/custom,{"token":"abc"}', '40/custom,',
     '42/custom,["auth",{"token":"abc"}]'),
], ids=['main', 'main-with-payload', 'custom', 'custom-with-payload'])
def test_connect(target, packet, prefix, auth):
    """The connection to the main namespace and to a custom one, with and
    without a payload: the handshake, then the server's auth event."""
    ws = engine_open(target)
    ws.send(packet)
    handshake_sid(recv(ws), prefix)
    assert recv(ws) == auth
    ws.close()


def test_unknown_namespace_refused(target):
    ws = engine_open(target)
    ws.send('40/random')
    assert recv(ws) == '44/random,{"message":"Invalid namespace"}'
    ws.close()


def test_invalid_handshake_closes(target):
    ws = engine_open(target)
    ws.send('4abc')
    assert closed(ws)


def test_no_handshake_closes(target):
    ws = engine_open(target)
    assert closed(ws)


# -- disconnect -------------------------------------------------------------

def test_disconnect_main_namespace(target):
    ws = connected(target)
    ws.send('41')
    # nothing but the Engine.IO heartbeat follows
    assert recv(ws, skip_pings=False) == '2'
    ws.close()


def test_connect_then_disconnect_custom_namespace(target):
    ws = connected(target)
    ws.send('40/custom')
    assert recv(ws).startswith('40/custom,')
    assert recv(ws) == '42/custom,["auth",{}]'
    ws.send('41/custom')
    ws.send('42["message","message to main namespace"]')
    assert recv(ws) == '42["message-back","message to main namespace"]'
    ws.close()


# -- message ----------------------------------------------------------------

def test_plain_text_packet(target):
    ws = connected(target)
    ws.send('42["message",1,"2",{"3":[true]}]')
    assert recv(ws) == '42["message-back",1,"2",{"3":[true]}]'
    ws.close()


PLACEHOLDERS = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}'


def test_binary_attachments(target):
    ws = connected(target)
    ws.send('452-["message",%s]' % PLACEHOLDERS)
    ws.send(bytes([1, 2, 3]))
    ws.send(bytes([4, 5, 6]))
    assert [recv(ws) for _ in range(3)] == [
        '452-["message-back",%s]' % PLACEHOLDERS,
        bytes([1, 2, 3]), bytes([4, 5, 6])]
    ws.close()


def test_plain_text_packet_with_ack(target):
    ws = connected(target)
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
    assert recv(ws) == '43456[1,"2",{"3":[false]}]'
    ws.close()


def test_binary_attachments_with_ack(target):
    ws = connected(target)
    ws.send('452-789["message-with-ack",%s]' % PLACEHOLDERS)
    ws.send(bytes([1, 2, 3]))
    ws.send(bytes([4, 5, 6]))
    assert [recv(ws) for _ in range(3)] == [
        '462-789[%s]' % PLACEHOLDERS, bytes([1, 2, 3]), bytes([4, 5, 6])]
    ws.close()


@pytest.mark.parametrize('packet', [
    '4abc',                                             # unknown type
    '42{}',                                             # invalid payload
    '42abc["message-with-ack",1,"2",{"3":[false]}]',    # invalid ack id
], ids=['unknown-type', 'invalid-payload', 'invalid-ack-id'])
def test_invalid_format_closes(target, packet):
    ws = connected(target)
    ws.send(packet)
    assert closed(ws)


# -- bad packets beyond the suite's: refused as socket.io-parser refuses them,
# a healthy client beside them untouched ------------------------------------

def ph(num):
    return '{"_placeholder":true,"num":%d}' % num


@pytest.mark.parametrize('messages', [
    ['4511-["message",%s]' % ph(0)],                    # 11 announced
    ['451-["message",%s]' % ph(3), b'\x01'],            # points nowhere
    [b'\x01\x02'],                                      # no header
    ['452-["message",%s,%s]' % (ph(0), ph(1)), b'\x01',
     '42["message","text instead of an attachment"]'],
    ['42["disconnect"]'],                               # a reserved name
    ['42["message",NaN]'],                              # not JSON
], ids=['too-many-attachments', 'placeholder-nowhere',
        'attachment-without-header', 'text-where-attachment-due',
        'reserved-event', 'nan'])
def test_bad_packet_closes_only_its_connection(target, messages):
    good = connected(target)
    bad = connected(target)
    for message in messages:
        try:
            bad.send(message)
        except ConnectionClosed:
            break       # closed already (we refuse at the header what
            #             socket.io-parser refuses at the attachment)
    assert closed(bad)
    good.send('42["message","still here"]')
    assert recv(good) == '42["message-back","still here"]'
    good.close()


def test_ten_attachments_are_taken(target):
    ws = connected(target)
    ws.send('4510-["message",%s]' % ','.join(ph(k) for k in range(10)))
    for k in range(10):
        ws.send(bytes([k]))
    assert [recv(ws) for _ in range(11)] == \
        ['4510-["message-back",%s]' % ','.join(ph(k) for k in range(10))] + \
        [bytes([k]) for k in range(10)]
    ws.close()
