"""Ports for the servers tests start (the one ``free_port`` of the suite).

A port found by binding port 0 and closing the socket is free for a moment
only: until the server binds it, the kernel may hand the same number to
another test process (tests/run.sh runs two, pytest-xdist) that asks for a
free port too, or to the source side of any outgoing connection (the
ephemeral range). Two servers then race for one port: 'address already in
use', or a client talking to the other process's server.

So ports come from below the ephemeral range (never a connection's source
port), from a block of their own per pytest-xdist worker, taken in turn
from a random start (so two independent test runs seldom meet either), and
each is checked free by binding it. Ports that browsers refuse to load
(the Fetch standard's "bad ports"; above _LOW only 10080) are never handed
out: a Chromium test given one fails with net::ERR_UNSAFE_PORT.
"""

import os
import random
import socket
import threading

_LOW = 10000
# https://fetch.spec.whatwg.org/#port-blocking: the bad ports at or above _LOW.
_BROWSER_BLOCKED = frozenset({10080})
_lock = threading.Lock()
_next = None


def _ephemeral_start():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _block():
    """(first, end) of this process's block of ports."""
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'gw0')
    try:
        index = int(worker.lstrip('gw'))
        count = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    except ValueError:
        index, count = 0, 1
    count = max(count, index + 1)
    high = max(_ephemeral_start(), _LOW + 2000)
    size = (high - _LOW) // count
    first = _LOW + index * size
    return first, first + size


def free_port(host='127.0.0.1'):
    """A port on ``host`` that no server listens on, and that no other
    test process of this run is handed."""
    global _next
    first, end = _block()
    with _lock:
        if _next is None or not first <= _next < end:
            _next = random.randrange(first, end)
        for _ in range(end - first):
            port = _next
            _next = _next + 1 if _next + 1 < end else first
            if port in _BROWSER_BLOCKED:
                continue
            with socket.socket(socket.AF_INET6 if ':' in host
                               else socket.AF_INET) as s:
                try:
                    s.bind((host, port))
                except OSError:
                    continue
            return port
    raise RuntimeError('no free port in %d-%d' % (first, end))
