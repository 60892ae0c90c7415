"""WSGI application middleware for Engine.IO (python-engineio's
``WSGIApp`` and the deprecated ``Middleware``)."""

from typing import IO, Any, Callable, Dict, Iterable, Optional, Protocol

from . import static_files as _static
from .adapters.wsgi import connection as _connection

CHUNK_SIZE = 64 * 1024

#: a WSGI environ
WSGIEnviron = Dict[str, Any]

#: a WSGI server's ``start_response``
StartResponse = Callable[..., Any]

#: a WSGI application
WSGIApplication = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]


class WSGIEngine(Protocol):
    """What :class:`WSGIApp` needs of its Engine.IO server: a
    :class:`~engineio_fast.Server` (or python-socketio's ``Server``)."""

    def handle_request(self, environ: WSGIEnviron,
                       start_response: StartResponse) -> Iterable[bytes]:
        """Handle an Engine.IO request (the WSGI entry point)."""


class WSGIApp:
    """WSGI application middleware for Engine.IO.

    Dispatches Engine.IO traffic to an Engine.IO server, serves static
    files, and forwards everything else to another WSGI application.

    Args:
        engineio_app (Server): the Engine.IO server.
        wsgi_app (callable, optional): the WSGI application that receives
            all traffic that is not for Engine.IO nor a static file.
        static_files (dict, optional): static file mapping rules, see
            :mod:`engineio_fast.static_files`.
        engineio_path (str): the endpoint of the Engine.IO server,
            ``'engine.io'`` by default. Leading and trailing slashes are
            optional.

    Raises:
        ValueError: if ``static_files`` is malformed.

    Example::

        import engineio_fast as engineio
        from flask import Flask

        eio = engineio.Server(async_mode='threading')
        app = Flask(__name__)
        app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)
    """

    def __init__(self, engineio_app: WSGIEngine,
                 wsgi_app: Optional[WSGIApplication] = None,
                 static_files: Optional[_static.StaticFiles] = None,
                 engineio_path: str = 'engine.io') -> None:
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        path = '/' + (engineio_path or '').strip('/') + '/'
        self.engineio_path = '/' if path == '//' else path
        self.static_files = _static.validate(static_files)

    def __call__(self, environ: WSGIEnviron,
                 start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application callable."""
        path = environ.get('PATH_INFO') or '/'
        # as python-engineio's WSGIApp: '/engine.io' without the slash is
        # not the Engine.IO endpoint (clients always send the slash)
        if path.startswith(self.engineio_path):
            return self.engineio_app.handle_request(environ, start_response)
        # static files and the app behind get the same connection handling
        # as Engine.IO requests (gevent.pywsgi's keep-alive gaps)
        start_response = _connection.prepare(environ, start_response)
        method = environ.get('REQUEST_METHOD')
        if self.static_files and method in ('GET', 'HEAD'):
            static_file = _static.locate(self.static_files, path)
            if static_file is not None:
                return self.serve_static_file(static_file, environ,
                                              start_response,
                                              head=method == 'HEAD')
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)
        return self.not_found(start_response)

    def serve_static_file(self, static_file: _static.StaticFile,
                          environ: WSGIEnviron, start_response: StartResponse,
                          head: bool = False) -> Iterable[bytes]:
        """Send a static file, in chunks (the server's
        ``wsgi.file_wrapper`` when it has one)."""
        filename = static_file['filename']
        content_type = static_file.get('content_type') or \
            _static.content_type_for(filename)
        try:
            f, size = _static.open_regular(filename)
        except OSError:
            return self.not_found(start_response)
        start_response('200 OK', [('Content-Type', content_type),
                                  ('Content-Length', str(size))])
        if head:
            f.close()
            return [b'']
        wrapper = environ.get('wsgi.file_wrapper')
        if wrapper is not None:
            return wrapper(f, CHUNK_SIZE)
        return _FileIter(f)

    def not_found(self, start_response: StartResponse) -> Iterable[bytes]:
        """Send a 404 Not Found response."""
        start_response('404 Not Found', [('Content-Type', 'text/plain'),
                                         ('Content-Length', '9')])
        return [b'Not Found']


class _FileIter:
    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def __iter__(self) -> '_FileIter':
        return self

    def __next__(self) -> bytes:
        chunk = self.f.read(CHUNK_SIZE)
        if not chunk:
            raise StopIteration
        return chunk

    def close(self) -> None:
        self.f.close()


class Middleware(WSGIApp):
    """The deprecated name of :class:`WSGIApp` (no static files)."""

    def __init__(self, engineio_app: WSGIEngine,
                 wsgi_app: Optional[WSGIApplication] = None,
                 engineio_path: str = 'engine.io') -> None:
        super().__init__(engineio_app, wsgi_app,
                         engineio_path=engineio_path)
