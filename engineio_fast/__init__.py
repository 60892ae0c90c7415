"""engineio_fast: a fast, drop-in Engine.IO v4 server and client.

``import engineio_fast as engineio`` runs python-engineio applications
unchanged; ``engineio_fast.install()`` (before ``import socketio``) runs
python-socketio and Flask-SocketIO applications on it. ``IMPLEMENTATION``
tells which kernels are active: ``'cython'`` (compiled) or ``'python'`` (the
pure twins).
"""

from typing import TYPE_CHECKING, Any

from ._accel import IMPLEMENTATION
from .adapters.asgi_app import ASGIApp
from .async_server import AsyncServer
from .middleware import Middleware, WSGIApp
from .server import Server
from .switch import install

if TYPE_CHECKING:     # imported on first use (below)
    from .async_client import AsyncClient
    from .client import Client
    from .cluster.redis_manager import AsyncRedisManager
    from .cluster.redis_sync import RedisManager

__version__ = '0.1.0'


def __getattr__(name: str) -> Any:
    # the clients import websockets (tens of ms): only on first use,
    # so a server process does not pay for them
    if name == 'Client':
        from .client import Client
        return Client
    if name == 'AsyncClient':
        from .async_client import AsyncClient
        return AsyncClient
    if name == 'RedisManager':
        from .cluster.redis_sync import RedisManager
        return RedisManager
    if name == 'AsyncRedisManager':
        from .cluster.redis_manager import AsyncRedisManager
        return AsyncRedisManager
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def get_tornado_handler(engineio_server: AsyncServer) -> Any:
    """A Tornado request handler class serving ``engineio_server`` (an
    :class:`AsyncServer`), for the Engine.IO path of a Tornado
    application::

        app = tornado.web.Application([
            (r'/engine.io/', engineio_fast.get_tornado_handler(eio))])

    Also importable as
    ``engineio_fast.async_drivers.tornado.get_tornado_handler``.
    """
    from .adapters.frameworks.tornado import get_tornado_handler as _get
    return _get(engineio_server)


def run(app: Any, host: str = '127.0.0.1', port: int = 5000,
        **kwargs: Any) -> None:
    """Serve an app on the built-in uvloop + httptools server until
    SIGINT/SIGTERM.

    Args:
        app: an :class:`AsyncServer` (served at ``/engine.io/``), an
            :class:`ASGIApp` wrapping one (at its ``engineio_path``),
            python-socketio's ``AsyncServer`` (at ``/socket.io/``) or
            ``ASGIApp`` (at its ``socketio_path``), or an ASGI app (FastAPI,
            Starlette) with one of those mounted (at the mount point plus
            its path); requests off the Engine.IO path go to the ASGI app.
            python-socketio must run on engineio_fast: call :func:`install`
            before ``import socketio``. Or a ``'module:attribute'`` string
            naming one of those: imported here, or with ``workers`` > 1 by
            each worker after the fork, so that what the module makes at
            import (a python-socketio pub/sub manager, connections) is each
            worker's own.
        host: the address to listen on (default ``127.0.0.1``).
        port: the port (default 5000).
        **kwargs: ``workers`` (processes serving the port, default 1: each
            request of a session reaches the worker that owns it, no
            sticky balancer needed; not with ``ssl``), ``ssl`` (an
            :class:`ssl.SSLContext`), ``loop``
            (``'auto'``, ``'uvloop'``, ``'asyncio'``), ``limits``,
            ``per_message_deflate``, ``backlog``.

    Raises:
        TypeError: ``app`` holds no engineio_fast AsyncServer that can be
            served; the message says why (a python-socketio app created
            before :func:`install`, a synchronous server...).
        ValueError: ``workers`` out of range (1 to 64), or more than one
            with ``ssl``.
        RuntimeError: a worker could not load ``app`` (a string).
    """
    from .adapters.builtin import run as _run
    return _run(app, host=host, port=port, **kwargs)


__all__ = ['AsyncServer', 'ASGIApp', 'Server', 'Client', 'AsyncClient',
           'WSGIApp', 'Middleware', 'RedisManager', 'AsyncRedisManager',
           'IMPLEMENTATION', 'install', 'run',
           'get_tornado_handler', '__version__']
