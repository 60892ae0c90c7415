"""The official Socket.IO admin UI (@socket.io/admin-ui 0.5's ``ui/dist``,
the page admin.socket.io serves) in headless Chromium, against python-socketio
with ``sio.instrument(auth=False)`` on engineio_fast: the built-in server,
uvicorn, aiohttp, Sanic and Tornado, and the sync Server under gunicorn
(gthread), eventlet and gevent.

The page is served from another origin (a static HTTP server of the test),
as admin.socket.io is, and connects by itself from its saved settings. Node
sockets (polling, websocket, upgraded) connect and call first, then the
page opens and one more socket connects while it watches
(tests/socketio/js/admin_ui.mjs): the Sockets view must list each with its
address and the transport the server reports, the Servers view this server
with its client count, and every socket must leave the Sockets view when it
disconnects.
"""

import functools
import http.server
import os
import socket
import threading

import pytest

from ..interop.conftest import require_chromium
from ..sync.servers import REPO_ROOT
from .node import run_node
from .servers import SioServer

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

UI_DIST = os.path.join(REPO_ROOT, 'node_modules', '@socket.io', 'admin-ui',
                       'ui', 'dist')
KINDS = ['builtin', 'uvicorn', 'aiohttp', 'sanic', 'tornado',
         'gunicorn-gthread', 'eventlet', 'gevent']
CLIENTS = [{'name': 'polling', 'transports': ['polling']},
           {'name': 'websocket', 'transports': ['websocket']},
           {'name': 'upgrade', 'transports': ['polling', 'websocket']}]
LABELS = {'polling': 'HTTP long-polling', 'websocket': 'WebSocket'}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def ui_url():
    assert os.path.isfile(os.path.join(UI_DIST, 'index.html')), \
        '%s is missing: run `npm ci`' % UI_DIST
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(_Quiet, directory=UI_DIST))
    thread = threading.Thread(target=httpd.serve_forever,
                              kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/' % httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize('kind', KINDS)
def test_admin_ui_page(kind, ui_url):
    require_chromium()
    env = {'SIO_INSTRUMENT': '1', 'SIO_PING_INTERVAL': '1',
           'SIO_PING_TIMEOUT': '2'}
    with SioServer(kind, env=env) as srv:
        out = run_node('admin_ui.mjs', {
            'uiUrl': ui_url, 'serverUrl': srv.url, 'clients': CLIENTS,
            'hostname': socket.gethostname(), 'timeoutMs': 40000},
            timeout=120)
        log = srv.output()
    assert out['error'] is None, (out, log[-3000:])
    assert out['pageErrors'] == []
    names = [c['name'] for c in out['clients']]
    assert names == ['polling', 'websocket', 'upgrade', 'late']
    for c in out['clients']:
        wanted = 'polling' if c['name'] == 'polling' else 'websocket'
        assert c['transport'] == wanted
        row = out['rows'][c['id']].split('\t')
        assert row[0] == c['id'] and row[1] == '127.0.0.1', row
        assert LABELS[wanted] in row[2], row
    # serverId, hostname, pid, uptime, clientsCount, last ping, status:
    # the four sockets and the page's own
    server = [cell.strip() for cell in out['servers'].split('\t')]
    assert server[1] == socket.gethostname(), server
    assert server[4] == '5', server
    assert 'HEALTHY' in server[6], server
    assert out['gone'] is True
