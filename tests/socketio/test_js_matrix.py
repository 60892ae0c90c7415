"""The official socket.io-client 4.8 against python-socketio on engineio_fast,
on every server: python-socketio's AsyncServer on the built-in server
(``engineio-fast tests.socketio.matrix_app:app``) and uvicorn, its Server on
gunicorn gthread, eventlet and gevent (pywsgi + gevent-websocket), all
switched with ``engineio_fast.install()``; a Flask-SocketIO 5 app on the
same sync servers and on Werkzeug (Flask-SocketIO's ``socketio.run(app)``);
and Node's socket.io 4.8 server, the reference row that proves the
scenarios themselves right.

The scenarios (js/scenarios.mjs, the client side; matrix_app.py,
matrix_wsgi.py, matrix_flask.py and js/server.mjs, the server side):
connect with auth, accepted and refused with data; several namespaces on
one connection; emit with ack both ways; binary events and binary acks both
ways; rooms and broadcast with several clients; disconnect from either
side, the reason seen on both; heartbeats at ping_interval 300 ms /
ping_timeout 200 ms (a session stays up across several pings; a client that
stops answering is dropped with 'ping timeout'); each over polling only,
websocket only, and polling upgraded to websocket. The Flask-SocketIO rows run one scenario
more, ``flask_context``: every handler sees the request context of the
connection (``flask.request.sid``, the connect request's query, a Flask
session that began as the HTTP session the client logged in with, and
persists from event to event across the upgrade).

Per row, two server processes (one with the short heartbeat), and ONE node
process that runs every scenario (the three transports concurrently, then
the heartbeat scenarios); headless Chromium runs the same scenarios, from a
page the server under test serves, for BROWSER_ROWS. Each test asserts one
scenario of one run. Rows run one after the other (a row's servers stop
before the next row's start).

A row is one line of ``ROWS``. aiohttp, Sanic and Tornado are served by
tests/socketio/matrix_serve.py (python-socketio's AsyncServer in that
async_mode, attached as python-socketio documents it).
``builtin-plain`` and ``gthread-plain`` run with
``ENGINEIO_FAST_SOCKETIO_ACCEL=0``: python-socketio's own emit and packet
class (what engineio_fast/sio_wire.py changes stays).
"""

import concurrent.futures
import os
import socket
import subprocess
import time

import pytest

from ..interop.conftest import require_chromium, require_node, run_node
from ..io.builtin_helpers import ServerProcess as ModuleProcess
from ..io.builtin_helpers import free_port
from ..sync.servers import ServerProcess as WsgiProcess
from .matrix_common import HEARTBEAT, HEARTBEAT_ENV, REFUSAL
from .servers import SioServer

pytestmark = pytest.mark.timeout(300)

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(HERE, 'js')
START_TIMEOUT = 30.0
NODE_TIMEOUT_MS = 90_000

# the disconnect reasons and the unknown namespace's refusal, in each
# server's words: python-socketio's, and the JavaScript server's for the same
# events (python-socketio refuses an unknown namespace with a bare string;
# on engineio_fast it says what the JavaScript server says: sio_wire.py)
PYTHON_SOCKETIO = {'client': 'client disconnect',
                   'server': 'server disconnect', 'nope': 'Invalid namespace'}
JAVASCRIPT = {'client': 'client namespace disconnect',
              'server': 'server namespace disconnect',
              'nope': 'Invalid namespace'}


class Module:
    """``python -m MODULE ARGS --port P``: the app reads its heartbeat
    setting from the environment."""

    words = PYTHON_SOCKETIO
    #: the EXTRA scenarios of js/scenarios.mjs this row runs too
    extra = ()

    def __init__(self, module, *args, env=None):
        self.module = module
        self.args = list(args)
        self.env = env or {}

    def start(self, folder):
        procs = []
        for kind, flag in (('main', '0'), ('hb', '1')):
            (folder / kind).mkdir()
            procs.append(ModuleProcess(self.args, folder / kind,
                                       module=self.module,
                                       env=dict(self.env,
                                                **{HEARTBEAT_ENV: flag})))
        try:
            for proc in procs:
                proc.wait_listening(START_TIMEOUT)
        except BaseException:
            for proc in procs:
                proc.stop()
            raise
        return procs[0].url, procs[1].url, lambda: [p.stop() for p in procs]


class Wsgi:
    """tests/sync/serve.py's server KIND running matrix_wsgi.py."""

    words = PYTHON_SOCKETIO
    extra = ()

    def __init__(self, kind, *args, env=None):
        self.kind = kind
        self.args = list(args)
        self.env = env or {}

    def process(self, flag):
        return WsgiProcess(self.kind, app='tests.socketio.matrix_wsgi:app',
                           env=dict(self.env, **{HEARTBEAT_ENV: flag}),
                           ready_path='/_ready',
                           start_timeout=START_TIMEOUT, extra_args=self.args)

    def start(self, folder):
        procs = [self.process(flag) for flag in ('0', '1')]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            started = [pool.submit(proc.start) for proc in procs]
        try:
            for future in started:
                future.result()
        except BaseException:
            for proc in procs:
                proc.stop()
            raise
        return procs[0].url, procs[1].url, lambda: [p.stop() for p in procs]


class Flask(Wsgi):
    """matrix_flask.py (Flask-SocketIO) on tests/socketio/servers.py's
    server KIND: a WSGI server, or ``flask-threading`` (Flask-SocketIO's
    ``socketio.run(app)``, Werkzeug)."""

    extra = ('flask_context',)

    def process(self, flag):
        return SioServer(self.kind, module='tests.socketio.matrix_flask',
                         env=dict(self.env, **{HEARTBEAT_ENV: flag}),
                         ready_path='/_ready',
                         start_timeout=START_TIMEOUT, extra_args=self.args)


class NodeReference:
    """js/server.mjs: both instances in one node process."""

    words = JAVASCRIPT
    extra = ()

    def start(self, folder):
        require_node()
        ports = [free_port(), free_port()]
        log = open(folder / 'node-server.log', 'wb')
        proc = subprocess.Popen(
            ['node', os.path.join(JS, 'server.mjs')] + [str(p) for p in ports],
            cwd=JS, stdout=log, stderr=subprocess.STDOUT)

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            log.close()

        deadline = time.monotonic() + START_TIMEOUT
        for port in ports:
            while True:
                try:
                    socket.create_connection(('127.0.0.1', port), 0.5).close()
                    break
                except OSError:
                    if proc.poll() is not None or \
                            time.monotonic() > deadline:
                        stop()
                        raise AssertionError(
                            'node server.mjs did not listen: %s'
                            % (folder / 'node-server.log').read_text()
                        ) from None
                    time.sleep(0.05)
        return ('http://127.0.0.1:%d' % ports[0],
                'http://127.0.0.1:%d' % ports[1], stop)


ROWS = {
    'node': NodeReference(),
    'builtin': Module('engineio_fast', 'tests.socketio.matrix_app:app'),
    'uvicorn': Module('uvicorn', 'tests.socketio.matrix_app:app',
                      '--log-level', 'warning'),
    'gthread': Wsgi('gunicorn-gthread', '--threads', '100'),
    # python-socketio's own emit and packets (engineio_fast/sio_accel.py off)
    'builtin-plain': Module('engineio_fast', 'tests.socketio.matrix_app:app',
                            env={'ENGINEIO_FAST_SOCKETIO_ACCEL': '0'}),
    'gthread-plain': Wsgi('gunicorn-gthread', '--threads', '100',
                          env={'ENGINEIO_FAST_SOCKETIO_ACCEL': '0'}),
    'eventlet': Wsgi('eventlet'),
    'gevent': Wsgi('gevent-ws'),
    'aiohttp': Module('tests.socketio.matrix_serve', 'aiohttp'),
    'sanic': Module('tests.socketio.matrix_serve', 'sanic'),
    'tornado': Module('tests.socketio.matrix_serve', 'tornado'),
    'flask-eventlet': Flask('eventlet'),
    'flask-gevent': Flask('gevent-ws'),
    'flask-werkzeug': Flask('flask-threading'),
    'flask-gthread': Flask('gunicorn-gthread', '--threads', '100'),
}
#: the rows the browser page runs on too (it is served by the app, as
#: static files: the ASGI rows, and the framework rows by their own means)
BROWSER_ROWS = ('builtin', 'uvicorn', 'aiohttp', 'sanic', 'tornado')

MODES = ('polling', 'websocket', 'upgrade')
FINAL = {'polling': 'polling', 'websocket': 'websocket',
         'upgrade': 'websocket'}
AUTH = {'token': 'ok', 'user': 'ana'}


def who(namespace, mode):
    return {'ns': namespace, 'auth': AUTH, 'transport': FINAL[mode]}


def check_auth_ok(obs, mode, words):
    assert obs == {'who': who('/', mode), 'transport': FINAL[mode],
                   'id': 'string'}


def check_auth_refused(obs, mode, words):
    assert obs['bad'] == {'message': REFUSAL[0], 'data': REFUSAL[1]}
    assert obs['none'] == {'message': 'Connection rejected by server',
                           'data': None}


def check_namespaces(obs, mode, words):
    assert obs['main'] == who('/', mode)
    assert obs['chat'] == who('/chat', mode)
    assert obs['nope'] == {'message': words['nope'], 'data': None}
    assert obs['one_engine'] is True
    assert obs['transport'] == FINAL[mode]


def check_ack_up(obs, mode, words):
    assert obs == {'answer': ['text', 42, {'a': [1, 'b', None]},
                              [True, False]],
                   'transport': FINAL[mode]}


def check_ack_down(obs, mode, words):
    assert obs == {'answer': [['got', ['answer:q1', 2]]], 'asked': ['q1'],
                   'transport': FINAL[mode]}


def check_binary_event(obs, mode, words):
    # what the server saw: binary attachments decoded as bytes
    assert obs['answer'] == [['ok', [{'name': 'str', 'data': 'bytes',
                                      'parts': ['bytes', 'str', 'bytes']},
                                     'bytes']]]
    assert obs['echoed'] == [
        {'name': 'pic', 'data': {'$bin': bytes(range(256)).hex()},
         'parts': [{'$bin': '010203'}, 'text', {'$bin': ''}]},
        {'$bin': 'ff0007'}]
    assert obs['classes'] == ['object', 'binary']
    assert obs['transport'] == FINAL[mode]


def check_binary_ack(obs, mode, words):
    assert obs == {'up': [{'$bin': 'fa04030201'}],
                   'down': [[['bytes', 'str'], [{'$bin': '070809'}, 'tag']]],
                   'transport': FINAL[mode]}


def check_rooms(obs, mode, words):
    end = ['all', 'end-' + mode]
    assert obs['got'] == {
        'A': [['room', 'hi'], ['room', 'after-leave'], end],
        'B': [['room', 'hi'], ['room', 'others'], end],
        'C': [end]}
    assert obs['steps'] == [['joined'], ['joined'], ['sent'], ['sent'],
                            ['left'], ['sent'], ['sent']]
    assert obs['transport'] == FINAL[mode]


def check_whole_packets(obs, mode, words):
    assert obs == {'answer': 300, 'bins': 300, 'txts': 600, 'wrong': 0,
                   'transport': FINAL[mode]}


def check_client_disconnect(obs, mode, words):
    assert obs == {'client': 'io client disconnect',
                   'server': words['client'], 'transport': FINAL[mode]}


def check_server_disconnect(obs, mode, words):
    assert obs == {'client': 'io server disconnect',
                   'server': words['server'], 'transport': FINAL[mode]}


def check_hb_alive(obs, mode, words):
    # advertised exactly (python-engineio says 0 for 0.3 s), five pings
    # answered on one session, and it still carries events
    assert obs == {'pingInterval': int(HEARTBEAT[0] * 1000),
                   'pingTimeout': int(HEARTBEAT[1] * 1000), 'pings': True,
                   'sameEngine': True, 'connected': True, 'disconnects': [],
                   'answer': ['still here'], 'transport': FINAL[mode]}


def check_hb_dropped(obs, mode, words):
    assert obs['withheld'] is True
    assert obs['server'] == 'ping timeout'
    # the server ends the session 200 ms after an unanswered ping and the
    # client hears 'transport close' (every row, Node's included, on an idle
    # machine). On a loaded one: the client's own deadline is 300 ms later,
    # so a server stalled that long is heard as its 'ping timeout'; and a
    # polling client that was between two polls at that moment gets 400 for
    # the gone sid on its next one (as from the JavaScript server), a
    # 'transport error'
    assert obs['client'] in ('transport close', 'ping timeout',
                             'transport error')
    assert obs['transport'] == FINAL[mode]


def check_flask_context(obs, mode, words):
    # the same request context in every event: the socket's sid, the
    # connect request's query and environ, the HTTP session's user; the
    # managed session's counter goes on from event to event
    same = {'sid': True, 'namespace': '/', 'event': 'flask_ctx',
            'tag': mode, 'same_environ': True, 'user': True,
            'app': 'tests.socketio.matrix_flask'}
    assert obs == {'calls': [dict(same, count=n) for n in (1, 2, 3)],
                   'transport': FINAL[mode]}


CHECKS = {
    'auth_ok': check_auth_ok,
    'auth_refused': check_auth_refused,
    'namespaces': check_namespaces,
    'ack_up': check_ack_up,
    'ack_down': check_ack_down,
    'binary_event': check_binary_event,
    'binary_ack': check_binary_ack,
    'rooms': check_rooms,
    'whole_packets': check_whole_packets,
    'client_disconnect': check_client_disconnect,
    'server_disconnect': check_server_disconnect,
    'hb_alive': check_hb_alive,
    'hb_dropped': check_hb_dropped,
}
#: the scenarios of some rows only (a row's ``extra``)
EXTRA_CHECKS = {
    'flask_context': check_flask_context,
}

CASES = [(row, client, mode, scenario)
         for row in ROWS
         for client in (('node', 'chromium') if row in BROWSER_ROWS
                        else ('node',))
         for mode in MODES
         for scenario in list(CHECKS) + list(ROWS[row].extra)]


class Matrix:
    """Runs each row when its first test asks for it: its servers, then the
    node driver (and Chromium), once; the previous row's servers are
    stopped first."""

    def __init__(self, folder):
        self.folder = folder
        self.row = None
        self.stop = None
        self.results = {}
        self.timings = {}

    def result(self, row, client):
        if (row, client) not in self.results:
            if row != self.row:
                self.close()
                self.start(row)
            self.run(row, client)
        return self.results[row, client]

    def start(self, row):
        folder = self.folder / row
        folder.mkdir()
        self.url, self.hb_url, self.stop = ROWS[row].start(folder)
        self.row = row

    def run(self, row, client):
        started = time.monotonic()
        if client == 'node':
            out = run_node(os.path.join(JS, 'matrix.mjs'), {
                'url': self.url, 'hbUrl': self.hb_url, 'path': '/socket.io',
                'extra': list(ROWS[row].extra),
                'timeoutMs': NODE_TIMEOUT_MS}, NODE_TIMEOUT_MS / 1000 + 30)
        else:
            require_chromium()
            page = run_node('browser.mjs', {
                'url': '%s/?hb=%s' % (self.url, self.hb_url),
                'timeoutMs': NODE_TIMEOUT_MS}, NODE_TIMEOUT_MS / 1000 + 30)
            assert page['error'] is None, page
            assert not page['pageErrors'], page
            out = page['result']
            assert 'fatal' not in out, out
        self.timings[row, client] = time.monotonic() - started
        self.results[row, client] = out

    def close(self):
        if self.stop is not None:
            stop, self.stop, self.row = self.stop, None, None
            stop()


@pytest.fixture(scope='module')
def matrix(tmp_path_factory):
    runs = Matrix(tmp_path_factory.mktemp('sio-matrix'))
    yield runs
    runs.close()


@pytest.mark.parametrize('row, client, mode, scenario', CASES,
                         ids=['-'.join(case) for case in CASES])
def test_matrix(matrix, row, client, mode, scenario):
    got = matrix.result(row, client)['%s/%s' % (mode, scenario)]
    assert 'error' not in got, got['error']
    check = CHECKS.get(scenario) or EXTRA_CHECKS[scenario]
    check(got['obs'], mode, ROWS[row].words)
