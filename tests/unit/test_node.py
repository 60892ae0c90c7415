"""engineio_fast.cluster.node: every sid starts with the id of the process
that minted it; a forked child draws its own."""

import os
import subprocess
import sys

import pytest

import engineio_fast as engineio
from engineio_fast.cluster import node


def _handshake_sid(eio):
    environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/engine.io/',
               'QUERY_STRING': 'EIO=4&transport=polling',
               'wsgi.input': None}
    got = {}

    def start_response(status, headers):
        got['status'] = status

    body = b''.join(eio.handle_request(environ, start_response))
    assert got['status'].startswith('200'), body
    import json
    return json.loads(body[1:])['sid']


def test_sids_start_with_the_node_id():
    eio = engineio.Server(async_mode='threading')
    sid = _handshake_sid(eio)
    assert node.owner_of(sid) == node.node_id()
    assert node.is_mine(sid) and node.valid(node.node_id())
    assert len(sid) == node.NODE_LEN + 20
    assert node.owner_of('short') is None
    eio.shutdown()


CHILD = r"""
import os, json, sys
import engineio_fast as engineio
from engineio_fast.cluster import node
from tests.unit.test_node import _handshake_sid
eio = engineio.Server(async_mode='threading')
parent = node.node_id()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, json.dumps([node.node_id(), _handshake_sid(eio)]).encode())
    os._exit(0)
os.waitpid(pid, 0)
child, sid = json.loads(os.read(r, 1000))
print(json.dumps({'parent': parent, 'child': child, 'sid': sid,
                  'parent_sid': _handshake_sid(eio)}))
eio.shutdown()
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_forked_child_mints_with_its_own_id():
    import json
    env = dict(os.environ, ENGINEIO_FAST_NODE_ID='Named0')
    out = subprocess.run([sys.executable, '-c', CHILD], capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got['parent'] == 'Named0'
    assert got['child'] != 'Named0' and node.valid(got['child'])
    assert got['sid'].startswith(got['child'])
    assert got['parent_sid'].startswith('Named0')


@pytest.mark.slow
def test_malformed_node_id_in_the_environment_is_refused():
    env = dict(os.environ, ENGINEIO_FAST_NODE_ID='bad id')
    out = subprocess.run(
        [sys.executable, '-c',
         'import engineio_fast as e; e.Server(async_mode="threading")'],
        capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode != 0
    assert 'ENGINEIO_FAST_NODE_ID must be 6 characters' in out.stderr


def test_set_node_id():
    eio = engineio.Server(async_mode='threading')
    before = node.node_id()
    try:
        node.set_node_id('Slot_7')
        assert _handshake_sid(eio).startswith('Slot_7')
        with pytest.raises(ValueError):
            node.set_node_id('toolongid')
    finally:
        node.set_node_id(before)
        eio.shutdown()
