"""The built-in server with several workers on one port, over raw
sockets: requests of sessions owned by different workers on ONE keep-alive
connection, a websocket upgrade on a connection another worker accepted, a
request line split over reads, sids of no worker, SIGTERM draining every
worker, a worker crash loop slowed down, ``run(app, workers=N)``. Compiled
and pure kernels."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from engineio_fast import _accel

from ..io.builtin_helpers import (
    EIO_POLL,
    ROOT,
    WAIT,
    RawConn,
    RawWs,
    free_port,
    request,
    wait_for,
)
from ..support import make_cert
from .helpers import (
    STOP_BOUND,
    Cluster,
    echo,
    open_session,
    sessions_by_slot,
    wait_gone,
)

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=['compiled', 'pure'])
def kernels(request):
    return request.param


@pytest.mark.parametrize('via', ['cli', 'run'])
def test_sessions_of_several_workers_on_one_connection(tmp_path, kernels,
                                                       via):
    with Cluster(tmp_path, 4, kernels, via) as srv:
        srv.wait_listening()
        owners = sessions_by_slot(srv.port, 3)
        with RawConn(srv.port) as conn:
            for rnd in range(3):
                for slot, sid in sorted(owners.items()):
                    text = 'r%d-%s' % (rnd, slot)
                    assert echo(conn, sid, text) == \
                        '4%s@%s' % (text, sid[:6])
            # a handshake on the same connection, wherever it is now
            assert open_session(srv.port, conn)[:5] == sid[:5]
        assert srv.terminate() == 0
        handed = srv.handed()
        assert sorted(handed) == [0, 1, 2, 3], srv.stderr
        # the connection went from owner to owner
        assert sum(h for h, _ in handed.values()) >= 2 * 3
        assert 'Traceback' not in srv.stderr
        expected = 'python' if kernels == 'pure' or \
            _accel.compiled is None else 'cython'
        if via == 'cli':
            assert '(%s kernels)' % expected in srv.stdout
            assert 'with 4 workers' in srv.stdout
        else:
            assert 'supervisor %d exited' % srv.proc.pid in srv.stdout


def test_upgrade_on_a_connection_another_worker_accepted(tmp_path, kernels):
    with Cluster(tmp_path, 4, kernels) as srv:
        srv.wait_listening()
        owners = sessions_by_slot(srv.port, 2)
        for _ in range(100):        # bounded: find a connection accepted
            conn = RawConn(srv.port)    # by a worker owning none of them
            here = open_session(srv.port, conn)[5]
            target = next((sid for slot, sid in owners.items()
                           if slot != here), None)
            if target is not None:
                break
            conn.close()
        assert target is not None
        # the upgrade request on that keep-alive connection
        ws = RawWs(srv.port, EIO_POLL.replace('polling', 'websocket') +
                   '&sid=' + target, sock=conn.sock)
        ws.send_text('2probe')
        assert ws.recv_text() == '3probe'
        ws.send_text('5')
        ws.send_text('4over ws')
        assert ws.recv_text() == '4over ws@' + target[:6]
        ws.close()
        assert srv.terminate() == 0
        assert 'Traceback' not in srv.stderr


def test_split_request_line_and_body(tmp_path, kernels):
    with Cluster(tmp_path, 3, kernels) as srv:
        srv.wait_listening()
        owners = sessions_by_slot(srv.port, 3)
        with RawConn(srv.port) as conn:
            for slot, sid in sorted(owners.items()):
                head = request('POST', EIO_POLL + '&sid=' + sid,
                               [('Content-Type', 'text/plain')],
                               b'4split ' + slot.encode())
                cut = head.index(b'sid=') + 3
                conn.send(head[:cut])       # 'sid' not complete yet
                time.sleep(0.05)
                conn.send(head[cut:-4])
                time.sleep(0.05)
                conn.send(head[-4:])        # the body's end
                r = conn.read_response()
                assert (r.status, r.body) == (200, b'ok'), r
                conn.send(request('GET', EIO_POLL + '&sid=' + sid))
                assert conn.read_response().text == \
                    '4split %s@%s' % (slot, sid[:6])
        assert srv.terminate() == 0


@pytest.mark.parametrize('loop', ['uvloop', 'asyncio'])
def test_pipelined_requests_of_several_workers(tmp_path, kernels, loop):
    with Cluster(tmp_path, 4, kernels, loop=loop) as srv:
        srv.wait_listening()
        owners = sessions_by_slot(srv.port, 4)
        with RawConn(srv.port) as conn:
            here = open_session(srv.port, conn)       # the acceptor's
            a = owners[here[5]]
            b, c = [sid for slot, sid in sorted(owners.items())
                    if slot != here[5]][:2]

            def post(sid, text):
                return request('POST', EIO_POLL + '&sid=' + sid,
                               [('Content-Type', 'text/plain')],
                               ('4' + text).encode())

            def get(sid):
                return request('GET', EIO_POLL + '&sid=' + sid)

            # one write: the first request is the acceptor's, the next a
            # sibling's, then back, then a third worker's
            conn.send(post(a, 'one') + post(b, 'two') + get(b) + get(a) +
                      post(c, 'three') + get(c) + post(b, 'four') + get(b))
            got = [conn.read_response() for _ in range(8)]
            assert [r.status for r in got] == [200] * 8, got
            assert [r.text for r in got] == [
                'ok', 'ok', '4two@' + b[:6], '4one@' + a[:6],
                'ok', '4three@' + c[:6], 'ok', '4four@' + b[:6]]
        assert srv.terminate() == 0
        assert 'Traceback' not in srv.stderr


@pytest.mark.parametrize('writes', [1, 2])
def test_a_request_behind_a_parked_poll_waits_its_turn(tmp_path, writes):
    with Cluster(tmp_path, 4) as srv:
        srv.wait_listening()
        owners = sessions_by_slot(srv.port, 4)
        with RawConn(srv.port) as conn:
            here = open_session(srv.port, conn)
            mine = owners[here[5]]
            other = next(sid for slot, sid in owners.items()
                         if slot != here[5])
            # a long-poll of the acceptor's session, and pipelined behind
            # it a request of another worker's session
            poll = request('GET', EIO_POLL + '&sid=' + mine)
            behind = request('POST', EIO_POLL + '&sid=' + other,
                             [('Content-Type', 'text/plain')], b'4behind')
            if writes == 1:     # parsed together: held in the parser's queue
                conn.send(poll + behind)
            else:               # read while the poll is parked: bytes held
                conn.send(poll)
                assert conn.nothing_for(0.1)
                conn.send(behind)
            assert conn.nothing_for(0.3)      # both wait for the poll
            with RawConn(srv.port) as side:    # a message to that session:
                side.send(request('POST', EIO_POLL + '&sid=' + mine,  # its
                                  [('Content-Type', 'text/plain')],   # echo
                                  b'4wake'))            # ends the long-poll
                r = side.read_response()
                assert (r.status, r.body) == (200, b'ok'), r
            first = conn.read_response()
            assert (first.status, first.text) == (200, '4wake@' + mine[:6])
            second = conn.read_response()
            assert (second.status, second.body) == (200, b'ok'), second
            conn.send(request('GET', EIO_POLL + '&sid=' + other))
            assert conn.read_response().text == '4behind@' + other[:6]
        assert srv.terminate() == 0
        assert 'Traceback' not in srv.stderr


@pytest.mark.parametrize('forge', ['other-tag', 'no-such-slot', 'short'])
def test_a_sid_of_no_worker_is_served_where_it_lands(tmp_path, forge):
    with Cluster(tmp_path, 2) as srv:
        srv.wait_listening()
        sid = open_session(srv.port)
        bad = {'other-tag': ('X' if sid[0] != 'X' else 'Y') + sid[1:],
               'no-such-slot': sid[:5] + 'Z' + sid[6:],
               'short': sid[:5]}[forge]
        with RawConn(srv.port) as conn:
            for _ in range(3):
                conn.send(request('GET', EIO_POLL + '&sid=' + bad))
                r = conn.read_response()
                assert r.status == 400, r
                assert json.loads(r.body)['message'] == 'Session ID unknown'
        assert srv.terminate() == 0


def test_sigterm_drains_every_worker(tmp_path):
    app = 'tests.io.builtin_app:app'      # with a lifespan, logged
    with Cluster(tmp_path, 4, app=app) as srv:
        srv.wait_listening()
        workers = srv.wait_workers()
        owners = sessions_by_slot(srv.port, 2)
        parked = []
        for sid in owners.values():
            conn = RawConn(srv.port)
            conn.send(request('GET', EIO_POLL + '&sid=' + sid))
            parked.append(conn)
        wss = [RawWs(srv.port) for _ in range(8)]
        for ws in wss:
            ws.open_packet()
        assert parked[0].nothing_for(0.2)
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for conn in parked:
            r = conn.read_response()
            assert (r.status, r.body) == (200, b'1'), r
        for ws in wss:
            assert ws.recv_text() == '1'
            assert ws.expect_close() == 1001
        assert srv.proc.wait(STOP_BOUND) == 0
        assert time.monotonic() - start < STOP_BOUND
        assert wait_gone(workers)
        lines = srv.handler_lines()
        assert lines.count(['lifespan.startup']) == 4
        assert lines.count(['lifespan.shutdown']) == 4
        for sid in owners.values():
            assert ['disconnect', sid, 'server', 'disconnect'] in lines
        assert 'Traceback' not in srv.stderr


def test_killed_supervisor_takes_its_workers_along(tmp_path):
    with Cluster(tmp_path, 2) as srv:
        srv.wait_listening()
        workers = srv.wait_workers()
        srv.proc.kill()
        srv.proc.wait(WAIT)
        assert wait_gone(workers, 5.0)


def test_a_crash_loop_is_slowed_down(tmp_path):
    with Cluster(tmp_path, 2, app='tests.cluster.crash_app:app') as srv:
        assert wait_for(lambda: 'restarting it in' in srv.stderr, 20.0), \
            srv.stderr
        assert srv.proc.poll() is None       # the supervisor keeps going
        assert 'exited with status 3' in srv.stderr
        assert srv.terminate() == 0


def run_cli(args, timeout=30):
    return subprocess.run(
        [sys.executable, '-m', 'engineio_fast'] + args, cwd=ROOT,
        capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize('workers', ['0', '65', '-2'])
def test_workers_out_of_range_exit_2(workers):
    p = run_cli(['tests.cluster.app:eio', '--workers', workers,
                 '--port', str(free_port())])
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert 'workers must be 1 to 64' in p.stderr
    assert 'Traceback' not in p.stderr


def test_workers_with_tls_exit_2(tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    p = run_cli(['tests.cluster.app:eio', '--workers', '2',
                 '--port', str(free_port()),
                 '--ssl-certfile', certfile, '--ssl-keyfile', keyfile])
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert 'cannot serve TLS' in p.stderr
    assert 'Traceback' not in p.stderr


def test_workers_port_in_use():
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen(1)
        p = run_cli(['tests.cluster.app:eio', '--workers', '2',
                     '--port', str(busy.getsockname()[1])])
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert 'address already in use' in p.stderr.lower()
    assert 'Traceback' not in p.stderr
