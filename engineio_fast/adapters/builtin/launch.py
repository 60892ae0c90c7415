"""``engineio_fast.run()``: the built-in server in this process, or in N
worker processes (:mod:`.workers`)."""

import ssl as _ssl
from typing import Any, Optional

from .serve import BuiltinServer, serve_on_new_loop
from .workers import serve_workers


def run(app: Any, host: str = '127.0.0.1',
        port: int = 5000, ssl: Optional[_ssl.SSLContext] = None,
        loop: str = 'auto', workers: int = 1, factory: bool = False,
        **kwargs: Any) -> None:
    """Serve ``app`` until SIGINT/SIGTERM.

    Args:
        app: what :class:`BuiltinServer` serves: an AsyncServer, an
            ASGIApp, python-socketio's AsyncServer or ASGIApp, or an ASGI
            app with one of those mounted; or ``'module:attribute'``
            naming one (imported here, or by each worker after the fork).
        host: the address to listen on.
        port: the port.
        ssl: an :class:`ssl.SSLContext` for https/wss.
        loop: ``'auto'`` (uvloop when installed), ``'uvloop'`` or
            ``'asyncio'``.
        workers: the number of processes serving the port (see
            :mod:`engineio_fast.cluster.workers`); 1 serves in this
            process.
        factory: ``app`` (or what the ``'module:attribute'`` string
            names) is a callable returning the app, called once (in each
            worker with ``workers > 1`` and a string).
        **kwargs: more :class:`BuiltinServer` options (``access_log``,
            ``root_path``, ``limit_concurrency``, ``backlog``,
            ``ws_max_size``, ``ping_interval``, ``ping_timeout``,
            ``limits``, the proxy options).

    Raises:
        TypeError: ``app`` cannot be served (see :class:`BuiltinServer`).
        ValueError: ``workers`` out of range, or ``workers > 1`` with
            ``ssl``; with ``factory``, ``app`` is not callable.
    """
    if workers != 1:
        return serve_workers(app, workers, host=host, port=port, ssl=ssl,
                             loop=loop, factory=factory, **kwargs)
    if isinstance(app, str):
        from .apps import import_app
        app = import_app(app, factory)
    elif factory:
        from .apps import call_factory
        app = call_factory(app)
    serve_on_new_loop(BuiltinServer(app, host=host, port=port, ssl=ssl,
                                    **kwargs), loop)
