"""What the built-in server can serve: the Engine.IO server and its path,
found inside what ``run()`` (or ``engineio-fast module:app``) was given.

Accepted, as they are:

- an :class:`~engineio_fast.AsyncServer`, served at ``/engine.io/``;
- python-socketio's ``AsyncServer`` (its ``eio`` is our AsyncServer once
  :func:`engineio_fast.install` ran before ``import socketio``), served at
  ``/socket.io/``, python-socketio's default;
- an :class:`~engineio_fast.ASGIApp`, python-socketio's ``ASGIApp``
  included, at its ``engineio_path`` (``socketio_path``);
- an ASGI app wrapping one of those: a Starlette or FastAPI app with the
  ASGIApp mounted (``app.mount('/ws', socketio.ASGIApp(sio))`` puts
  Engine.IO at ``/ws/socket.io/``; an ASGIApp whose path already names the
  mount point, ``socketio_path='/ws/socket.io'``, keeps it), or any
  middleware that keeps the app it wraps in ``.app``. Engine.IO requests
  go straight to the engine; everything else to the outer app.

Anything else is a :class:`TypeError` that says what to do, notably for a
python-socketio server created on python-engineio (before the switch) and
for the synchronous servers, which need a WSGI server.
"""

import importlib
import os
import sys
from typing import Any, List, NamedTuple, Optional, Set, Tuple

from ...async_server import AsyncServer
from ...server import Server

#: python-engineio's default endpoint, for a bare AsyncServer
ENGINEIO_PATH = '/engine.io/'
#: python-socketio's default endpoint, for a bare python-socketio server
SOCKETIO_PATH = '/socket.io/'
# wrappers deeper than this are not looked into
MAX_DEPTH = 16

SWITCH_HINT = (
    'call engineio_fast.install() before "import socketio" (or set '
    'ENGINEIO_FAST_AS_ENGINEIO=1 in the environment, or serve the app with '
    'the engineio-fast command, which does it before loading the app)')


class ServedApp(NamedTuple):
    """What the built-in server serves.

    Attributes:
        eio: the :class:`~engineio_fast.AsyncServer` whose engine answers
            Engine.IO requests.
        asgi_app: the ASGI app for every other request and the lifespan, or
            None (then other requests get 404).
        path: the Engine.IO path prefix (``'/socket.io/'``: leading and
            trailing slash), or None when every request is for Engine.IO.
    """

    eio: AsyncServer
    asgi_app: Any
    path: Optional[str]


def import_app(spec: str, factory: bool = False) -> Any:
    """Import ``module:attribute`` (the attribute may be dotted, the
    module is looked for in the current directory too) and return the
    object; with ``factory``, the attribute is a callable taking no
    argument and what it returns is the app (uvicorn's ``--factory``).

    Raises:
        ValueError: ``spec`` is not ``module:attribute``; with
            ``factory``, the attribute is not callable.
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
    """
    module_name, sep, attr = spec.partition(':')
    if not sep or not module_name or not attr:
        raise ValueError('expected module:attribute, got %r' % spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj = importlib.import_module(module_name)
    for part in attr.split('.'):
        obj = getattr(obj, part)
    if factory:
        return call_factory(obj, spec)
    return obj


def call_factory(factory: Any, name: Any = None) -> Any:
    """What the app factory ``factory`` returns when called with no
    argument.

    Raises:
        ValueError: ``factory`` is not callable.
    """
    if not callable(factory):
        raise ValueError('%s is not callable: --factory needs a function '
                         'that returns the app'
                         % (name if name is not None else repr(factory)))
    return factory()


def resolve_app(app: Any) -> ServedApp:
    """Find the Engine.IO server and its path in ``app``.

    Args:
        app: an AsyncServer, a python-socketio AsyncServer, an ASGIApp
            (python-engineio's or python-socketio's API on engineio_fast),
            or an ASGI app wrapping one of those.

    Returns:
        The :class:`ServedApp`.

    Raises:
        TypeError: ``app`` holds no engineio_fast AsyncServer, holds more
            than one, or holds one that cannot be served (a python-engineio
            or a synchronous server: the message says what to do instead).
    """
    if isinstance(app, AsyncServer):
        return ServedApp(app, None, ENGINEIO_PATH)
    eio = _engine_of_socketio(app)
    if eio is not None:
        return ServedApp(eio, None, SOCKETIO_PATH)
    found: List[Tuple[AsyncServer, Optional[str]]] = []
    refused: List[Any] = []
    _walk(app, '', found, refused, set(), 0)
    if not found:
        raise TypeError(_nothing_found(app, refused))
    if len(found) > 1:
        raise TypeError(
            'the built-in server serves one Engine.IO server; %r holds %d '
            '(at %s): serve each on its own port'
            % (app, len(found), ', '.join(str(p) for _, p in found)))
    eio, path = found[0]
    return ServedApp(eio, app, path)


def _engine_of_socketio(obj: Any) -> Optional[AsyncServer]:
    """The engine of a python-socketio AsyncServer, else None."""
    eio = getattr(obj, 'eio', None)
    if isinstance(eio, AsyncServer) and callable(
            getattr(obj, 'handle_request', None)):
        return eio
    return None


def _walk(obj: Any, prefix: str,
          found: List[Tuple[AsyncServer, Optional[str]]],
          refused: List[Any], seen: Set[int], depth: int) -> None:
    """Look for ASGIApps in ``obj`` (mounted under ``prefix``): their
    engines go to ``found`` with their full paths, the servers that are
    not engineio_fast AsyncServers to ``refused``."""
    if depth > MAX_DEPTH or id(obj) in seen or obj is None:
        return
    seen.add(id(obj))
    server = getattr(obj, 'engineio_server', None)
    if server is not None:             # an ASGIApp
        eio = server if isinstance(server, AsyncServer) \
            else _engine_of_socketio(server)
        if eio is not None:
            found.append((eio, _join(prefix, getattr(obj, 'engineio_path',
                                                     ENGINEIO_PATH))))
        else:
            refused.append(server)
        _walk(getattr(obj, 'other_asgi_app', None), prefix, found, refused,
              seen, depth + 1)
        return
    for route in _routes(obj):
        path = getattr(route, 'path', None)
        child = getattr(route, 'app', None)
        if not isinstance(path, str) or child is None:
            continue
        before = len(found)
        _walk(child, prefix + path.rstrip('/'), found, refused, seen,
              depth + 1)
        if len(found) > before and '{' in path:
            raise TypeError(
                'an Engine.IO server is mounted under %r, a path with '
                'parameters: the built-in server needs a fixed path' % path)
    _walk(getattr(obj, 'app', None), prefix, found, refused, seen,
          depth + 1)


def _routes(obj: Any) -> List[Any]:
    """A Starlette (FastAPI) app's or router's mounts."""
    routing = sys.modules.get('starlette.routing')
    if routing is None:     # no Starlette loaded: nothing can be mounted
        return []
    try:
        routes = getattr(obj, 'routes', None)
    except Exception:      # a property of some other framework
        return []
    if not isinstance(routes, (list, tuple)):
        return []
    return [r for r in routes if isinstance(r, routing.Mount)]


def _join(prefix: str, path: Optional[str]) -> Optional[str]:
    """The full Engine.IO path of an ASGIApp at ``path`` mounted under
    ``prefix`` (no trailing slash)."""
    if not prefix:
        return path
    if path is None:
        return prefix + '/'
    if path.startswith(prefix + '/'):
        # the app names its full path, as python-socketio asks under
        # Starlette >= 0.33 (which hands mounted apps the full path)
        return path
    return prefix + path


def _nothing_found(app: Any, refused: List[Any]) -> str:
    """Why ``app`` cannot be served, and what to do."""
    candidates = []
    for server in refused + [getattr(app, 'engineio_app', None), app]:
        candidates += [server, getattr(server, 'eio', None)]
    for obj in candidates:
        if obj is None:
            continue
        module = type(obj).__module__
        if module.split('.')[0] == 'engineio':
            return ('%r runs on python-engineio (%s.%s), not engineio_fast: '
                    'the app imported python-socketio (or engineio) before '
                    'the switch; %s' % (app, module, type(obj).__name__,
                                        SWITCH_HINT))
        if isinstance(obj, Server):
            return ('%r is a synchronous Engine.IO server: the built-in '
                    'server is asyncio, so serve a (socketio.)AsyncServer; '
                    'a Server runs under a WSGI server (gunicorn, eventlet, '
                    'gevent) through WSGIApp' % (app,))
    return ('expected an engineio_fast.AsyncServer, a python-socketio '
            'AsyncServer, an ASGIApp wrapping one, or an ASGI app (FastAPI, '
            'Starlette) with one mounted; got %r' % (app,))
