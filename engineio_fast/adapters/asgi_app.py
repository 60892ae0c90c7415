"""ASGI application that puts an Engine.IO server in front of other traffic.

Routing precedence, as in python-engineio:

1. ``http`` and ``websocket`` requests under the Engine.IO path go to the
   Engine.IO server (when the app is mounted, as with Starlette's
   ``app.mount('/ws', ...)``, the path below the mount point, the scope's
   ``root_path``, is matched too);
2. ``GET``/``HEAD`` requests that match a static file rule and name an
   existing file are answered with that file, streamed in chunks;
3. everything else (``lifespan`` included) goes to ``other_asgi_app`` when
   one is given;
4. otherwise the request gets a 404 (a close for websockets).
"""

import asyncio
import inspect
import logging
import traceback
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    MutableMapping,
    Optional,
    Protocol,
    Union,
)

from .. import static_files as _static

logger = logging.getLogger('engineio_fast.asgi')

#: Size of each body chunk sent for a static file.
CHUNK_SIZE = 64 * 1024

# the ASGI types, spelled as Starlette (and so FastAPI) spells them
#: an ASGI connection scope
Scope = MutableMapping[str, Any]
#: an ASGI event or message
Message = MutableMapping[str, Any]
#: an ASGI ``receive`` callable
Receive = Callable[[], Awaitable[Message]]
#: an ASGI ``send`` callable
Send = Callable[[Message], Awaitable[None]]
#: an ASGI (3) application
ASGIApplication = Callable[[Scope, Receive, Send], Awaitable[None]]
#: an ``on_startup``/``on_shutdown`` hook: a function or coroutine function
Hook = Callable[[], Any]


class ASGIEngine(Protocol):
    """What :class:`ASGIApp` needs of its Engine.IO server: an
    :class:`~engineio_fast.AsyncServer` (or python-socketio's
    ``AsyncServer``); its ``shutdown()``, if it has one, runs at the
    lifespan's shutdown."""

    def handle_request(self, scope: Scope, receive: Receive,
                       send: Send) -> Awaitable[Any]:
        """Handle an Engine.IO request (``http`` or ``websocket`` scope)."""


class ASGIApp:
    """ASGI application middleware for Engine.IO.

    Dispatches Engine.IO traffic to an Engine.IO server, serves static
    files, and forwards everything else to another ASGI application.

    Args:
        engineio_server (AsyncServer): the Engine.IO server; it must provide
            ``async handle_request(scope, receive, send)``.
        other_asgi_app (callable, optional): ASGI application receiving
            all traffic that is not for Engine.IO nor a static file,
            including the ``lifespan`` scope.
        static_files (dict, optional): static file mapping rules, see
            :mod:`engineio_fast.static_files`.
        engineio_path (str): the endpoint of the Engine.IO server,
            ``'engine.io'`` by default. Leading and trailing slashes are
            optional. With ``None`` all ``http`` and ``websocket`` traffic
            goes to the Engine.IO server, and ``static_files`` and
            ``other_asgi_app`` only see ``lifespan``.
        on_startup (callable, optional): function or coroutine function
            called when the application starts.
        on_shutdown (callable, optional): function or coroutine function
            called when the application stops.

    Raises:
        ValueError: if ``static_files`` is malformed.

    Example::

        import engineio_fast as engineio
        import uvicorn

        eio = engineio.AsyncServer()
        app = engineio.ASGIApp(eio, static_files={'/': 'index.html'})
        uvicorn.run(app, host='127.0.0.1', port=5000)
    """

    def __init__(self, engineio_server: ASGIEngine,
                 other_asgi_app: Optional[ASGIApplication] = None,
                 static_files: Optional[_static.StaticFiles] = None,
                 engineio_path: Optional[str] = 'engine.io',
                 on_startup: Optional[Hook] = None,
                 on_shutdown: Optional[Hook] = None) -> None:
        self.engineio_server = engineio_server
        self.other_asgi_app = other_asgi_app
        if engineio_path is not None:
            engineio_path = '/' + engineio_path.strip('/') + '/'
            if engineio_path == '//':
                engineio_path = '/'
        self.engineio_path = engineio_path
        self.static_files = _static.validate(static_files)
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        """Handle one ASGI connection.

        Args:
            scope (dict): ASGI connection scope.
            receive (callable): ASGI receive callable.
            send (callable): ASGI send callable.
        """
        kind = scope['type']
        if kind == 'lifespan':
            await self.lifespan(scope, receive, send)
            return
        if kind in ('http', 'websocket') and self._is_engineio_path(scope):
            await self.engineio_server.handle_request(scope, receive, send)
            return
        if kind == 'http' and self.static_files and \
                scope.get('method') in ('GET', 'HEAD'):
            static_file = _static.locate(self.static_files, scope['path'])
            if static_file is not None:
                if scope['method'] == 'HEAD':
                    await self.serve_static_file(static_file, receive, send,
                                                 head=True)
                else:
                    await self.serve_static_file(static_file, receive, send)
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        elif kind == 'websocket':
            await send({'type': 'websocket.close', 'code': 1000})
        else:
            await self.not_found(receive, send)

    def _is_engineio_path(self, scope: Scope) -> bool:
        if self.engineio_path is None:
            return True
        path = scope['path']
        if not path.endswith('/'):
            path += '/'
        if path.startswith(self.engineio_path):
            return True
        # mounted (Starlette/FastAPI ``app.mount('/ws', app)``): the ASGI
        # path is the full one, root_path the mount point; the Engine.IO
        # path is matched below the mount point too (python-engineio only
        # matches the full path, so a mounted app is unreachable there)
        root = scope.get('root_path') or ''
        return bool(root) and path.startswith(root + '/') and \
            path[len(root):].startswith(self.engineio_path)

    async def serve_static_file(self,
                                static_file: Union[_static.StaticFile, str],
                                receive: Receive, send: Send,
                                head: bool = False) -> None:
        """Send a static file as the response, in chunks.

        The file is never read whole into memory: chunks of
        :data:`CHUNK_SIZE` bytes are read off the event loop and sent with
        ``more_body``, so the server's flow control applies. Streaming
        stops early if the client goes away.

        Args:
            static_file (dict or str): ``{'filename': ..., 'content_type':
                ...}`` as returned by
                :func:`engineio_fast.static_files.resolve`, or a file name
                (its content type is then guessed from the extension).
            receive (callable): ASGI receive callable.
            send (callable): ASGI send callable.
            head (bool): send the headers only, as for a ``HEAD`` request.
        """
        if isinstance(static_file, str):
            static_file = {'filename': static_file}
        filename = static_file['filename']
        content_type = static_file.get('content_type') or \
            _static.content_type_for(filename)
        loop = asyncio.get_running_loop()
        try:
            f, size = await loop.run_in_executor(None, _static.open_regular,
                                                filename)
        except OSError:
            await self.not_found(receive, send)
            return
        watcher = None
        try:
            await send({'type': 'http.response.start', 'status': 200,
                        'headers': [
                            (b'content-type', content_type.encode('latin-1')),
                            (b'content-length', str(size).encode())]})
            if head or size == 0:
                await send({'type': 'http.response.body', 'body': b''})
                return
            if size <= CHUNK_SIZE:
                await send({'type': 'http.response.body',
                            'body': f.read(size)})
                return
            gone = asyncio.Event()
            watcher = loop.create_task(_watch_disconnect(receive, gone))
            remaining = size
            while remaining > 0 and not gone.is_set():
                chunk = await loop.run_in_executor(
                    None, f.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    break  # the file shrank; the server notices the gap
                remaining -= len(chunk)
                await send({'type': 'http.response.body', 'body': chunk,
                            'more_body': remaining > 0})
        finally:
            f.close()
            if watcher is not None:
                watcher.cancel()

    async def lifespan(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        """Handle the ASGI ``lifespan`` protocol.

        Calls ``on_startup`` at startup and ``on_shutdown`` at shutdown,
        then the Engine.IO server's ``shutdown()`` when it has one. A hook
        that raises is reported as ``lifespan.startup.failed`` or
        ``lifespan.shutdown.failed``. When ``other_asgi_app`` is set it
        receives the lifespan events too: it starts before these hooks run
        and stops after them. An ``other_asgi_app`` that does not speak the
        lifespan protocol (it raises, or returns without answering) is left
        out.

        Args:
            scope (dict): ASGI lifespan scope.
            receive (callable): ASGI receive callable.
            send (callable): ASGI send callable.
        """
        if self.other_asgi_app is None:
            await self._lifespan_loop(receive, send)
            return
        state: Dict[str, Any] = {
            'answered': False, 'pending': None, 'shutdown_error': None,
            'failed': asyncio.Event()}

        async def wrapped_receive() -> Message:
            event = await receive()
            state['pending'] = event
            if event['type'] == 'lifespan.shutdown':
                state['shutdown_error'] = await self._run_shutdown()
            return event

        async def wrapped_send(message: Message) -> None:
            state['answered'] = True
            state['pending'] = None
            kind = message['type']
            if kind == 'lifespan.startup.complete':
                error = await self._run_hook(self.on_startup)
                if error is not None:
                    message = {'type': 'lifespan.startup.failed',
                               'message': error}
                    state['failed'].set()
            elif kind == 'lifespan.shutdown.complete' and \
                    state['shutdown_error'] is not None:
                message = {'type': 'lifespan.shutdown.failed',
                           'message': state['shutdown_error']}
            await send(message)

        inner = asyncio.ensure_future(
            self.other_asgi_app(scope, wrapped_receive, wrapped_send))
        give_up = asyncio.ensure_future(state['failed'].wait())
        try:
            await asyncio.wait((inner, give_up),
                               return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            inner.cancel()
            raise
        finally:
            give_up.cancel()
        if not inner.done():
            # startup failed in our hook: the server sends nothing more,
            # so stop waiting for the inner app's shutdown
            inner.cancel()
            await asyncio.gather(inner, return_exceptions=True)
            return
        try:
            inner.result()
        except Exception:
            if state['answered']:
                raise
            logger.debug('other_asgi_app does not support lifespan',
                         exc_info=True)
        else:
            if state['answered']:
                return
        await self._lifespan_loop(receive, send, state['pending'])

    async def _lifespan_loop(self, receive: Receive, send: Send,
                             first_event: Optional[Message] = None) -> None:
        event = first_event
        while True:
            if event is None:
                event = await receive()
            if event['type'] == 'lifespan.startup':
                error = await self._run_hook(self.on_startup)
                if error is not None:
                    await send({'type': 'lifespan.startup.failed',
                                'message': error})
                    return
                await send({'type': 'lifespan.startup.complete'})
            elif event['type'] == 'lifespan.shutdown':
                error = await self._run_shutdown()
                if error is not None:
                    await send({'type': 'lifespan.shutdown.failed',
                                'message': error})
                else:
                    await send({'type': 'lifespan.shutdown.complete'})
                return
            event = None

    async def _run_shutdown(self) -> Optional[str]:
        error = await self._run_hook(self.on_shutdown)
        server_shutdown = getattr(self.engineio_server, 'shutdown', None)
        if callable(server_shutdown):
            server_error = await self._run_hook(server_shutdown)
            error = error or server_error
        return error

    @staticmethod
    async def _run_hook(hook: Optional[Hook]) -> Optional[str]:
        """Call a sync or async hook; return ``None`` or an error text."""
        if hook is None:
            return None
        try:
            result = hook()
            if inspect.isawaitable(result):
                await result
        except Exception:
            text = traceback.format_exc()
            logger.error('lifespan hook %r failed:\n%s', hook, text)
            return text
        return None

    async def not_found(self, receive: Receive, send: Send) -> None:
        """Send a 404 Not Found response.

        Args:
            receive (callable): ASGI receive callable.
            send (callable): ASGI send callable.
        """
        await send({'type': 'http.response.start', 'status': 404,
                    'headers': [(b'content-type', b'text/plain'),
                                (b'content-length', b'9')]})
        await send({'type': 'http.response.body', 'body': b'Not Found'})


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message['type'] == 'http.disconnect':
            gone.set()
            return
