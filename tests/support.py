"""Real servers for the tests, each on 127.0.0.1 in a background thread with
its own loop: uvicorn (uvloop, httptools, websockets) with
:class:`LiveServer`, the built-in server with :class:`BuiltinServer`, the
AsyncServer inside aiohttp, Sanic or Tornado with :class:`FrameworkServer`;
and the sync Server behind Werkzeug (:class:`WerkzeugServer`)."""

import asyncio
import os
import socket
import threading
import time

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class LiveServer:
    """Run an ASGI app under real uvicorn on a free 127.0.0.1 port.

    Args:
        app: the ASGI application.
        **config: overrides for :class:`uvicorn.Config`.

    Use as a context manager (or ``start()``/``stop()``); ``url``/``ws_url``
    point at it, ``loop`` is its event loop once started, ``call(coro)``
    runs a coroutine on that loop. ``started`` is False when startup failed
    (e.g. a failing lifespan hook); the server thread has then ended.
    """

    def __init__(self, app, **config):
        import uvicorn

        self._bind(app)
        options = dict(host='127.0.0.1', port=self.port, loop='uvloop',
                       http='httptools', ws='websockets', lifespan='on',
                       log_level='warning', timeout_graceful_shutdown=3)
        options.update(config)
        self.config = uvicorn.Config(app, **options)
        self.server = uvicorn.Server(self.config)

    def _bind(self, app):
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.port = self.sock.getsockname()[1]
        self.thread = None
        self.loop = None
        self.error = None
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.port

    @property
    def started(self):
        return self.server.started

    def _run(self):
        import uvloop

        loop = self.loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start()/stop()
            self.error = exc
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=2))
            finally:
                loop.close()

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name='uvicorn-%d' % self.port)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started and self.thread.is_alive():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError('uvicorn did not start')
            time.sleep(0.01)
        return self

    def stop(self):
        if self.thread is None:
            return
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(STOP_TIMEOUT)
        self.sock.close()
        alive = self.thread.is_alive()
        self.thread = None
        if alive:
            raise TimeoutError('uvicorn did not stop')

    def call(self, coro, timeout=10.0):
        """Run a coroutine on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(
            coro, self.loop).result(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class BuiltinServer(LiveServer):
    """Run an AsyncServer or ASGIApp on engineio_fast's built-in server
    (uvloop + httptools) on a free 127.0.0.1 port; same interface as
    :class:`LiveServer`."""

    def __init__(self, app, **options):
        from engineio_fast.adapters.builtin import BuiltinServer as Server

        self._bind(app)
        self.sock.listen(1024)
        self.server = Server(app, sock=self.sock, **options)

    def _run(self):
        import uvloop

        loop = self.loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(
                self.server.serve(install_signal_handlers=False))
        except BaseException as exc:  # reported by start()/stop()
            self.error = exc
        finally:
            loop.close()

    def stop(self):
        if self.thread is None:
            return
        if self.loop is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.server.request_shutdown)
            except RuntimeError:
                pass
        self.thread.join(STOP_TIMEOUT)
        self.sock.close()
        alive = self.thread.is_alive()
        self.thread = None
        if alive:
            raise TimeoutError('the built-in server did not stop')


class FrameworkServer:
    """Run an AsyncServer inside aiohttp, Sanic or Tornado on a free
    127.0.0.1 port, in a background thread with its own asyncio loop; the
    same interface as :class:`LiveServer` (``port``, ``url``, ``ws_url``,
    ``loop``, ``call``, ``start``/``stop``, a context manager).

    Args:
        kind: ``'aiohttp'``, ``'sanic'`` or ``'tornado'``.
        eio: the :class:`engineio_fast.AsyncServer` (attached with
            ``attach()``, or routed to ``get_tornado_handler()``).
        plain: optional ``async plain(method, path, query) -> (status,
            content_type, body)`` answering every other path (404 without).
        path: the Engine.IO path (``engineio_path``).
        runner_options: for aiohttp's ``AppRunner`` (e.g.
            ``handler_cancellation=True``).

    ``stop()`` shuts down as the framework does (aiohttp's cleanup and
    Sanic's stop run the server's shutdown hooks; for Tornado, which has
    none, ``eio.shutdown()`` is awaited first).
    """

    KINDS = ('aiohttp', 'sanic', 'tornado')
    _sanic_apps = 0

    def __init__(self, kind, eio, plain=None, path='engine.io',
                 **runner_options):
        assert kind in self.KINDS, kind
        self.kind = kind
        self.eio = eio
        self.plain = plain
        self.path = path
        self.runner_options = runner_options
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ws_url = 'ws://127.0.0.1:%d' % self.port
        self.thread = None
        self.loop = None
        self.error = None
        self.started = False
        self._ready = threading.Event()
        self._stopping = None

    # -- the three frameworks -------------------------------------------
    async def _start_aiohttp(self):
        from aiohttp import web

        app = web.Application()
        self.eio.attach(app, engineio_path=self.path)
        plain = self.plain

        async def other(request):
            if plain is None:
                return web.Response(status=404, text='not found')
            status, ctype, body = await plain(
                request.method, request.path, request.query_string)
            return web.Response(status=status, body=body,
                                content_type=ctype.split(';')[0])

        app.router.add_route('*', '/{tail:.*}', other)
        runner = web.AppRunner(app, access_log=None, **self.runner_options)
        await runner.setup()
        await web.SockSite(runner, self.sock).start()
        return runner.cleanup

    async def _start_sanic(self):
        from sanic import Sanic
        from sanic.exceptions import NotFound
        from sanic.response import raw

        FrameworkServer._sanic_apps += 1
        app = Sanic('eio_test_%d_%d' % (os.getpid(),
                                        FrameworkServer._sanic_apps))
        # TouchUp rewrites Sanic's own methods at the first startup; a
        # second app started in the same process cannot take it again
        app.config.TOUCHUP = False
        self.eio.attach(app, engineio_path=self.path)
        plain = self.plain

        async def other(request, _exc):
            if plain is None:
                return raw(b'not found', status=404)
            status, ctype, body = await plain(
                request.method, request.path, request.query_string)
            return raw(body, status=status, content_type=ctype)

        # every other path (a catch-all route would come before the
        # Engine.IO one in Sanic's router)
        app.exception(NotFound)(other)
        server = await app.create_server(
            sock=self.sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()

        async def stop():
            await server.before_stop()
            await server.close()
            await server.after_stop()
        return stop

    async def _start_tornado(self):
        import tornado.httpserver
        import tornado.web

        import engineio_fast

        plain = self.plain

        class Other(tornado.web.RequestHandler):
            async def _answer(self, *args):
                if plain is None:
                    status, ctype, body = 404, 'text/plain', b'not found'
                else:
                    status, ctype, body = await plain(
                        self.request.method, self.request.path,
                        self.request.query)
                self.set_status(status)
                self.set_header('Content-Type', ctype)
                self.finish(body)

            get = post = _answer

        app = tornado.web.Application([
            ('/' + self.path.strip('/') + '/',
             engineio_fast.get_tornado_handler(self.eio)),
            (r'/.*', Other)])
        server = tornado.httpserver.HTTPServer(app)
        self.sock.setblocking(False)   # Tornado accepts until it would block
        server.add_sockets([self.sock])
        eio = self.eio

        async def stop():
            await eio.shutdown()
            server.stop()
            await server.close_all_connections()
        return stop

    # -- the thread -------------------------------------------------------
    def _run(self):
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            stop = loop.run_until_complete(
                getattr(self, '_start_' + self.kind)())
            self.started = True
            self._stopping = asyncio.Event()
            self._ready.set()
            loop.run_until_complete(self._stopping.wait())
            loop.run_until_complete(asyncio.wait_for(stop(), STOP_TIMEOUT))
        except BaseException as exc:  # reported by start()/stop()
            self.error = exc
        finally:
            self._ready.set()
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=2))
            finally:
                loop.close()

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name='%s-%d' % (self.kind, self.port))
        self.thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise TimeoutError('%s did not start' % self.kind)
        if not self.started:
            raise RuntimeError('%s did not start: %r' % (self.kind,
                                                       self.error))
        return self

    def stop(self):
        if self.thread is None:
            return
        if self._stopping is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:
                pass
        self.thread.join(STOP_TIMEOUT + 5)
        self.sock.close()
        alive = self.thread.is_alive()
        self.thread = None
        if alive:
            raise TimeoutError('%s did not stop' % self.kind)
        if self.error is not None:
            raise self.error

    def call(self, coro, timeout=10.0):
        """Run a coroutine on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(
            coro, self.loop).result(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 (right name, its own issuer,
    so a client trusts it only when told to): ``(certfile, keyfile)``
    written into ``directory``."""
    import datetime
    import ipaddress
    import os

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    certfile = os.path.join(str(directory), 'cert.pem')
    keyfile = os.path.join(str(directory), 'key.pem')
    with open(certfile, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return certfile, keyfile


class WerkzeugServer:
    """A sync Server behind Werkzeug's threaded server on 127.0.0.1 (port
    0), serving ``app`` (default ``WSGIApp(eio)``); ``stop()`` shuts the
    Engine.IO server down, then Werkzeug."""

    def __init__(self, eio, app=None, wait=5.0):
        from werkzeug.serving import make_server

        import engineio_fast
        self.eio = eio
        self.wait = wait
        self.httpd = make_server('127.0.0.1', 0,
                                 app or engineio_fast.WSGIApp(eio),
                                 threaded=True)
        self.port = self.httpd.server_port
        self.url = 'http://127.0.0.1:%d' % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={'poll_interval': 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.eio.shutdown()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(self.wait)
