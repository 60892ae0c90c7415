"""HTTP-level pieces of the sans-I/O core: requests, responses, CORS,
cookies, compression and the error bodies of PROTOCOL.md.

Nothing here touches a socket or a clock; adapters build a :class:`Request`
from whatever their server gives them and write the :class:`Response` back.

With the compiled kernels this module is its compiled twin: this source
built by Cython with the attribute types of
``src_pyx/twins/engineio_fast/protocol/_http_c.pxd`` (setup.py), whose names
replace these at the end of the module. :class:`Request`, :class:`Response`
and :class:`HttpPolicy` are then extension types: they take no attribute
that .pxd does not declare, and their methods cannot be replaced.
"""

import gzip
import json as _stdjson
import zlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import unquote as _unquote

from .. import _accel

#: a WSGI-style environ
Environ = Dict[str, Any]

#: response headers: (name, value) pairs
Headers = List[Tuple[str, str]]

#: the ``cors_allowed_origins`` option: None (same origin), ``'*'``, one
#: origin, a list of them (``[]`` disables CORS), or a callable taking
#: ``(origin)`` or ``(origin, environ)`` and returning whether to allow it
CorsOrigins = Union[None, str, Sequence[str], Callable[..., Any]]

#: the ``cookie`` option: None, a cookie name, or a dict of attributes
Cookie = Union[None, str, Dict[str, Any]]

# The JavaScript server's error codes and messages (PROTOCOL.md).
UNKNOWN_TRANSPORT = 0
UNKNOWN_SID = 1
BAD_HANDSHAKE_METHOD = 2
BAD_REQUEST = 3
FORBIDDEN = 4
UNSUPPORTED_PROTOCOL_VERSION = 5

ERROR_MESSAGES = {
    UNKNOWN_TRANSPORT: 'Transport unknown',
    UNKNOWN_SID: 'Session ID unknown',
    BAD_HANDSHAKE_METHOD: 'Bad handshake method',
    BAD_REQUEST: 'Bad request',
    FORBIDDEN: 'Forbidden',
    UNSUPPORTED_PROTOCOL_VERSION: 'Unsupported protocol version',
}

TEXT_PLAIN = 'text/plain; charset=UTF-8'
JAVASCRIPT = 'text/javascript; charset=UTF-8'
JSON_TYPE = 'application/json'


def parse_query(raw: str) -> Dict[str, str]:
    """Query parameters of a query string (str), first value of each.

    Like ``urllib.parse.parse_qsl`` with blank values kept, several times
    faster for Engine.IO's short ASCII queries (unquoting only when a
    parameter needs it).
    """
    query: Dict[str, str] = {}
    if not raw:
        return query
    for part in raw.split('&'):
        if not part:
            continue
        key, _, value = part.partition('=')
        if '%' in part or '+' in part:
            key = _unquote(key.replace('+', ' '))
            value = _unquote(value.replace('+', ' '))
        if key not in query:
            query[key] = value
    return query


class Request:
    """One HTTP (or websocket handshake) request, as the core sees it.

    Args:
        method: the HTTP method in upper case.
        query: a dict of query parameters (first value of each).
        headers: a dict of lower-case header names to values.
        scheme: ``'http'`` or ``'https'`` (``'ws'``/``'wss'`` are mapped).
        body: the request body (bytes) or None.
        is_websocket: True for a websocket upgrade request.
        environ: the WSGI-style environ, or a zero-argument callable that
            builds it (built once, only when needed: CORS callables and
            the connect handler).
    """

    __slots__ = ('method', 'query', 'headers', 'scheme', 'body',
                 'is_websocket', '_environ', 'too_large')

    def __init__(self, method: str, query: Dict[str, str],
                 headers: Dict[str, str], scheme: str = 'http',
                 body: Union[None, bytes, bytearray, str] = None,
                 is_websocket: bool = False,
                 environ: Union[None, Environ,
                                Callable[[], Environ]] = None) -> None:
        self.method = method
        self.query = query
        self.headers = headers
        self.scheme = scheme
        self.body = body
        self.is_websocket = is_websocket
        self._environ = environ
        # set by an adapter that refused to read a body over the limit
        self.too_large = False

    @property
    def environ(self) -> Environ:
        """The WSGI-style environ (built on first use)."""
        env = self._environ
        if callable(env):
            env = self._environ = env()
        if env is None:
            env = self._environ = {}
        return env


class Response:
    """An HTTP response: status code, header list and body bytes."""

    __slots__ = ('status', 'headers', 'body')

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return 'Response(%d, %r, %r)' % (self.status, self.headers,
                                        self.body[:60])


STATUS_TEXT = {200: 'OK', 400: 'BAD REQUEST', 401: 'UNAUTHORIZED',
               403: 'FORBIDDEN', 404: 'NOT FOUND', 405: 'METHOD NOT ALLOWED',
               413: 'PAYLOAD TOO LARGE', 429: 'TOO MANY REQUESTS',
               500: 'INTERNAL SERVER ERROR', 503: 'SERVICE UNAVAILABLE'}


def status_line(status: int) -> str:
    """``'400 BAD REQUEST'`` style status string for WSGI."""
    return '%d %s' % (status, STATUS_TEXT.get(status, 'UNKNOWN'))


def error_body(code: int, message: Optional[str] = None) -> bytes:
    """The JSON body of an Engine.IO error response."""
    return _stdjson.dumps({
        'code': code,
        'message': message or ERROR_MESSAGES[code]},
        separators=(',', ':')).encode()


class HttpPolicy:
    """CORS, cookie and compression settings of one server."""

    def __init__(self, cors_allowed_origins: CorsOrigins = None,
                 cors_credentials: bool = True, cookie: Cookie = None,
                 http_compression: bool = True,
                 compression_threshold: int = 1024) -> None:
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.cors_disabled = (isinstance(cors_allowed_origins, (list, tuple))
                              and len(cors_allowed_origins) == 0)
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie: Optional[Dict[str, Any]]
        if not cookie:
            # None, False, '' and {} all mean no cookie (python-engineio
            # tests the option for truth)
            self.cookie = None
        elif isinstance(cookie, str):
            self.cookie = {'name': cookie, 'path': '/', 'SameSite': 'Lax'}
        elif isinstance(cookie, dict):
            self.cookie = dict(cookie)
        else:
            raise ValueError('cookie must be a str or a dict')

    # -- CORS ------------------------------------------------------------
    def _default_origins(self, req: Request) -> List[str]:
        host = req.headers.get('host')
        if not host:
            return []
        scheme = 'https' if req.scheme in ('https', 'wss') else 'http'
        origins = ['%s://%s' % (scheme, host)]
        fwd_proto = req.headers.get('x-forwarded-proto')
        fwd_host = req.headers.get('x-forwarded-host')
        if fwd_proto or fwd_host:
            origins.append('%s://%s' % (
                (fwd_proto or scheme).split(',')[0].strip(),
                (fwd_host or host).split(',')[0].strip()))
        return origins

    def origin_allowed(self, req: Request) -> bool:
        """True when the request's Origin (if any) passes the CORS policy."""
        if self.cors_disabled:
            return True
        origin = req.headers.get('origin')
        if origin is None:
            return True
        allowed = self.cors_allowed_origins
        if allowed is None:
            return origin in self._default_origins(req)
        if allowed == '*':
            return True
        if isinstance(allowed, str):
            return origin == allowed
        if callable(allowed):
            try:
                return bool(allowed(origin, req.environ))
            except TypeError:
                return bool(allowed(origin))
        # a list may allow every origin with '*' (python-engineio's
        # documented ['*'])
        return origin in allowed or '*' in allowed

    def cors_headers(self, req: Request) -> Headers:
        """The Access-Control-* headers for a response to ``req``."""
        if self.cors_disabled:
            return []
        headers: Headers = []
        origin = req.headers.get('origin')
        if origin is not None and self.origin_allowed(req):
            headers.append(('Access-Control-Allow-Origin', origin))
        if req.method == 'OPTIONS':
            headers.append(('Access-Control-Allow-Methods',
                            'OPTIONS, GET, POST'))
        acrh = req.headers.get('access-control-request-headers')
        if acrh:
            headers.append(('Access-Control-Allow-Headers', acrh))
        if self.cors_credentials:
            headers.append(('Access-Control-Allow-Credentials', 'true'))
        return headers

    # -- cookies ---------------------------------------------------------
    def sid_cookie(self, sid: str) -> Optional[str]:
        """The Set-Cookie value for a new session, or None."""
        attrs = self.cookie
        if attrs is None:
            return None
        parts = [attrs.get('name', 'io') + '=' + sid]
        for key, value in attrs.items():
            if key == 'name':
                continue
            if callable(value):
                value = value()
            if value is True:
                parts.append(key)
            elif value is not False and value is not None:
                parts.append('%s=%s' % (key, value))
        return '; '.join(parts)

    # -- compression -----------------------------------------------------
    def compress(self, req: Request, body: bytes, headers: Headers) -> bytes:
        """Compress ``body`` if the client accepts it and it is big enough.

        Returns the body to send; appends Content-Encoding to ``headers``.
        """
        if not self.http_compression or \
                len(body) < self.compression_threshold:
            return body
        accept = req.headers.get('accept-encoding')
        if not accept:
            return body
        for item in accept.split(','):
            name, _, params = item.partition(';')
            name = name.strip().lower()
            if params.replace(' ', '').lower() in ('q=0', 'q=0.0', 'q=0.00',
                                                   'q=0.000'):
                continue
            if name == 'gzip':
                headers.append(('Content-Encoding', 'gzip'))
                return gzip.compress(body, compresslevel=6, mtime=0)
            if name == 'deflate':
                headers.append(('Content-Encoding', 'deflate'))
                return zlib.compress(body)
        return body

    # -- responses -------------------------------------------------------
    def error(self, req: Optional[Request], code: int,
              message: Optional[str] = None, status: int = 400) -> Response:
        """An Engine.IO error response (JSON body, CORS headers)."""
        headers = [('Content-Type', JSON_TYPE)]
        if req is not None:
            headers += self.cors_headers(req)
        return Response(status, headers, error_body(code, message))

    def unauthorized(self, req: Request, value: Any = None) -> Response:
        """The 401 response of a rejected connection."""
        body = _stdjson.dumps(
            'Unauthorized' if value is None else value,
            separators=(',', ':')).encode()
        headers = [('Content-Type', JSON_TYPE)] + self.cors_headers(req)
        return Response(401, headers, body)

    def text(self, req: Request, text: str, jsonp_index: Optional[int] = None,
             cookie: Optional[str] = None,
             jsonp_wrap: Optional[Callable[[int, str], str]] = None
             ) -> Response:
        """A 200 polling response carrying ``text`` (str); for a JSONP
        poll (``jsonp_index``) wrapped by ``jsonp_wrap`` (the kernel).

        It is :func:`payload_answer`, the cookie, then :meth:`finish`,
        written out here because every poll is answered through it (a
        test keeps the two forms equal)."""
        if jsonp_index is not None:
            assert jsonp_wrap is not None    # the engine always passes it
            text = jsonp_wrap(jsonp_index, text)
            headers = [('Content-Type', JAVASCRIPT)]
        else:
            headers = [('Content-Type', TEXT_PLAIN)]
        if cookie is not None:
            headers.append(('Set-Cookie', cookie))
        headers += self.cors_headers(req)
        body = self.compress(req, text.encode('utf-8'), headers)
        return Response(200, headers, body)

    def finish(self, req: Request, status: int, headers: Headers,
               body: bytes) -> Response:
        """A response to ``req``: ``headers`` (extended in place) with the
        CORS headers, ``body`` compressed when it should be."""
        headers += self.cors_headers(req)
        return Response(status, headers, self.compress(req, body, headers))


#: the Content-Type and body of the answer to a POST that was taken
POST_OK_TYPE = 'text/html; charset=UTF-8'
POST_OK_BODY = b'ok'


def payload_answer(text: str, jsonp_index: Optional[int] = None,
                   jsonp_wrap: Optional[Callable[[int, str], str]] = None
                   ) -> Tuple[Headers, bytes]:
    """The headers (its Content-Type) and the body of a polling answer
    carrying the payload ``text``, before cookies, CORS and compression;
    for a JSONP poll (``jsonp_index``) wrapped by ``jsonp_wrap``."""
    if jsonp_index is not None:
        assert jsonp_wrap is not None    # the engine always passes it
        return ([('Content-Type', JAVASCRIPT)],
                jsonp_wrap(jsonp_index, text).encode('utf-8'))
    return [('Content-Type', TEXT_PLAIN)], text.encode('utf-8')


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
