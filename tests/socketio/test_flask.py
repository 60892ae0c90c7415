"""Flask-SocketIO 5 on engineio_fast's sync Server: its own test client
(``socketio.test_client(app)``), and a real python-socketio ``Client`` (on
engineio_fast too) against a Flask-SocketIO app served by Werkzeug, gunicorn
(gthread), eventlet and gevent (with and without gevent-websocket), and by
Flask-SocketIO's own ``socketio.run(app)`` in each mode it supports.

Flask-SocketIO keeps the Flask app, its managed session and each event's
request context in the environ python-socketio got at connect: every event
of a connection, over polling, over the websocket and after the upgrade,
must see that very dict (``tests/socketio/flask_app.py`` checks it by
identity and by a mark set at connect, and counts in the session).
Everything Socket.IO runs in subprocesses (the switch comes before
``import socketio``).
"""

import json
import os
import subprocess
import sys

import pytest

from ..sync.servers import REPO_ROOT
from .servers import SioServer

KINDS = ['werkzeug', 'gunicorn-gthread', 'eventlet', 'gevent', 'gevent-ws',
         'flask-threading', 'flask-eventlet', 'flask-gevent']
MODE = {'werkzeug': 'threading', 'gunicorn-gthread': 'threading',
        'eventlet': 'eventlet', 'gevent': 'gevent', 'gevent-ws': 'gevent',
        'flask-threading': 'threading', 'flask-eventlet': 'eventlet',
        'flask-gevent': 'gevent'}
CALLS = ['where', 'where', 'join', 'where']
RUNS = [
    {'transports': ['polling'], 'calls': CALLS},
    # the client upgrades right after connecting; the third call waits
    # for it
    {'transports': ['polling', 'websocket'], 'calls': CALLS,
     'upgrade_before': 2},
    {'transports': ['websocket'], 'calls': CALLS},
]


def python(args, stdin=None, env=None, timeout=120):
    full = dict(os.environ, PYTHONPATH=REPO_ROOT)
    full.update(env or {})
    out = subprocess.run([sys.executable] + args, input=stdin,
                         capture_output=True, timeout=timeout, cwd=REPO_ROOT,
                         env=full)
    assert out.returncode == 0, out.stderr.decode()[-4000:]
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize('kind', KINDS)
def test_python_socketio_client(kind):
    with SioServer(kind, module='tests.socketio.flask_app') as srv:
        status, body = srv.http_get('/hello')
        assert status == 200
        assert body.decode() == ('hello from flask (engineio_fast.server on '
                                 '%s)' % MODE[kind])
        runs = python(['-m', 'tests.socketio.sio_client'],
                      json.dumps({'url': srv.url, 'runs': RUNS}).encode())
        log = srv.output()
    for spec, got in zip(RUNS, runs):
        assert got['engine'] == 'engineio_fast.client'
        sid = got['welcome']['sid']
        answers = [r for r in got['results'] if r is not None]
        assert [a['count'] for a in answers] == [1, 2, 3], (spec, got, log)
        for a in answers:
            assert a['same_environ'] and a['mark'] and a['flask_app'], a
            assert (a['engine'], a['async_mode']) == (
                'engineio_fast.server', MODE[kind])
        assert got['joined'] == [sid]
        wanted = spec['transports'][-1]
        assert answers[-1]['transport'] == wanted
        assert got['transports'][-1] == wanted
    assert 'Traceback' not in log, log[-4000:]


def test_flask_socketio_test_client():
    """socketio.test_client(app) works on engineio_fast as on
    python-engineio: the same answers, sessions and rooms (the sids
    aside), and eio.async_handlers is switched off as the client wants."""
    outs = {}
    for impl in ('engineio_fast', 'engineio'):
        outs[impl] = python(['-m', 'tests.socketio.flask_test_client'],
                            env={'EIO_IMPL': impl,
                                 'EIO_ASYNC_MODE': 'threading'})
    mine, theirs = outs['engineio_fast'], outs['engineio']
    assert mine['engine'] == 'engineio_fast.server'
    assert theirs['engine'] == 'engineio.server'
    assert mine['connected'] and not mine['connected_after']
    assert mine['eio_async_handlers'] is False and mine['inline'] is True
    assert [w['count'] for w in mine['where']] == [1, 2, 3]
    assert all(w['same_environ'] and w['mark'] for w in mine['where'])

    def scrub(out):
        text = json.dumps({k: v for k, v in out.items()
                           if k not in ('engine', 'inline')}, sort_keys=True)
        for each in (out['received'][0]['args'][0]['sid'],
                     out['other_joined'][0][0]['sid']):
            text = text.replace(each, 'SID')
        return json.loads(text.replace('engineio_fast.server', 'ENGINE')
                          .replace('engineio.server', 'ENGINE'))

    assert scrub(mine) == scrub(theirs)
