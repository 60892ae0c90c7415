"""python-socketio's AsyncServer(async_mode='aiohttp'|'sanic'|'tornado') on
engineio_fast (``engineio_fast.install()``), mounted the way its
documentation says (``sio.attach(app)``, ``socketio.get_tornado_handler``),
with python-socketio's own AsyncClient connecting with auth, emitting with
an ack both ways, over polling, websocket and the upgrade. Each framework
runs in a fresh interpreter: the switch is process-wide and must come
before ``import socketio``."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import FRAMEWORKS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

SCRIPT = textwrap.dedent('''
    import engineio_fast
    engineio_fast.install()

    import asyncio, json, socket, sys
    import socketio

    kind = sys.argv[1]
    sio = socketio.AsyncServer(async_mode=kind)

    @sio.event
    async def connect(sid, environ, auth):
        return auth == {'token': 't'}

    @sio.event
    async def shout(sid, text):
        got = await sio.call('whisper', text.lower(), to=sid, timeout=5)
        return text.upper() + '/' + got

    def listening_socket():
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        sock.listen(100)
        sock.setblocking(False)
        return sock

    async def start():
        sock = listening_socket()
        port = sock.getsockname()[1]
        if kind == 'aiohttp':
            from aiohttp import web
            app = web.Application()
            sio.attach(app)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            return port, runner.cleanup
        if kind == 'sanic':
            from sanic import Sanic
            app = Sanic('sio_on_engineio_fast')
            sio.attach(app)
            server = await app.create_server(
                sock=sock, return_asyncio_server=True, access_log=False)
            await server.startup()
            await server.before_start()
            await server.after_start()

            async def stop():
                await server.before_stop()
                await server.close()
                await server.after_stop()
            return port, stop
        import tornado.httpserver, tornado.web
        app = tornado.web.Application(
            [(r'/socket.io/', socketio.get_tornado_handler(sio))])
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([sock])

        async def stop():
            await sio.shutdown()
            server.stop()
            await server.close_all_connections()
        return port, stop

    async def one_client(port, transports):
        client = socketio.AsyncClient()

        @client.event
        def whisper(text):
            return text + '!'

        await asyncio.wait_for(client.connect(
            'http://127.0.0.1:%d' % port, auth={'token': 't'},
            transports=transports), 10)
        answer = await client.call('shout', 'Hi', timeout=5)
        if transports == ['polling', 'websocket']:
            for _ in range(200):        # the upgrade, bounded
                if client.transport() == 'websocket':
                    break
                await asyncio.sleep(0.025)
            answer += ' ' + await client.call('shout', 'Up', timeout=5)
        transport = client.transport()
        await client.disconnect()
        return answer, transport

    async def main():
        port, stop = await start()
        results = {}
        try:
            for transports in (['polling'], ['websocket'],
                               ['polling', 'websocket']):
                results['+'.join(transports)] = await one_client(
                    port, transports)
            refused = socketio.AsyncClient()
            try:
                await asyncio.wait_for(refused.connect(
                    'http://127.0.0.1:%d' % port, auth={'token': 'x'}), 10)
                results['refused'] = False
            except socketio.exceptions.ConnectionError:
                results['refused'] = True
        finally:
            await stop()
        return results

    results = asyncio.run(main())
    files = sorted({getattr(m, '__file__', None) or ''
                    for m in list(sys.modules.values()) if m is not None})
    print(json.dumps({
        'results': results,
        'async_mode': sio.async_mode,
        'server_engine': type(sio.eio).__module__,
        'files': files,
    }))
''')


@pytest.mark.parametrize('kind', FRAMEWORKS)
def test_python_socketio_on_engineio_fast(kind):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop('ENGINEIO_FAST_AS_ENGINEIO', None)
    out = subprocess.run([sys.executable, '-c', SCRIPT, kind],
                         capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    results = report['results']
    assert results['polling'] == ['HI/hi!', 'polling']
    assert results['websocket'] == ['HI/hi!', 'websocket']
    assert results['polling+websocket'] == ['HI/hi! UP/up!', 'websocket']
    assert results['refused'] is True
    assert report['async_mode'] == kind
    assert report['server_engine'].startswith('engineio_fast.')
    # no module of python-engineio was loaded
    engineio_dir = os.sep + 'engineio' + os.sep
    assert not [f for f in report['files'] if engineio_dir in f], \
        report['files']
