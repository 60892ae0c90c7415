"""The README's demo: its page, in headless Chromium, connects through the
official browser client, upgrades to websocket and measures round trips."""

import pytest

from engineio_fast import demo

from ..support import BuiltinServer, LiveServer
from .conftest import require_chromium, run_node

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize('runner', [BuiltinServer, LiveServer],
                         ids=['builtin', 'uvicorn'])
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
