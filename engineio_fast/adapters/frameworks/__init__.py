"""Engine.IO inside server frameworks: aiohttp, Sanic and Tornado.

Each module translates its framework's requests into the engine's
:class:`~engineio_fast.protocol.http.Request` and performs the engine's
answer through the pieces every asyncio adapter shares
(:mod:`engineio_fast.adapters.aio`); no protocol decision is made here.

- :mod:`.aiohttp`: ``AsyncServer.attach(web.Application)``;
- :mod:`.sanic`: ``AsyncServer.attach(Sanic)``;
- :mod:`.tornado`: ``get_tornado_handler(server)``.

This module picks the async mode (python-engineio's order) and sends
``attach()`` and ``handle_request()`` to the right one; it imports no
framework until one is used.
"""

import importlib.util
import sys
from typing import Any, Dict, Iterable, Optional, Tuple

from ..environ import make_environ as make_environ  # the drivers' import

#: python-engineio's AsyncServer modes, in its order of preference
ORDER = ('aiohttp', 'sanic', 'tornado', 'asgi')


def available(mode: str) -> bool:
    """Whether the framework of ``mode`` is installed (found, not
    imported: AsyncServer() does not pay for importing aiohttp)."""
    if mode == 'asgi':
        return True
    return importlib.util.find_spec(mode) is not None


def select_mode(requested: Optional[str] = None) -> str:
    """The async mode of an AsyncServer: ``requested``, or the first of
    :data:`ORDER` whose framework is installed.

    Raises:
        ValueError: ``'Invalid async_mode specified'``, as python-engineio,
            for an unknown mode or one whose framework is missing.
    """
    for mode in ORDER if requested is None else (requested,):
        if mode in ORDER and available(mode):
            return mode
    raise ValueError('Invalid async_mode specified')


def _kind_of(obj: Any, names: Dict[str, Tuple[str, str]]) -> Optional[str]:
    """Which framework ``obj`` belongs to: each name maps to (module,
    class); a framework that is not imported cannot have made ``obj``."""
    for kind, (module_name, class_name) in names.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(obj, getattr(module,
                                                          class_name)):
            return kind
    return None


_APPS = {'aiohttp': ('aiohttp.web', 'Application'),
         'sanic': ('sanic', 'Sanic')}
_REQUESTS = {'aiohttp': ('aiohttp.web', 'BaseRequest'),
             'sanic': ('sanic.request', 'Request')}


def attach(server: Any, app: Any, path: str) -> None:
    """``AsyncServer.attach``: route ``path`` of an aiohttp or Sanic app to
    ``server``."""
    kind = _kind_of(app, _APPS)
    if kind is None:
        raise ValueError(
            'attach() takes an aiohttp web.Application or a Sanic app, not '
            '%r; use engineio_fast.get_tornado_handler() for Tornado and '
            'engineio_fast.ASGIApp for ASGI servers' % type(app).__name__)
    module = importlib.import_module(__name__ + '.' + kind)
    module.create_route(app, server, path)


async def handle_request(server: Any, request: Any) -> Any:
    """``AsyncServer.handle_request(request)`` for an aiohttp or Sanic
    request: the response to return from the route handler."""
    kind = _kind_of(request, _REQUESTS)
    if kind is None:
        raise TypeError(
            'handle_request() takes an ASGI (scope, receive, send) or an '
            'aiohttp or Sanic request, not %r' % type(request).__name__)
    module = importlib.import_module(__name__ + '.' + kind)
    return await module.handle(server, request)


def header_dict(items: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """The engine's header dict: lower-case names, repeated ones joined."""
    out: Dict[str, str] = {}
    for name, value in items:
        name = name.lower()
        out[name] = out[name] + ', ' + value if name in out else value
    return out


def is_websocket_upgrade(method: str, headers: Dict[str, str]) -> bool:
    """A GET asking for a websocket (``Upgrade: websocket``)."""
    return method == 'GET' and \
        headers.get('upgrade', '').lower() == 'websocket'
