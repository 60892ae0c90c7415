"""The session rules of issue 11 (scenarios in tests/io/session_rules.py)
on the sync Server under every WSGI server: werkzeug and gunicorn gthread
(threading), eventlet (eventlet.wsgi and gunicorn's worker), gevent's pywsgi
with and without gevent-websocket, and uWSGI (gevent_uwsgi). Each runs
tests/sync/rules_app.py in a subprocess."""

import json

import httpx
import pytest

from ..io import session_rules as R
from ..io.builtin_helpers import OP_TEXT, RawWs, wait_for
from .servers import KINDS, ServerProcess

pytestmark = pytest.mark.timeout(120)
APP = 'tests.sync.rules_app:app'


class SyncTarget(R.Target):
    def __init__(self, srv):
        self.srv = srv
        self.kind = srv.kind
        self.port = srv.port
        self.early_101 = srv.kind == 'gevent-ws'

    def state(self, sid):
        r = httpx.get(self.url + '/_state?sid=' + sid, timeout=R.WAIT)
        assert r.status_code == 200, r.text
        return r.json()

    def gone(self, sid):
        st = self.state(sid)
        return not st['open'] and not st['closing']

    def reason(self, sid):
        found = []

        def check():
            found[:] = [e[1] for e in self.state(sid)['events']
                        if e[0] == 'disconnect']
            return bool(found)

        wait_for(check, R.WAIT)
        return found[0] if found else None

    def parked(self, sid):
        return wait_for(lambda: self.state(sid)['parked'], R.WAIT)


def _start(kind, **env):
    env.setdefault('EIO_LATE_POLL_DELAY', str(R.LATE_POLL_DELAY))
    extra = ['--threads', '32'] if kind == 'gunicorn-gthread' else []
    return ServerProcess(kind, app=APP, env=env, extra_args=extra).start()


@pytest.fixture(scope='module', params=KINDS)
def target(request):
    srv = _start(request.param)
    yield SyncTarget(srv)
    srv.stop()


@pytest.mark.parametrize('scenario', R.SCENARIOS,
                         ids=[s.__name__ for s in R.SCENARIOS])
def test_rule(target, scenario):
    if target.kind == 'uwsgi' and \
            scenario is R.vanished_parked_get_is_a_transport_error:
        return _uwsgi_vanished_parked_get()
    scenario(target)


def _uwsgi_vanished_parked_get():
    """uWSGI's HTTP router keeps its connection to the worker open when
    the client leaves (MSG_PEEK on uwsgi.connection_fd() sees nothing):
    no WSGI app can see it there, so the session ends at its ping timeout
    instead (bounded, nothing left behind)."""
    srv = _start('uwsgi', EIO_PING_INTERVAL='0.3', EIO_PING_TIMEOUT='0.2')
    try:
        t = SyncTarget(srv)
        sid = R.open_sid(t)
        R.ParkedGet(t, sid).vanish()
        assert R.wait_for(lambda: t.gone(sid), 0.5 + R.WAIT)
        assert R.all_unknown(t, sid)
        assert t.reason(sid) == 'ping timeout'
    finally:
        srv.stop()


def test_ping_timeout_then_gone(target):
    srv = _start(target.kind, EIO_PING_INTERVAL='0.3',
                 EIO_PING_TIMEOUT='0.2')
    try:
        R.ping_timeout_then_gone(SyncTarget(srv), 0.3, 0.2)
    finally:
        srv.stop()


KICKS = {'disconnect': 'server disconnect', 'close_all': 'server disconnect',
         'overflow': 'transport error'}


@pytest.mark.parametrize('kick', sorted(KICKS))
def test_closed_while_connecting_polling(target, kick):
    r = httpx.get(target.url + R.POLL + '&kick=' + kick, timeout=R.WAIT)
    assert r.status_code == 200
    opened, closed = r.text.split('\x1e')
    sid = json.loads(opened[1:])['sid']
    assert closed == '1'
    assert target.reason(sid) == KICKS[kick]
    assert target.state(sid)['events'] == [
        ['connect', None], ['connected', None], ['disconnect', KICKS[kick]]]
    assert R.all_unknown(target, sid)


@pytest.mark.parametrize('kick', sorted(KICKS))
def test_closed_while_connecting_websocket(target, kick):
    ws = RawWs(target.port, R.WS + '&kick=' + kick)
    sid = ws.open_packet()['sid']
    op, _fin, _rsv, payload = ws.recv_frame()
    assert (op, payload) == (OP_TEXT, b'1')
    assert R.closed_with(ws) == 1000
    assert target.reason(sid) == KICKS[kick]
    assert target.state(sid)['events'] == [
        ['connect', None], ['connected', None], ['disconnect', KICKS[kick]]]
    assert R.all_unknown(target, sid)


@pytest.mark.parametrize('kick', sorted(KICKS))
def test_closed_while_connecting_then_refused(target, kick):
    before = target.state('')
    with httpx.Client(base_url=target.url, timeout=R.WAIT) as client:
        for _ in range(50):
            r = client.get(R.POLL + '&refuse=1&kick=' + kick)
            assert (r.status_code, r.json()) == (401, 'Unauthorized')
    after = target.state('')
    # none of the 50 is left in either table (close_all also closes the
    # sessions other tests left open: those may wait for their last GET)
    assert after['sessions'] <= before['sessions']
    assert after['closing_count'] <= \
        before['closing_count'] + before['sessions']
