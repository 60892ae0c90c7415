"""``engineio-fast module:app --workers N`` imports the app in each worker
after the fork (what the module makes at import is each worker's own);
``engineio_fast.run(obj, workers=N)`` forks the object it was given; a
worker that cannot load the app stops the service with status 2."""

import os
import signal
import subprocess
import sys

import pytest

from ..io.builtin_helpers import RawConn, ServerProcess, free_port
from .helpers import STOP_BOUND, echo, sessions_by_slot

pytestmark = pytest.mark.timeout(60)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def importers(srv, workers):
    """``{answering pid: importing pid}`` over a session on each worker."""
    out = {}
    for sid in sessions_by_slot(srv.port, workers).values():
        conn = RawConn(srv.port)
        try:
            text = echo(conn, sid, 'imported')
        finally:
            conn.close()
        # a message packet: '4' then the two pids (which may start with 4)
        assert text.startswith('4'), text
        imported, answering = (int(x) for x in text[1:].split())
        out[answering] = imported
    return out


@pytest.mark.parametrize('via', ['cli', 'run'])
def test_where_the_app_is_imported(tmp_path, via):
    if via == 'cli':
        srv = ServerProcess(['tests.cluster.import_app:eio', '--workers',
                             '2'], tmp_path)
    else:
        srv = ServerProcess(['--workers', '2'], tmp_path,
                            module='tests.cluster.import_app')
    try:
        srv.wait_listening()
        found = importers(srv, 2)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(STOP_BOUND) == 0
    finally:
        srv.stop()
    assert len(found) == 2 and srv.proc.pid not in found, found
    if via == 'cli':        # each worker imported the module itself
        assert all(w == imp for w, imp in found.items()), found
    else:                   # the supervisor did, before the fork
        assert set(found.values()) == {srv.proc.pid}, found


@pytest.mark.parametrize('spec,message', [
    ('tests.cluster.no_such_module:eio', 'No module named'),
    ('tests.cluster.import_app:no_such_attr', 'no_such_attr'),
    ('tests.cluster.import_app:IMPORTED_BY', 'cannot serve')])
def test_worker_that_cannot_load_stops_the_service(spec, message):
    p = subprocess.run(
        [sys.executable, '-m', 'engineio_fast', spec, '--workers', '2',
         '--port', str(free_port())], cwd=ROOT, capture_output=True,
        text=True, timeout=40)
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert message in p.stderr, p.stderr[-2000:]
    assert 'could not load the app: stopping' in p.stderr
    assert 'Traceback' not in p.stderr, p.stderr[-2000:]
