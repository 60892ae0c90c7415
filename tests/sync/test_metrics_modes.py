"""Prometheus metrics on every WSGI server kind (werkzeug, gunicorn gthread
and eventlet, eventlet, gevent with and without gevent-websocket, uWSGI):
the echo app with ``metrics=True`` serves its EngineCollector at
/_metrics, and the client script of tests/io/test_metrics_io.py (polling,
an upgrade, a websocket session, three refused requests) gives the same
counts as on the built-in server and under uvicorn."""

import httpx
import pytest

from ..io.test_metrics_io import (
    OK_ORIGIN,
    assert_private,
    check_counts,
    client_script,
    samples,
)
from .servers import KINDS

pytestmark = pytest.mark.timeout(90)

KWARGS = '{"metrics": true, "cors_allowed_origins": ["%s"]}' % OK_ORIGIN


@pytest.mark.parametrize('kind', KINDS)
def test_metrics_on_every_wsgi_server(server_process, kind):
    srv = server_process(kind, env={'EIO_SERVER_KWARGS': KWARGS})

    def reasons():
        events = httpx.get(srv.url + '/_record', timeout=5.0).json()['events']
        return [e['reason'] for e in events if e['event'] == 'disconnect']

    sids = client_script(srv.url, srv.ws_url, lambda: len(reasons()))
    r = httpx.get(srv.url + '/_metrics', timeout=5.0)
    assert r.status_code == 200, r.text
    check_counts(samples(r.text), reasons())
    assert_private(r.text, sids)
