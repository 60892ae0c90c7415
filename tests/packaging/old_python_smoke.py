"""A smoke run for the oldest Pythons the package supports (3.9 and 3.10;
tests/packaging/other_pythons.sh runs it in a venv of each, with the
package installed from its wheel): the built-in server in a child process,
its connect and message handlers coroutines (each starts in a lent Task, the
``eager`` kernel), and the package's own asyncio client on both transports,
then its sync client on polling. Exits non-zero on the first thing wrong.

    python tests/packaging/old_python_smoke.py
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time

APP = '''
import asyncio
import engineio_fast

eio = engineio_fast.AsyncServer(async_mode='asgi', logger=False)


@eio.on('connect')
async def connect(sid, environ):
    # suspends, so the handler ends in the Task it was lent
    await asyncio.sleep(0)
    return environ.get('QUERY_STRING', '').find('deny=1') < 0


@eio.on('message')
async def message(sid, data):
    # where the Task lent to a handler is asked for, as asyncio.timeout()
    # and task groups do
    assert asyncio.current_task() is not None
    await eio.send(sid, 'echo:' + data)
'''


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit('the server exited: %s' % proc.returncode)
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit('the server did not listen in time')


async def echo(url, transport):
    import engineio_fast
    client = engineio_fast.AsyncClient()
    got = asyncio.get_running_loop().create_future()

    @client.on('message')
    def on_message(data):
        if not got.done():
            got.set_result(data)

    await client.connect(url, transports=[transport])
    try:
        assert client.transport() == transport, client.transport()
        await client.send('hi ' + transport)
        reply = await asyncio.wait_for(got, 10)
        assert reply == 'echo:hi ' + transport, reply
    finally:
        await client.disconnect()


async def refused(url):
    import engineio_fast
    client = engineio_fast.AsyncClient()
    try:
        await client.connect(url + '?deny=1', transports=['polling'])
    except engineio_fast.exceptions.ConnectionError:
        return
    await client.disconnect()
    raise AssertionError('a connect handler returning False let it in')


def sync_echo(url):
    import engineio_fast
    client = engineio_fast.Client()
    got = []

    @client.on('message')
    def on_message(data):
        got.append(data)

    client.connect(url, transports=['polling'])
    try:
        client.send('hi sync')
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == ['echo:hi sync'], got
    finally:
        client.disconnect()


def main():
    import engineio_fast
    print('Python %s, engineio_fast %s (%s kernels) from %s' % (
        sys.version.split()[0], engineio_fast.__version__,
        engineio_fast.IMPLEMENTATION, os.path.dirname(engineio_fast.__file__)))
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'smoke_app.py'), 'w') as f:
            f.write(APP)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (tmp, os.environ.get('PYTHONPATH')) if p))
        proc = subprocess.Popen(
            [sys.executable, '-m', 'engineio_fast', 'smoke_app:eio',
             '--host', '127.0.0.1', '--port', str(port), '--no-access-log'],
            cwd=tmp, env=env)
        try:
            wait_port(port, proc, time.monotonic() + 30)
            url = 'http://127.0.0.1:%d' % port
            asyncio.run(echo(url, 'polling'))
            asyncio.run(echo(url, 'websocket'))
            asyncio.run(refused(url))
            sync_echo(url)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print('smoke: polling and websocket echo, refused connect, sync client: ok')


if __name__ == '__main__':
    main()
