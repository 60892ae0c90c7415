"""Prometheus metrics over real sockets on 127.0.0.1: /metrics of the
built-in server (the option and ``engineio-fast --metrics``), and the
EngineCollector under uvicorn (ASGIApp) and behind Werkzeug (the sync
Server), after real clients connected, upgraded, sent, were refused and
left. The same client script and the same expected counts on all three:
the counting is the engine's."""

import json
import logging

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as ws_connect

import engineio_fast as engineio
from engineio_fast.metrics import EngineCollector

from ..support import BuiltinServer, LiveServer, WerkzeugServer
from .builtin_helpers import Recorder, ServerProcess, wait_for

pytestmark = pytest.mark.timeout(60)
WAIT = 5.0
OK_ORIGIN = 'http://ok.example'


def handlers(eio):
    eio.rec = rec = Recorder()

    @eio.on('message')
    def message(sid, data):
        rec.add('message', sid, data)
        return eio.send(sid, data)      # a coroutine on the AsyncServer

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    return eio


def async_server(**options):
    return handlers(engineio.AsyncServer(cors_allowed_origins=[OK_ORIGIN],
                                         **options))


def client_script(http_url, ws_url, disconnects):
    """What every server gets: a polling session that sends, is echoed,
    upgrades and closes; a websocket session that sends and drops its
    socket; three refused requests. ``disconnects()``: how many disconnect
    events the app has seen. Returns the sids."""
    path = '/engine.io/?EIO=4&transport='
    with httpx.Client(timeout=WAIT) as http:
        r = http.get(http_url + path + 'polling')
        assert r.status_code == 200, r.text
        sid = json.loads(r.text[1:].split('\x1e')[0])['sid']
        r = http.post(http_url + path + 'polling&sid=' + sid,
                      content=b'4hello')
        assert r.status_code == 200
        r = http.get(http_url + path + 'polling&sid=' + sid)
        assert r.text == '4hello'
        with ws_connect(ws_url + path + 'websocket&sid=' + sid,
                        open_timeout=WAIT) as ws:
            ws.send('2probe')
            assert ws.recv(WAIT) == '3probe'
            ws.send('5')
            ws.send('4up')
            assert ws.recv(WAIT) == '4up'
            ws.send('1')
            assert wait_for(lambda: disconnects() == 1)
        with ws_connect(ws_url + path + 'websocket',
                        open_timeout=WAIT) as ws:
            opening = ws.recv(WAIT)
            assert opening[0] == '0'
            ws_sid = json.loads(opening[1:])['sid']
            ws.send('4x')
            assert ws.recv(WAIT) == '4x'
        assert wait_for(lambda: disconnects() == 2)
        assert http.get(http_url + path + 'polling&sid=bogus'
                        ).status_code == 400
        assert http.get(http_url + path + 'carrier').status_code == 400
        assert http.get(http_url + path + 'polling',
                        headers={'Origin': 'http://evil.example'}
                        ).status_code == 400
    return sid, ws_sid, opening


def disconnects(eio):
    return lambda: len(eio.rec.of('disconnect'))


def reasons(eio):
    return [e[2] for e in eio.rec.of('disconnect')]


def samples(text):
    """{(name, ((label, value), ...)): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def check_counts(found, reasons):
    """The counts of ``client_script``'s requests; ``reasons``: the
    disconnect reasons the app's handler got."""
    def value(name, **labels):
        return found[('engineio_' + name, tuple(sorted(labels.items())))]

    assert value('handshakes_total', transport='polling') == 1
    assert value('handshakes_total', transport='websocket') == 1
    assert value('upgrades_total') == 1
    assert value('messages_received_total') == 3
    assert value('messages_sent_total') == 3
    # message packets: '4hello' (a POST body, and echoed), '4up', '4x'
    assert value('received_bytes_total') == 6 + 3 + 2
    assert value('sent_bytes_total') == 6 + 3 + 2
    assert sorted(reasons) == ['client disconnect', 'transport close']
    assert value('disconnects_total', reason='client disconnect') == 1
    assert value('disconnects_total', reason='transport close') == 1
    assert value('disconnects_total', reason='ping timeout') == 0
    assert value('ping_timeouts_total') == 0
    assert value('rejected_requests_total', cause='Session ID unknown') == 1
    assert value('rejected_requests_total', cause='Transport unknown') == 1
    assert value('rejected_requests_total',
                 cause='Not an accepted origin') == 1
    assert value('rejected_requests_total', cause='Bad request') == 0
    assert value('sessions', transport='polling') == 0
    assert value('sessions', transport='websocket') == 0
    # the largest websocket message ('2probe') or POST body ('4hello')
    assert value('received_packet_high_water_bytes') == 6
    assert value('queue_high_water_bytes') == 6


def assert_private(text, sids):
    for sid in sids[:2]:
        assert sid not in text
    assert 'bogus' not in text
    assert '127.0.0.1' not in text


def test_builtin_metrics_endpoint(caplog):
    caplog.set_level(logging.INFO, logger='engineio.server')
    eio = async_server()
    caplog.clear()      # (its 'Server initialized' line)
    with BuiltinServer(eio, metrics=True) as srv:
        sids = client_script(srv.url, srv.ws_url, disconnects(eio))
        r = httpx.get(srv.url + '/metrics', timeout=WAIT)
        assert r.status_code == 200
        assert r.headers['content-type'].startswith('text/plain')
        check_counts(samples(r.text), reasons(eio))
        assert_private(r.text, sids)
        # this process's metrics come with them
        assert 'process_cpu_seconds_total' in r.text
        r = httpx.post(srv.url + '/metrics', content=b'x', timeout=WAIT)
        assert r.status_code == 405 and r.headers['allow'] == 'GET'
        # the Engine.IO path is untouched by it
        assert httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling',
                         timeout=WAIT).status_code == 200
    # one INFO line per refused request, with its cause; nothing per message
    lines = [r.getMessage() for r in caplog.records
             if r.name == 'engineio.server' and r.levelno >= logging.INFO]
    assert lines == [
        'GET polling refused (400 Session ID unknown)',
        'GET ? refused (400 Transport unknown)',
        'GET polling refused (400 Not an accepted origin)']


def test_builtin_without_metrics_has_no_endpoint():
    eio = async_server()
    with BuiltinServer(eio) as srv:
        assert httpx.get(srv.url + '/metrics',
                         timeout=WAIT).status_code == 404
    assert eio._engine.stats is None


def test_builtin_metrics_on_another_path():
    with pytest.raises(ValueError):
        BuiltinServer(async_server(), metrics='metrics')
    eio = async_server()
    with BuiltinServer(eio, metrics='/internal/prom') as srv:
        r = httpx.get(srv.url + '/internal/prom', timeout=WAIT)
        assert r.status_code == 200 and 'engineio_sessions' in r.text


def test_collector_under_uvicorn():
    eio = async_server()
    app = engineio.ASGIApp(eio)
    registry = CollectorRegistry()
    registry.register(EngineCollector(app))     # through the ASGIApp
    with LiveServer(app) as srv:
        sids = client_script(srv.url, srv.ws_url, disconnects(eio))
        text = generate_latest(registry).decode()
    check_counts(samples(text), reasons(eio))
    assert_private(text, sids)


def test_collector_behind_werkzeug():
    eio = handlers(engineio.Server(async_mode='threading',
                                   cors_allowed_origins=[OK_ORIGIN],
                                   metrics=True))
    registry = CollectorRegistry()
    registry.register(EngineCollector(eio))
    srv = WerkzeugServer(eio)
    try:
        url = srv.url
        sids = client_script(url, url.replace('http:', 'ws:'),
                             disconnects(eio))
        text = generate_latest(registry).decode()
    finally:
        srv.stop()
    check_counts(samples(text), reasons(eio))
    assert_private(text, sids)


def test_two_servers_in_one_registry():
    a, b = async_server(), async_server()
    registry = CollectorRegistry()
    registry.register(EngineCollector({'chat': a, 'admin': b}))
    with BuiltinServer(a) as srv:
        assert httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling',
                         timeout=WAIT).status_code == 200
        found = samples(generate_latest(registry).decode())
    assert found[('engineio_handshakes_total',
                  (('server', 'chat'), ('transport', 'polling')))] == 1
    assert found[('engineio_handshakes_total',
                  (('server', 'admin'), ('transport', 'polling')))] == 0
    # a second collector with its own namespace does not clash either
    registry.register(EngineCollector(b, namespace='admin_engineio'))
    assert 'admin_engineio_sessions' in generate_latest(registry).decode()


def test_cli_metrics_flag(tmp_path):
    with ServerProcess(['tests.io.builtin_app:eio', '--metrics'],
                       tmp_path) as srv:
        srv.wait_listening()
        assert httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling&'
                         'sid=bogus', timeout=WAIT).status_code == 400
        r = httpx.get(srv.url + '/metrics', timeout=WAIT)
        assert r.status_code == 200
        found = samples(r.text)
    assert found[('engineio_rejected_requests_total',
                  (('cause', 'Session ID unknown'),))] == 1


def test_cli_metrics_with_workers(tmp_path):
    """Each worker serves /metrics with its own counts: two handshakes,
    wherever they land, and every scrape answered by one worker."""
    with ServerProcess(['tests.io.builtin_app:eio', '--metrics',
                        '--workers', '2'], tmp_path) as srv:
        srv.wait_listening()
        for _ in range(2):
            assert httpx.get(srv.url + '/engine.io/?EIO=4&transport=polling',
                             timeout=WAIT).status_code == 200
        seen = []
        for _ in range(4):
            r = httpx.get(srv.url + '/metrics', timeout=WAIT)
            assert r.status_code == 200
            found = samples(r.text)
            seen.append(found[('engineio_handshakes_total',
                               (('transport', 'polling'),))])
    # one worker's count each time: never more than the two made
    assert all(0 <= n <= 2 for n in seen)
