"""The official engine.io-client (node) on two server processes sharing one
Redis: a session on each host, sends and broadcasts across them counted
and in order, a disconnect from the other host."""

import json
import os
import shutil
import subprocess

import pytest

from tests.cluster_redis.helpers import Host

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = os.path.join(os.path.dirname(os.path.dirname(HERE)),
                            'node_modules')
KINDS = ['async', 'gunicorn-eventlet']
pytestmark = pytest.mark.timeout(90)


def run_node(payload, timeout=60):
    if shutil.which('node') is None:
        pytest.fail('node is not installed (the interop tests need it)')
    if not os.path.isdir(os.path.join(NODE_MODULES, 'engine.io-client')):
        pytest.fail('node_modules is missing: run npm ci')
    proc = subprocess.run(['node', os.path.join(HERE, 'js', 'two_hosts.mjs')],
                          input=json.dumps(payload).encode(),
                          capture_output=True, timeout=timeout, cwd=HERE)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize('kind', KINDS)
def test_official_client_across_hosts(kind, redis_srv, tmp_path):
    a = Host(kind, redis_srv.url, tmp_path / 'a').start()
    b = Host(kind, redis_srv.url, tmp_path / 'b').start()
    try:
        n = 300
        out = run_node({'a': a.url, 'b': b.url, 'n': n, 'timeoutMs': 45000})
    finally:
        a.stop()
        b.stop()
    assert out['error'] is None, out['error']
    assert out['xUpgraded']
    assert set(out['who'] or []) == {out['xId'], out['yId']}
    expected_j = ['j:%d' % i for i in range(n)]
    expected_h = ['h:%d' % i for i in range(n)]
    assert [m for m in out['yGot'] if m.startswith('j:')] == expected_j
    assert [m for m in out['xGot'] if m.startswith('h:')] == expected_h
    assert [m for m in out['yGot'] if m.startswith('h:')] == expected_h
    assert out['yClose'] == 'transport close'
