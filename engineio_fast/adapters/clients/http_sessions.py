"""The HTTP sessions behind the clients' polling transport.

Without an ``http_session`` the clients use :mod:`engineio_fast.http1`, our
own HTTP/1.1 client on httptools (already a dependency of the server): one
kept-alive connection for the long-poll GETs and one for the POSTs, no
per-request machinery beyond building the request and parsing the response.

With an ``http_session`` the clients use it the way python-engineio does:
a ``requests.Session`` for :class:`~engineio_fast.Client` and an
``aiohttp.ClientSession`` for :class:`~engineio_fast.AsyncClient`; an
``httpx.Client`` / ``httpx.AsyncClient`` works too. Its cookies, basic
auth and TLS settings also apply to the websocket handshake.

Each kind is wrapped in an adapter with one interface: ``request(method,
url, headers, body, connect_timeout, read_timeout, limit)`` returning
``(status, body bytes)`` (a coroutine for the asyncio kinds) and raising
:class:`TooLarge` past ``limit`` bytes, ``ws_headers(url)`` (the Cookie and
Authorization headers the session would send), ``ws_ssl()`` (its TLS
context for a ``wss://`` handshake) and ``close()``.
"""

import ssl

from . import http1

TooLarge = http1.ResponseTooLarge
CHUNK = 65536

_contexts: dict = {}


def ssl_context(verify=True):
    """A client TLS context, built once per process for each ``verify``
    (building one loads the CA store, tens of milliseconds). ``verify``
    False accepts any certificate (self-signed servers)."""
    verify = bool(verify)
    ctx = _contexts.get(verify)
    if ctx is None:
        ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx = _contexts.setdefault(verify, ctx)
    return ctx


def _read_bounded(chunks, limit):
    out = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge('response larger than %d bytes' % limit)
        out.append(chunk)
    return b''.join(out)


async def _aread_bounded(chunks, limit):
    out = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge('response larger than %d bytes' % limit)
        out.append(chunk)
    return b''.join(out)


def kind_of(session):
    """'requests', 'aiohttp', 'httpx' or 'engineio_fast' for a session
    object; ValueError for anything else."""
    for cls in type(session).__mro__:   # subclasses count as their base
        kind = cls.__module__.partition('.')[0]
        if kind in ('requests', 'aiohttp', 'httpx', 'engineio_fast'):
            return kind
    raise ValueError(
        'http_session must be a requests.Session (Client), an '
        'aiohttp.ClientSession (AsyncClient) or an httpx client, not %r'
        % type(session).__name__)


class Adapter:
    """What every kind shares; ``session`` is the wrapped object and
    ``own`` says whether the client closes it."""

    asynchronous = False

    def __init__(self, session, own, verify):
        self.session = session
        self.own = own
        self.verify = verify

    def ws_headers(self, url):
        return {}

    def session_ssl(self):
        """The session's own TLS context, or None to use the default."""
        return None

    def ws_ssl(self):
        if not self.verify:
            return ssl_context(False)
        return self.session_ssl() or ssl_context(True)


# -- ours ---------------------------------------------------------------------

class _Http1Base(Adapter):
    context = None
    def ws_headers(self, url):
        cookie = self.session.cookie_header(url)
        return {'Cookie': cookie} if cookie else {}

    def session_ssl(self):
        return self.context


class Http1(_Http1Base):
    def request(self, method, url, headers, body, connect_timeout,
                read_timeout, limit):
        return self.session.request(
            method, url, headers, body, connect_timeout=connect_timeout,
            read_timeout=read_timeout, max_body=limit)

    def close(self):
        self.session.close()


class AsyncHttp1(_Http1Base):
    asynchronous = True

    async def request(self, method, url, headers, body, connect_timeout,
                      read_timeout, limit):
        return await self.session.request(
            method, url, headers, body, connect_timeout=connect_timeout,
            read_timeout=read_timeout, max_body=limit)

    async def close(self):
        await self.session.close()


# -- requests (python-engineio's Client) --------------------------------------

class Requests(Adapter):
    def request(self, method, url, headers, body, connect_timeout,
                read_timeout, limit):
        r = self.session.request(method, url, headers=headers, data=body,
                                 timeout=(connect_timeout, read_timeout),
                                 stream=True, verify=self._verify_arg())
        try:
            return r.status_code, _read_bounded(
                r.iter_content(CHUNK), limit)
        finally:
            r.close()

    def _verify_arg(self):
        return self.session.verify if self.verify else False

    def ws_headers(self, url):
        import requests
        prepared = self.session.prepare_request(requests.Request('GET', url))
        return {k: v for k, v in prepared.headers.items()
                if k.lower() in ('cookie', 'authorization')}

    def session_ssl(self):
        verify = self.session.verify
        cert = self.session.cert
        if verify is True and not cert:
            return None
        ctx = ssl.create_default_context(
            cafile=verify if isinstance(verify, str) else None)
        if verify is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cert:
            if isinstance(cert, str):
                ctx.load_cert_chain(cert)
            else:
                ctx.load_cert_chain(*cert)
        return ctx

    def close(self):
        self.session.close()


# -- aiohttp (python-engineio's AsyncClient) ----------------------------------

class Aiohttp(Adapter):
    asynchronous = True

    async def request(self, method, url, headers, body, connect_timeout,
                      read_timeout, limit):
        import aiohttp
        timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout,
                                        sock_read=read_timeout)
        extra = {} if self.verify else {'ssl': False}
        async with self.session.request(method, url, headers=headers,
                                        data=body, timeout=timeout,
                                        **extra) as r:
            return r.status, await _aread_bounded(
                r.content.iter_chunked(CHUNK), limit)

    def ws_headers(self, url):
        import yarl
        headers = {}
        jar = self.session.cookie_jar.filter_cookies(yarl.URL(url))
        if jar:
            headers['Cookie'] = '; '.join(
                '%s=%s' % (name, morsel.value) for name, morsel in jar.items())
        auth = getattr(self.session, 'auth', None)
        if auth is not None and hasattr(auth, 'encode'):
            headers['Authorization'] = auth.encode()
        return headers

    def session_ssl(self):
        setting = getattr(self.session.connector, '_ssl', None)
        if isinstance(setting, ssl.SSLContext):
            return setting
        if setting is False:
            return ssl_context(False)
        return None

    async def close(self):
        await self.session.close()


# -- httpx --------------------------------------------------------------------

class _HttpxBase(Adapter):
    def ws_headers(self, url):
        import httpx
        headers = {}
        cookie = self.session.build_request('GET', url).headers.get('cookie')
        if cookie:
            headers['Cookie'] = cookie
        auth = self.session.auth
        if isinstance(auth, httpx.BasicAuth):
            request = self.session.build_request('GET', url)
            value = next(auth.sync_auth_flow(request)).headers.get(
                'authorization')
            if value:
                headers['Authorization'] = value
        return headers

    def session_ssl(self):
        # httpx keeps the TLS setup (custom CA, client certificate, verify
        # off) on its connection pool
        pool = getattr(getattr(self.session, '_transport', None), '_pool',
                       None)
        ctx = getattr(pool, '_ssl_context', None)
        return ctx if isinstance(ctx, ssl.SSLContext) else None

    def _timeout(self, connect_timeout, read_timeout):
        import httpx
        return httpx.Timeout(connect_timeout, read=read_timeout)


class Httpx(_HttpxBase):
    def request(self, method, url, headers, body, connect_timeout,
                read_timeout, limit):
        with self.session.stream(
                method, url, headers=headers, content=body,
                timeout=self._timeout(connect_timeout, read_timeout)) as r:
            return r.status_code, _read_bounded(r.iter_bytes(), limit)

    def close(self):
        self.session.close()


class AsyncHttpx(_HttpxBase):
    asynchronous = True

    async def request(self, method, url, headers, body, connect_timeout,
                      read_timeout, limit):
        async with self.session.stream(
                method, url, headers=headers, content=body,
                timeout=self._timeout(connect_timeout, read_timeout)) as r:
            return r.status_code, await _aread_bounded(r.aiter_bytes(),
                                                       limit)

    async def close(self):
        await self.session.aclose()


_SYNC = {'engineio_fast': Http1, 'requests': Requests, 'httpx': Httpx}
_ASYNC = {'engineio_fast': AsyncHttp1, 'aiohttp': Aiohttp,
          'httpx': AsyncHttpx}


def wrap(session, own, verify, asynchronous):
    """The adapter for a user's (or our own) session object.

    Raises:
        ValueError: a kind this client cannot use (a ``requests.Session``
            given to AsyncClient, an aiohttp session given to Client, ...).
    """
    kind = kind_of(session)
    table = _ASYNC if asynchronous else _SYNC
    cls = table.get(kind)
    if cls is None:
        raise ValueError('%s cannot use a %s session as http_session' % (
            'AsyncClient' if asynchronous else 'Client', kind))
    return cls(session, own, verify)


def default(verify, asynchronous):
    """Our own session, owned (closed) by the client."""
    ctx = ssl_context(verify)
    adapter: _Http1Base
    if asynchronous:
        adapter = AsyncHttp1(http1.AsyncHttp1Session(ssl_context=ctx), True,
                             verify)
    else:
        adapter = Http1(http1.Http1Session(ssl_context=ctx), True, verify)
    adapter.context = ctx
    return adapter
