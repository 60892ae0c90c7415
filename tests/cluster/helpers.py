"""Shared pieces of the cluster tests: the built-in server with several
workers in a subprocess (the CLI, or ``run()`` through tests/cluster/app.py)
and raw Engine.IO requests that tell which worker answered."""

import json
import os
import re
import signal
import time

from ..io.builtin_helpers import (
    EIO_POLL,
    WAIT,
    RawConn,
    ServerProcess,
    request,
    wait_for,
)

KERNELS = {'compiled': {}, 'pure': {'ENGINEIO_FAST_NO_EXTENSIONS': '1'}}
STOP_BOUND = 10.0 + 5.0    # the shutdown bound (10 s) and a margin
ACCEPTED = re.compile(r'supervisor: \d+ connections handed on \((\S+) to')
HANDED = re.compile(r'worker (\d+) \((\S+), pid (\d+)\): (\d+) connections '
                    r'handed to siblings, (\d+) adopted')


class Cluster(ServerProcess):
    """``--workers N`` of the app in tests/cluster/app.py, by the CLI
    (``via='cli'``) or by ``engineio_fast.run`` (``via='run'``)."""

    def __init__(self, directory, workers=4, kernels='compiled', via='cli',
                 app='tests.cluster.app:eio', env=None, loop='auto'):
        full_env = dict(KERNELS[kernels])
        full_env.update(env or {})
        if via == 'cli':
            super().__init__([app, '--workers', str(workers),
                              '--loop', loop], directory, env=full_env)
        else:
            super().__init__(['--workers', str(workers)], directory,
                             env=full_env, module='tests.cluster.app')
        self.workers = workers

    def wait_workers(self, timeout=WAIT):
        """The supervisor's child processes once all ``workers`` of them
        run (it starts them one after the other, and may listen before the
        last is forked); fails after ``timeout`` s."""
        assert wait_for(lambda: len(self.children()) == self.workers,
                        timeout), (self.children(), self.stderr)
        return self.children()

    def terminate(self, timeout=STOP_BOUND):
        """SIGTERM the supervisor and wait for it; its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def handed(self):
        """``{slot: (handed, adopted)}`` from the workers' last log lines
        (written when they shut down)."""
        return {int(m[0]): (int(m[3]), int(m[4]))
                for m in HANDED.findall(self.stderr)}

    def accepted(self):
        """What the supervisor handed to each slot, from its last log line
        (written when it stops accepting)."""
        m = ACCEPTED.findall(self.stderr)
        return [int(n) for n in m[-1].split('/')] if m else None

    def children(self):
        """The supervisor's live child processes."""
        path = '/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid)
        try:
            with open(path) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []


def open_session(port, conn=None):
    """A polling handshake (on ``conn``, else a fresh connection); the
    sid (its 6th character names the worker that minted it)."""
    own = conn is None
    conn = conn or RawConn(port)
    try:
        conn.send(request('GET', EIO_POLL))
        r = conn.read_response()
        assert r.status == 200 and r.body[:1] == b'0', r
        return json.loads(r.body[1:])['sid']
    finally:
        if own:
            conn.close()


def sessions_by_slot(port, slots, attempts=400):
    """``{slot character: sid}`` with a session on each of ``slots``
    distinct workers, opened on fresh connections (bounded attempts)."""
    out = {}
    for _ in range(attempts):
        sid = open_session(port)
        out.setdefault(sid[5], sid)
        if len(out) >= slots:
            return out
    raise AssertionError('sessions on only %d workers: %r' % (len(out), out))


def echo(conn, sid, text):
    """POST ``text`` to session ``sid`` on ``conn``, then GET its echo."""
    conn.send(request('POST', EIO_POLL + '&sid=' + sid,
                      [('Content-Type', 'text/plain;charset=UTF-8')],
                      ('4' + text).encode()))
    r = conn.read_response()
    assert (r.status, r.body) == (200, b'ok'), r
    conn.send(request('GET', EIO_POLL + '&sid=' + sid))
    r = conn.read_response()
    assert r.status == 200, r
    return r.text


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pids, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(alive(p) for p in pids)
