"""The official browser client in Debian's headless Chromium against our server.

static/index.html and the client (node_modules/engine.io-client/dist/engine.io.js) are served
by the app under test itself (ASGIApp static_files); js/browser.mjs drives Chromium through
playwright-core and returns what the page reported.
"""

import base64

import httpx
import pytest

from .app import gen_bytes
from .conftest import require_chromium, run_node

pytestmark = pytest.mark.timeout(120)

UTF8 = 'héllo wörld 👋🏽 世界 こんにちは ✓ 🎉'
BURST = 20


@pytest.fixture(scope='module')
def browser_run(server):
    require_chromium()
    out = run_node('browser.mjs', {'url': f'{server.url}/', 'timeoutMs': 30000}, 60)
    assert out['error'] is None, out
    assert out['result'] is not None, out
    return out


def test_static_files_served(server):
    with httpx.Client(timeout=5) as client:
        page = client.get(f'{server.url}/')
        assert page.status_code == 200
        assert page.headers['content-type'].startswith('text/html')
        assert '/eio-client.js' in page.text
        script = client.get(f'{server.url}/eio-client.js')
        assert script.status_code == 200
        assert 'Engine.IO' in script.text[:200]


def test_browser_upgrades_and_echoes(server, browser_run):
    res = browser_run['result']
    assert res['error'] is None, (res, browser_run['console'], browser_run['pageErrors'])
    assert not browser_run['pageErrors']
    assert res['upgraded'], res['events']
    assert res['transports'][:2] == ['polling', 'websocket']
    assert res['finalTransport'] == 'websocket'
    assert res['handshake']['upgrades'] == ['websocket']

    def decoded(msg):
        if msg['type'] == 'binary':
            return base64.b64decode(msg['b64'])
        assert msg['type'] == 'text', msg
        return msg['data']

    got = [decoded(m) for m in res['messages']]
    expected = (['before-upgrade', 'hello', UTF8, bytes(range(256)), b'\x01\x02\x03', b'blob',
                 gen_bytes(1000)] + [f'm{i}' for i in range(BURST)])
    assert got == expected
    assert all(m['cls'] == 'ArrayBuffer' for m in res['messages'] if m['type'] == 'binary')

    server_got = server.recorder.messages(res['sid'])
    assert server_got == ['before-upgrade', 'hello', UTF8, bytes(range(256)), b'\x01\x02\x03',
                          b'blob', 'cmd:bin:1000', f'cmd:burst:{BURST}']
    # the websocket the browser upgraded over carried the session id
    assert [e for e in server.recorder.events('websocket')
            if e['query'].get('sid') == res['sid'] and e['query'].get('transport') == 'websocket']
    # closing the browser ends the session on the server
    server.recorder.wait_for('disconnect', res['sid'], timeout=10)
