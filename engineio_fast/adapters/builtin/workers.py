"""``engineio-fast app --workers N`` and ``run(app, workers=N)``: the
built-in server in N worker processes under the supervisor of
:mod:`engineio_fast.cluster.workers` (which knows nothing of what a worker
serves)."""

import asyncio
import logging
import os
import traceback
import uuid
from typing import Any, Dict, Optional

from ...cluster import handoff
from ...cluster.workers import (
    APP_LOAD_ERROR,
    AppLoadError,
    Supervisor,
    _stop_asked,
    listen,
)
from .apps import import_app, resolve_app
from .context import DEFAULT_LIMITS
from .serve import BuiltinServer, serve_on_new_loop

logger = logging.getLogger('engineio_fast.server')

ORPHAN_CHECK = 1.0     # seconds between a worker's checks of its parent
STOP_CHECK = 0.05      # seconds between a starting worker's checks


def load_in_worker(spec: str, factory: bool = False) -> Any:
    """Import ``module:attribute`` in a worker (after the fork) and check
    that the built-in server can serve it (``factory``: call what it names
    for the app).

    Raises:
        AppLoadError: it cannot be imported or served (the message says
            why, with the traceback of an import that raised).
    """
    try:
        app = import_app(spec, factory)
    except (ImportError, AttributeError, ValueError) as exc:
        raise AppLoadError('cannot load %s: %s' % (spec, exc)) from exc
    except Exception as exc:    # the module raised: its traceback helps
        raise AppLoadError('cannot load %s: %s\n%s' % (
            spec, exc, traceback.format_exc())) from exc
    try:
        resolve_app(app)
    except TypeError as exc:
        raise AppLoadError('cannot serve %s: %s' % (spec, exc)) from exc
    return app


def renew_forked_state(app: Any) -> None:
    """Give a worker its own copy of what the app made before the fork
    and must not share with its siblings. Today: the host id of
    python-socketio's pub/sub client managers (``socketio.AsyncRedisManager``
    and the others): it is drawn once in the manager's constructor, and
    the managers ignore the messages that carry their own host id, so
    workers that share one would drop each other's emits, room changes and
    acks. A manager that has already started is left alone."""
    eio = resolve_app(app).eio
    seen = set()
    for handler in list(getattr(eio, 'handlers', {}).values()):
        sio = getattr(handler, '__self__', None)
        manager = getattr(sio, 'manager', None)
        if manager is None or id(manager) in seen:
            continue
        seen.add(id(manager))
        if isinstance(getattr(manager, 'host_id', None), str) and \
                hasattr(manager, '_publish') and \
                not getattr(sio, 'manager_initialized', False):
            manager.host_id = uuid.uuid4().hex


def serve_workers(app: Any, workers: int, host: str = '127.0.0.1',
                  port: int = 5000, loop: str = 'auto',
                  backlog: int = 2048, factory: bool = False,
                  **kwargs: Any) -> None:
    """Serve ``app`` on the built-in server with ``workers`` processes on
    one port until SIGINT/SIGTERM (see :func:`engineio_fast.run`).

    Args:
        app: what :class:`~engineio_fast.adapters.builtin.BuiltinServer`
            serves, forked into every worker (python-socketio's pub/sub
            managers get a host id of their own in each, see
            :func:`renew_forked_state`); or a ``'module:attribute'``
            string, imported by each worker after the fork (the command
            line does this), so that everything the module makes is the
            worker's own.
        workers: the number of worker processes (1 to 64).
        host: the address to listen on.
        port: the port.
        loop: ``'auto'``, ``'uvloop'`` or ``'asyncio'``.
        backlog: the listen backlog (of the supervisor's socket).
        factory: ``app`` names (or is) a callable returning the app: a
            string's is called in each worker after the fork, an object
            once here before it.
        **kwargs: more ``BuiltinServer`` options (``limits``,
            ``per_message_deflate``, ``access_log``, ``root_path``,
            ``limit_concurrency``, ``ws_max_size``, ``ping_interval``,
            ``ping_timeout``, the proxy options); ``limit_concurrency``
            counts per worker.

    Raises:
        ValueError: ``workers`` out of range, or ``ssl`` given (a
            connection handed between workers cannot carry TLS state).
        RuntimeError: the platform cannot fork.
        TypeError: ``app`` cannot be served.
        OSError: the address cannot be bound.
        RuntimeError: a worker could not import or serve ``app`` (a
            string): every worker was stopped. Also: the platform cannot
            fork.
    """

    if kwargs.get('ssl') is not None:
        raise ValueError('workers > 1 cannot serve TLS (a connection handed '
                         'between workers cannot carry its TLS state): '
                         'terminate TLS in front of the server')
    kwargs.pop('ssl', None)
    if not hasattr(os, 'fork'):
        raise RuntimeError('workers > 1 needs os.fork (Linux, macOS)')
    if not 1 <= workers <= handoff.MAX_WORKERS:
        raise ValueError('workers must be 1 to %d, not %r'
                         % (handoff.MAX_WORKERS, workers))
    spec = app if isinstance(app, str) else None
    if spec is None:
        if factory:
            from .apps import call_factory
            app = call_factory(app)
        resolve_app(app)       # a TypeError here, not in every worker
    limits: Dict[str, Any] = dict(DEFAULT_LIMITS)
    limits.update(kwargs.get('limits') or {})

    supervisor_pid = os.getpid()

    def serve_one(router: Any) -> None:
        if spec is not None:
            served = load_in_worker(spec, factory)
        else:
            served = app
            renew_forked_state(served)
        server = BuiltinServer(served, router=router, accept=False,
                               **kwargs)
        def watch_from(event_loop: asyncio.AbstractEventLoop) -> None:
            def watch() -> None:
                if os.getppid() != supervisor_pid:
                    # the supervisor is gone (SIGKILL): shut down rather
                    # than serve on alone with no one to restart the
                    # siblings
                    logger.warning('the supervisor is gone: shutting down')
                    server.request_shutdown()
                elif _stop_asked and server._stop is not None:
                    # asked to stop before the loop handled signals
                    server.request_shutdown()
                else:
                    event_loop.call_later(
                        STOP_CHECK if _stop_asked else ORPHAN_CHECK, watch)
            event_loop.call_later(STOP_CHECK, watch)
        serve_on_new_loop(server, loop, watch_from)

    sock = listen(host, port, backlog)
    supervisor: Optional[Supervisor] = None
    try:
        supervisor = Supervisor(serve_one, sock, workers,
                                limits['shutdown_timeout'],
                                limits['max_request_line'])
    finally:
        if supervisor is None:
            sock.close()
    if supervisor.run() == APP_LOAD_ERROR:
        raise RuntimeError('a worker could not load %s (its error is '
                           'above): stopped' % (spec or 'the app'))
