"""Every server mode under one fixture for the abuse tests: the built-in
server and uvicorn (an engineio_fast.AsyncServer that echoes, in this
process) and the WSGI servers (tests/sync/echo_app.py in a subprocess)."""

import os

import engineio_fast
from tests.io.builtin_helpers import RawConn, request

WSGI_KINDS = ['werkzeug', 'gunicorn-gthread', 'eventlet', 'gevent', 'uwsgi']
MODES = ['builtin', 'uvicorn'] + WSGI_KINDS
PAGE = os.sysconf('SC_PAGE_SIZE')


def echo_app(**options):
    options.setdefault('cors_allowed_origins', '*')
    eio = engineio_fast.AsyncServer(**options)

    @eio.on('message')
    async def message(sid, data):
        if isinstance(data, str) and data.startswith('flood:'):
            # N messages of S characters, then 'flood done' (as
            # tests/sync/echo_app.py's flood command)
            count, size = (int(v) for v in data[6:].split(':'))
            for i in range(count):
                await eio.send(sid, '%d:%s' % (i, 'x' * size))
            await eio.send(sid, 'flood done')
        else:
            await eio.send(sid, data)

    return engineio_fast.ASGIApp(eio)


class Served:
    """A running server: ``port``, and ``rss()``, the resident memory in
    bytes of the processes serving (this one for the in-process modes, the
    server process and its children otherwise)."""

    def __init__(self, port, pid):
        self.port = port
        self.pid = pid

    def children(self):
        """The pids of the server's child processes (workers)."""
        return _descendants(self.pid) if self.pid != os.getpid() else set()

    def rss(self):
        pids = {self.pid} | self.children()
        total = 0
        for pid in pids:
            try:
                with open('/proc/%d/statm' % pid) as f:
                    total += int(f.read().split()[1]) * PAGE
            except OSError:
                pass
        return total


def _descendants(root):
    parents = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(')', 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(name))
    out, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def once(port, *args, head_only=False, **kw):
    """One request (builtin_helpers.request's arguments) on a connection
    of its own (some servers close after each response): its response."""
    conn = RawConn(port)
    try:
        conn.send(request(*args, **kw))
        return conn.read_response(head_only=head_only)
    finally:
        conn.close()
