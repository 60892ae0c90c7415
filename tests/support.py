"""One way to run a real server for the tests: uvicorn (uvloop, httptools,
websockets) on 127.0.0.1 in a background thread with its own loop."""

import asyncio
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
