"""The README's demo: its page, in headless Chromium, connects through the
official browser client, upgrades to websocket, measures round trips, charts
them, and lists the connected clients with their transports as tabs join and
leave; with no local copy of the client, the page loads the pinned CDN copy
(its integrity hash checked by Chromium against the npm file)."""

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from engineio_fast import demo

from .. import ports
from ..support import BuiltinServer, LiveServer
from .app import NODE_MODULES
from .conftest import require_chromium, run_node

pytestmark = pytest.mark.timeout(180)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NPM_JS = os.path.join(NODE_MODULES, 'engine.io-client', 'dist',
                      'engine.io.min.js')
RUNNERS = pytest.mark.parametrize('runner', [BuiltinServer, LiveServer],
                                  ids=['builtin', 'uvicorn'])
WAIT = 10.0
# blue pixels of the round-trip line (#2563eb) on the chart's canvas
LINE_PIXELS = '''(() => {
  const c = document.getElementById(%r);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 128 && d[i + 2] > 150 && d[i] < 120 && d[i + 1] < 170) n++;
  return n;
})()'''
GREEN_PIXELS = LINE_PIXELS.replace(
    'd[i + 2] > 150 && d[i] < 120 && d[i + 1] < 170',
    'd[i + 1] > 120 && d[i] < 80 && d[i + 2] < 120')


def seen(name, count, **transports):
    """A wait expression: page ``name``'s list has ``count`` clients, and
    the named ones (demo names) on the given transports."""
    cond = ['window.demo.count === %d' % count,
            'window.demo.clients.length === %d' % count]
    for who, transport in transports.items():
        cond.append('window.demo.clients.some(c => c.name === %s && '
                    'c.transport === %s)' % (json.dumps(who.replace('_', '-')),
                                             json.dumps(transport)))
    return {'wait': name, 'expr': ' && '.join(cond)}


def state(name, key):
    return {'eval': name, 'as': key, 'expr':
            '({you: window.demo.you, count: window.demo.count, '
            'clients: window.demo.clients, history: window.demo.history, '
            'rtts: window.demo.rtts, rates: window.demo.rates, '
            'drawn: window.demo.drawn, '
            'transport: document.getElementById("transport").textContent, '
            'listed: [...document.querySelectorAll("#clients li")]'
            '.map(li => li.textContent), '
            'scripts: [...document.scripts].map(s => ({src: s.src, '
            'integrity: s.integrity, crossOrigin: s.crossOrigin}))'
            '.filter(s => s.src)})'}


def run_pages(steps, cdn=None):
    require_chromium()
    out = run_node('demo_pages.mjs', {'timeoutMs': 20000, 'cdn': cdn,
                                      'steps': steps}, 150)
    assert out['error'] is None, out
    assert not out['pageErrors'], out
    return out


@RUNNERS
def test_demo_page_upgrades_and_measures_round_trips(runner):
    require_chromium()
    client_js = demo.find_client_js()
    assert client_js is not None, 'run npm ci: the demo needs engine.io-client'
    eio, app = demo.create_app(client_js)
    with runner(app) as server:
        out = run_node('browser.mjs', {
            'url': server.url + '/', 'timeoutMs': 20000,
            'waitFor': 'window.demo && window.demo.upgraded && '
                       'window.demo.rtts.length >= 2',
            'resultExpr': '({upgraded: window.demo.upgraded, '
                          'rtts: window.demo.rtts, '
                          'transport: document.getElementById("transport")'
                          '.textContent})'}, 60)
    assert out['error'] is None, out
    assert not out['pageErrors'], out
    res = out['result']
    assert res['upgraded'] is True
    assert res['transport'] == 'websocket'
    assert all(0 < rtt < 5000 for rtt in res['rtts'])


@RUNNERS
def test_two_tabs_see_each_other_join_upgrade_and_leave(runner):
    # tab B stays on long-polling; tab A joins after it and upgrades
    eio, app = demo.create_app(demo.find_client_js())
    with runner(app) as server:
        url = server.url + '/'
        out = run_pages([
            {'open': 'b', 'url': url + '?transports=polling'},
            seen('b', 1, guest_1='polling'),
            {'open': 'a', 'url': url},
            seen('a', 2, guest_1='polling', guest_2='websocket'),
            seen('b', 2, guest_1='polling', guest_2='websocket'),
            # A's charts: round trips and the server's message rate
            {'wait': 'a', 'expr': 'window.demo.drawn.rtt >= 3 && '
                                  'window.demo.drawn.rate >= 2'},
            state('a', 'a_both'), state('b', 'b_both'),
            {'eval': 'a', 'as': 'rtt_pixels',
             'expr': LINE_PIXELS % 'rttChart'},
            {'eval': 'a', 'as': 'rate_pixels',
             'expr': GREEN_PIXELS % 'rateChart'},
            {'close': 'a'},
            seen('b', 1, guest_1='polling'),
            state('b', 'b_alone'),
        ])
    assert out['blocked'] == [] and out['cdnServed'] == 0, out
    res = out['results']
    a, b = res['a_both'], res['b_both']
    assert (a['you'], b['you']) == ('guest-2', 'guest-1')
    both = [{'name': 'guest-1', 'transport': 'polling'},
            {'name': 'guest-2', 'transport': 'websocket'}]
    assert a['clients'] == both and b['clients'] == both
    assert a['transport'] == 'websocket' and b['transport'] == 'polling'
    assert a['listed'] == ['guest-1polling', 'guest-2 (you)websocket']
    assert b['listed'] == ['guest-1 (you)polling', 'guest-2websocket']
    # B saw A join on polling, then upgrade
    assert b['history']['guest-2'] == ['polling', 'websocket'], b
    assert b['history']['guest-1'] == ['polling'], b
    # the page's local client, not the CDN
    assert [s['src'] for s in a['scripts']] == [url + 'engine.io.min.js']
    assert a['scripts'][0]['integrity'] == ''
    # the charts have points, drawn on the canvases
    assert len(a['rtts']) >= 3 and all(0 < r < 5000 for r in a['rtts'])
    assert len(a['rates']) >= 2
    # rates over at least 250 ms: finite also where pongs come together in
    # one polling response (tab B); JSON gives Infinity and NaN as null
    assert all(r is not None and 0 <= r < 1e4
               for r in a['rates'] + b['rates']), (a['rates'], b['rates'])
    # (an empty chart has none of its line's colour: axes and labels are
    # grey; the last point's dot alone is ~28 pixels)
    assert res['rtt_pixels'] > 20 and res['rate_pixels'] > 20, res
    # A left: B sees it go
    alone = res['b_alone']
    assert alone['clients'] == [{'name': 'guest-1', 'transport': 'polling'}]
    assert alone['listed'] == ['guest-1 (you)polling']


def test_presence_list_is_capped(monkeypatch):
    monkeypatch.setattr(demo, 'MAX_LISTED', 1)
    eio, app = demo.create_app(demo.find_client_js())
    with BuiltinServer(app) as server:
        out = run_pages([
            {'open': 'a', 'url': server.url + '/'},
            {'open': 'b', 'url': server.url + '/'},
            {'wait': 'b', 'expr': 'window.demo.count === 2'},
            {'wait': 'a', 'expr': 'window.demo.count === 2'},
            state('a', 'a'),
            {'eval': 'a', 'as': 'more',
             'expr': 'document.getElementById("more").textContent'},
        ])
    res = out['results']
    assert res['a']['clients'] == [{'name': 'guest-1',
                                    'transport': res['a']['clients'][0][
                                        'transport']}]
    assert res['a']['count'] == 2 and res['more'] == 'and 1 more'


def test_cdn_pin_is_the_npm_file():
    # package-lock.json pins engine.io-client; npm ci installed that file
    with open(os.path.join(REPO, 'package-lock.json'), encoding='utf-8') as f:
        lock = json.load(f)
    version = lock['packages']['node_modules/engine.io-client']['version']
    with open(os.path.join(NODE_MODULES, 'engine.io-client', 'package.json'),
              encoding='utf-8') as f:
        assert json.load(f)['version'] == version, 'run npm ci'
    assert demo.CLIENT_VERSION == version
    assert demo.CDN_URL == ('https://cdn.jsdelivr.net/npm/engine.io-client@'
                            + version + '/dist/engine.io.min.js')
    with open(NPM_JS, 'rb') as f:
        digest = hashlib.sha384(f.read()).digest()
    assert demo.CDN_INTEGRITY == 'sha384-' + base64.b64encode(
        digest).decode()


@RUNNERS
def test_without_a_local_client_the_page_uses_the_pinned_cdn_copy(runner):
    eio, app = demo.create_app(None)
    with runner(app) as server:
        url = server.url + '/'
        page = httpx.get(url, timeout=WAIT)
        assert page.status_code == 200
        assert httpx.get(server.url + '/engine.io.min.js',
                         timeout=WAIT).status_code == 404
        # Chromium fetches the CDN URL (answered here with the npm file)
        # and runs it only if it matches the integrity hash
        out = run_pages([
            {'open': 'a', 'url': url},
            {'wait': 'a', 'expr': 'window.demo.upgraded && '
                                  'window.demo.rtts.length >= 2 && '
                                  'window.demo.count === 1'},
            state('a', 'a'),
        ], cdn={'url': demo.CDN_URL, 'path': NPM_JS})
    assert demo.CDN_URL in page.text and demo.CDN_INTEGRITY in page.text
    assert out['cdnServed'] == 1 and out['blocked'] == [], out
    a = out['results']['a']
    assert a['scripts'] == [{'src': demo.CDN_URL,
                             'integrity': demo.CDN_INTEGRITY,
                             'crossOrigin': 'anonymous'}]
    assert a['transport'] == 'websocket'


def test_a_cdn_file_that_does_not_match_is_refused():
    # the integrity attribute is enforced: another file (here the
    # unminified build) is not run, and the page says the client is missing
    eio, app = demo.create_app(None)
    other = os.path.join(NODE_MODULES, 'engine.io-client', 'dist',
                         'engine.io.js')
    with BuiltinServer(app) as server:
        out = run_pages([
            {'open': 'a', 'url': server.url + '/'},
            {'wait': 'a', 'expr': 'window.demo.error !== null'},
            {'eval': 'a', 'as': 'state',
             'expr': 'document.getElementById("state").textContent'},
        ], cdn={'url': demo.CDN_URL, 'path': other})
    assert out['cdnServed'] == 1
    assert out['results']['state'] == 'no client'
    assert any('integrity' in line.lower() for line in out['console']), out


def test_engineio_fast_demo_without_a_local_client(tmp_path):
    # the package as a wheel without the vendored client installs it, in a
    # folder with no node_modules above it
    site = tmp_path / 'site'
    shutil.copytree(os.path.dirname(os.path.dirname(demo.__file__)),
                    site / 'engineio_fast',
                    ignore=shutil.ignore_patterns('vendor', '__pycache__'))
    assert not any(os.path.isdir(os.path.join(p, 'node_modules'))
                   for p in [str(tmp_path)] + [
                       os.path.dirname(str(tmp_path))] + ['/', '/tmp'])
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'ENGINEIO_FAST_CLIENT_JS')}
    env['PYTHONPATH'] = str(site)
    port = ports.free_port()
    err = open(tmp_path / 'err', 'w+')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'engineio_fast', 'demo', '--port', str(port)],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=err,
        text=True)
    try:
        first = proc.stdout.readline()
        assert 'serving on http://127.0.0.1:%d/' % port in first, (
            first, (tmp_path / 'err').read_text())
        base = 'http://127.0.0.1:%d' % port
        page = None
        for _ in range(100):      # up to ~5 s to accept
            try:
                page = httpx.get(base + '/', timeout=WAIT)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert page is not None and page.status_code == 200
        assert ('<script src="%s" integrity="%s" crossorigin="anonymous">'
                % (demo.CDN_URL, demo.CDN_INTEGRITY)) in page.text
        assert httpx.get(base + '/engine.io.min.js',
                         timeout=WAIT).status_code == 404
        hs = httpx.get(base + '/engine.io/', params={
            'EIO': '4', 'transport': 'polling'}, timeout=WAIT)
        assert hs.status_code == 200 and hs.text.startswith('0{"sid":')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
        proc.stdout.close()
    notice = (tmp_path / 'err').read_text()
    assert 'No local copy of the browser client' in notice, notice
    assert demo.CDN_URL in notice and 'npm ci' in notice
    err.close()


def test_demo_client_js_naming_no_file_is_an_error(tmp_path):
    p = subprocess.run(
        [sys.executable, '-m', 'engineio_fast', 'demo', '--client-js',
         str(tmp_path / 'missing.js')], capture_output=True, text=True,
        timeout=60)
    assert p.returncode == 2
    assert 'missing.js: no such file' in p.stderr


def test_presence_is_rate_limited_and_lists_everyone():
    # 1 + 20 polling clients join in a burst: the first one's presence
    # lists come at most once per PRESENCE_INTERVAL, the last naming all 21
    eio, app = demo.create_app(None)
    joined = 21
    with BuiltinServer(app) as server, httpx.Client(
            base_url=server.url, timeout=WAIT) as http:
        def handshake():
            r = http.get('/engine.io/', params={'EIO': '4',
                                                'transport': 'polling'})
            assert r.status_code == 200 and r.text.startswith('0'), r.text
            return json.loads(r.text[1:])['sid']

        start = time.monotonic()
        first = handshake()
        for _ in range(joined - 1):
            handshake()
        lists = []
        for _ in range(50):    # each poll returns with what is queued
            r = http.get('/engine.io/', params={
                'EIO': '4', 'transport': 'polling', 'sid': first})
            assert r.status_code == 200, r.text
            lists += [json.loads(p[1:]) for p in r.text.split('\x1e')
                      if p.startswith('4{"type":"presence"')]
            if lists and lists[-1]['count'] == joined:
                break
        elapsed = time.monotonic() - start
    assert lists and lists[-1]['count'] == joined, lists
    last = lists[-1]
    assert last['you'] == 'guest-1'
    assert [c['name'] for c in last['clients']] == [
        'guest-%d' % i for i in range(1, joined + 1)]
    assert {c['transport'] for c in last['clients']} == {'polling'}
    # one list per join (21) without the limit; with it, one at once and
    # then one per interval (10 % slack for the loop's timer rounding)
    assert len(lists) <= 1 + elapsed / (0.9 * demo.PRESENCE_INTERVAL), (
        len(lists), elapsed)
