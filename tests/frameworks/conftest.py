"""Fixtures for the aiohttp, Sanic and Tornado tests: an AsyncServer
attached to each framework (tests/support.py FrameworkServer), and the same
server as ASGI under uvicorn for what must be the same on every server."""

import pytest

import engineio_fast

from ..io.builtin_helpers import Recorder
from ..support import FrameworkServer, LiveServer

FRAMEWORKS = list(FrameworkServer.KINDS)


def echo_server(async_mode, rec=None, **options):
    """An AsyncServer that echoes every message, records connect (with the
    environ), message and disconnect events, and disconnects a client that
    sends ``close``."""
    eio = engineio_fast.AsyncServer(async_mode=async_mode, **options)
    rec = rec if rec is not None else Recorder()

    @eio.on('connect')
    def connect(sid, environ):
        rec.add('connect', sid, environ)

    @eio.on('message')
    async def message(sid, data):
        rec.add('message', sid, data)
        if data == 'close':
            return await eio.disconnect(sid)
        await eio.send(sid, data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        rec.add('disconnect', sid, reason)

    eio.rec = rec
    return eio


@pytest.fixture(params=FRAMEWORKS)
def kind(request):
    return request.param


@pytest.fixture
def serve(kind):
    """``serve(eio=None, **kw)``: a started FrameworkServer of ``kind``
    (an echo server when ``eio`` is None), stopped at teardown."""
    servers = []

    def start(eio=None, plain=None, path='engine.io', **options):
        if eio is None:
            eio = echo_server(kind, **options)
        server = FrameworkServer(kind, eio, plain, path)
        servers.append(server)
        return server.start()

    yield start
    errors = []
    for server in reversed(servers):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def asgi_reference():
    """``asgi_reference(**options)``: the echo server as ASGIApp under
    uvicorn, the reference for what must be the same on every server."""
    servers = []

    def start(**options):
        eio = echo_server('asgi', **options)
        server = LiveServer(engineio_fast.ASGIApp(eio)).start()
        server.eio = eio
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()
