"""What the built-in server serves (engineio_fast.adapters.builtin.apps):
the Engine.IO server and its full path found in an AsyncServer, an ASGIApp,
or a Starlette/FastAPI app with one mounted, and the refusals. python-socketio
apps, which need the switch in a fresh interpreter, are served for real in
tests/socketio/test_serve.py."""

import engineio
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

import engineio_fast
from engineio_fast.adapters.builtin.apps import resolve_app


def test_bare_server_at_engine_io():
    eio = engineio_fast.AsyncServer()
    assert resolve_app(eio) == (eio, None, '/engine.io/')


@pytest.mark.parametrize('path, full', [
    ('engine.io', '/engine.io/'), ('/rt/', '/rt/'), ('/', '/'),
    (None, None)])
def test_asgi_app_at_its_path(path, full):
    eio = engineio_fast.AsyncServer()
    app = engineio_fast.ASGIApp(eio, engineio_path=path)
    assert resolve_app(app) == (eio, app, full)


@pytest.mark.parametrize('mount, path, full', [
    ('/', 'engine.io', '/engine.io/'),
    ('/ws', 'engine.io', '/ws/engine.io/'),
    ('/ws/', 'socket.io', '/ws/socket.io/'),
    # the app names its full path (python-socketio's advice under
    # Starlette >= 0.33): kept
    ('/ws', '/ws/socket.io', '/ws/socket.io/'),
    ('/socket.io', 'socket.io', '/socket.io/'),
    ('/ws', None, '/ws/'),
])
def test_mounted_in_fastapi(mount, path, full):
    eio = engineio_fast.AsyncServer()
    api = FastAPI()

    @api.get('/hello')
    def hello():
        return 'hi'

    api.mount(mount, engineio_fast.ASGIApp(eio, engineio_path=path))
    assert resolve_app(api) == (eio, api, full)


def test_nested_mounts_behind_middleware():
    eio = engineio_fast.AsyncServer()
    inner = Starlette(routes=[Mount('/b', CORSMiddleware(
        engineio_fast.ASGIApp(eio), allow_origins=['*']))])
    outer = Starlette(routes=[Mount('/a', inner)])
    assert resolve_app(outer) == (eio, outer, '/a/b/engine.io/')
    wrapped = CORSMiddleware(outer, allow_origins=['*'])
    assert resolve_app(wrapped) == (eio, wrapped, '/a/b/engine.io/')


def test_asgi_app_in_front_of_fastapi():
    eio = engineio_fast.AsyncServer()
    app = engineio_fast.ASGIApp(eio, other_asgi_app=FastAPI(),
                                engineio_path='rt')
    assert resolve_app(app) == (eio, app, '/rt/')


def test_two_engines_are_refused():
    api = FastAPI()
    api.mount('/a', engineio_fast.ASGIApp(engineio_fast.AsyncServer()))
    api.mount('/b', engineio_fast.ASGIApp(engineio_fast.AsyncServer()))
    with pytest.raises(TypeError, match='serves one Engine.IO server; .* '
                       'holds 2 .at /a/engine.io/, /b/engine.io/.'):
        resolve_app(api)


def test_mount_with_parameters_is_refused():
    api = Starlette(routes=[Mount('/{room}', engineio_fast.ASGIApp(
        engineio_fast.AsyncServer()))])
    with pytest.raises(TypeError, match="mounted under '/{room}'"):
        resolve_app(api)


@pytest.mark.parametrize('make', [
    lambda: engineio_fast.Server(async_mode='threading'),
    lambda: engineio_fast.WSGIApp(engineio_fast.Server(
        async_mode='threading')),
])
def test_sync_server_is_refused(make):
    with pytest.raises(TypeError, match='is a synchronous Engine.IO server'
                       '.*WSGI server'):
        resolve_app(make())


@pytest.mark.parametrize('make', [
    lambda: engineio.AsyncServer(async_mode='asgi'),
    lambda: engineio.ASGIApp(engineio.AsyncServer(async_mode='asgi')),
    lambda: mounted(engineio.ASGIApp(engineio.AsyncServer(
        async_mode='asgi'))),
])
def test_python_engineio_server_says_how_to_switch(make):
    assert engineio is not engineio_fast    # python-engineio itself
    with pytest.raises(TypeError, match=r'runs on python-engineio '
                       r'\(engineio.async_server.AsyncServer\), not '
                       r'engineio_fast.*call engineio_fast.install\(\) '
                       r'before "import socketio"'):
        resolve_app(make())


def mounted(app):
    api = FastAPI()
    api.mount('/ws', app)
    return api


@pytest.mark.parametrize('obj', [None, 42, FastAPI(), object()])
def test_anything_else_is_refused(obj):
    with pytest.raises(TypeError, match='expected an engineio_fast.'
                       'AsyncServer, a python-socketio AsyncServer'):
        resolve_app(obj)


def test_split_app_is_resolve_app_without_the_path():
    # serve.split_app stays: benchmarks/sio/serve_builtin.py asks it whether
    # the CLI accepts an app
    from engineio_fast.adapters.builtin.serve import split_app
    eio = engineio_fast.AsyncServer()
    api = mounted(engineio_fast.ASGIApp(eio))
    assert split_app(api) == (eio, api)
    assert split_app(eio) == (eio, None)
    with pytest.raises(TypeError, match='expected an engineio_fast'):
        split_app(FastAPI())
