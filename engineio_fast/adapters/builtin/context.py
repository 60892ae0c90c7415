"""State shared by every connection of one built-in server.

With the compiled kernels this module is its compiled twin: this source
built by Cython with the attribute types of
``src_pyx/twins/engineio_fast/adapters/builtin/_context_c.pxd`` (setup.py),
whose names replace these at the end of the module. The connections' twins
read its attributes as C struct fields, not through a dict: every
attribute :class:`ServerContext` has is declared in that .pxd.
"""

import time

from ... import _accel

DEFAULT_LIMITS = {
    'max_request_line': 8192,      # bytes of method + URL
    'max_header_bytes': 16384,     # all header names and values
    'max_headers': 100,
    'max_pipelined': 16,           # parsed requests waiting on a connection
    'max_bridge_body': 16 << 20,   # body bytes handed to another ASGI app
    'header_timeout': 10.0,        # seconds to send a request's headers
    'body_timeout': 30.0,          # seconds between body chunks
    'request_timeout': 300.0,      # seconds for a whole request, headers
                                   # and body (Node's requestTimeout)
    'keepalive_timeout': 20.0,     # idle seconds between requests
    'ws_close_timeout': 10.0,      # seconds a closing websocket may stay
                                   # stuck behind a client that won't read
    'shutdown_timeout': 10.0,
}


class ServerContext:
    """What connections need from their server.

    Args:
        eio: the :class:`engineio_fast.AsyncServer`.
        asgi_app: the ASGI app for the other requests and the lifespan (the
            :class:`engineio_fast.ASGIApp` wrapping ``eio``, or an app with
            one mounted), or None.
        loop: the event loop.
        limits: overrides for :data:`DEFAULT_LIMITS`.
        ssl: True when serving TLS (sets the request scheme).
        per_message_deflate: websocket compression (None: ``eio``'s).
        eio_path: the Engine.IO path prefix (``'/engine.io/'``), or None
            for every request.
        proxy: a :class:`.proxy.ProxyHeaders`, or None: no proxy headers.
        access_log: what logs one line per answered request (a logger's
            ``info``), or None: no access log (decided once, by the
            server, from its option and the logger's level).
        root_path: the ASGI ``root_path`` (the prefix a proxy strips off
            the URL before forwarding it), '' for none.
        limit_concurrency: at most this many connections (HTTP and
            websocket) and ASGI requests at once, the next request is
            answered 503; None: no limit.
        ws_max_size: the largest websocket message accepted (bytes),
            or None: ``eio``'s ``max_http_buffer_size``; the smaller of
            the two applies.
    """

    def __init__(self, eio, asgi_app, loop, limits=None, ssl=False,
                 per_message_deflate=None, eio_path='/engine.io/',
                 proxy=None, access_log=None, root_path='',
                 limit_concurrency=None, ws_max_size=None):
        self.driver = eio.driver
        self.engine = eio.driver.engine
        self.loop = loop
        self.limits = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self.scheme = 'https' if ssl else 'http'
        # a .proxy.ProxyHeaders: the peers whose X-Forwarded-* are read
        self.proxy = proxy
        # requests off the Engine.IO path go to the ASGIApp (static files,
        # the other ASGI app, 404) through the ASGI bridge
        self.asgi_app = asgi_app
        self.eio_prefix = eio_path
        if per_message_deflate is None:
            per_message_deflate = self.driver.per_message_deflate
        self.per_message_deflate = per_message_deflate
        self.http_conns = set()   # connections speaking HTTP (for timeouts)
        self.ws_conns = set()
        self.shutting_down = False
        self.tasks = set()
        self.router = None        # a cluster.handoff.Router in a worker
        self.access_log = access_log
        self.root_path = root_path
        self.root_path_bytes = root_path.encode('latin-1')
        self.limit_concurrency = limit_concurrency
        max_size = self.engine.config.max_http_buffer_size
        self.ws_max_size = (max_size if ws_max_size is None
                            else min(max_size, ws_max_size))
        # the path served by the metrics exposition (an
        # engineio_fast.metrics.Exposition), or None: no metrics endpoint
        self.metrics_path = None
        self.metrics = None

    def over_limit(self):
        """True when a new request must be answered 503: more
        connections than ``limit_concurrency`` are open (the one asking
        included), or that many ASGI requests are running."""
        limit = self.limit_concurrency
        return (len(self.http_conns) + len(self.ws_conns) > limit or
                len(self.tasks) >= limit)

    def is_engineio_path(self, path):
        prefix = self.eio_prefix
        if prefix is None:
            return True
        if not path.endswith('/'):
            path += '/'
        return path.startswith(prefix)

    def spawn(self, coro):
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def sweep(self):
        """Close HTTP connections whose current phase ran out of time
        (slowloris, idle keep-alive). Called about once a second."""
        now = time.monotonic()
        for conn in list(self.http_conns):
            deadline = conn.deadline
            if deadline is not None and now > deadline:
                conn.timed_out()


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
