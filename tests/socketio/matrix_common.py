"""What every server of the socket.io-client matrix shares: the auth rule,
the heartbeat settings, the records of disconnect reasons the control
namespace reads, and the static files of the browser page. No import of
socketio or engineio here (the apps import this after the switch).

The server side of each scenario (tests/socketio/js/scenarios.mjs) is
written three times, with the same behaviour: matrix_app.py
(python-socketio AsyncServer), matrix_wsgi.py (python-socketio Server) and
js/server.mjs (Node's socket.io 4.8, the reference row).
"""

import os
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

#: ping_interval, ping_timeout of the heartbeat servers (seconds)
HEARTBEAT = (0.3, 0.2)
#: set to 1 for a heartbeat server
HEARTBEAT_ENV = 'SIO_MATRIX_HEARTBEAT'
#: how long a server waits for a client's ack or a record (seconds)
WAIT = 5

#: the refusal of a wrong token: ConnectionRefusedError's arguments
REFUSAL = ('denied', {'code': 42, 'why': 'bad token'})

#: the browser page and what it loads, served by the ASGI apps
STATIC_FILES = {
    '/': {'filename': os.path.join(HERE, 'static', 'matrix.html'),
          'content_type': 'text/html'},
    '/socket.io.js': {'filename': os.path.join(
        ROOT, 'node_modules', 'socket.io-client', 'dist', 'socket.io.js'),
        'content_type': 'text/javascript'},
    '/scenarios.mjs': {'filename': os.path.join(HERE, 'js', 'scenarios.mjs'),
                       'content_type': 'text/javascript'},
}


def server_options():
    """The python-socketio server options of this process: CORS open (the
    browser page talks to the heartbeat server on another port), and the
    short heartbeat when ``SIO_MATRIX_HEARTBEAT=1``."""
    options = {'cors_allowed_origins': '*'}
    if os.environ.get(HEARTBEAT_ENV) == '1':
        options.update(ping_interval=HEARTBEAT[0], ping_timeout=HEARTBEAT[1])
    return options


def verdict(auth):
    """None to accept ``auth``; False to refuse without data; else the
    ConnectionRefusedError arguments."""
    if not isinstance(auth, dict) or 'token' not in auth:
        return False
    if auth['token'] != 'ok':
        return REFUSAL
    return None


def types_of(value):
    """``value``'s shape with every leaf replaced by its kind (``'bytes'``
    for binary), to show the server decoded binary attachments as bytes."""
    if isinstance(value, (list, tuple)):
        return [types_of(v) for v in value]
    if isinstance(value, dict):
        return {k: types_of(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return 'bytes'
    return type(value).__name__


class Records:
    """Disconnect reasons by namespace and sid (threads and greenlets may
    add them: a lock; green under eventlet and gevent)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reasons = {}

    def add(self, namespace, sid, reason):
        with self.lock:
            self.reasons[namespace, sid] = reason

    def get(self, namespace, sid):
        with self.lock:
            return self.reasons.get((namespace, sid))


def flood_item(i):
    """The arguments of the i-th ``bin`` event of ``flood``: ``i`` and three
    bytes of ``i % 256`` (js/scenarios.mjs's whole_packets checks them)."""
    return (i, bytes([i % 256]) * 3)


def deadline():
    return time.monotonic() + WAIT


def expired(when):
    return time.monotonic() > when
