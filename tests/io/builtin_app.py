"""Apps the CLI and shutdown tests serve in a subprocess:

    python -m engineio_fast tests.io.builtin_app:app    (an ASGIApp)
    python -m engineio_fast tests.io.builtin_app:eio    (the AsyncServer)

Handler calls are appended, one line each, to the file named by
``$BUILTIN_APP_LOG`` (when set) so the test can see what ran.
"""

import gc
import os

import engineio_fast as engineio

LOG = os.environ.get('BUILTIN_APP_LOG')

eio = engineio.AsyncServer(ping_interval=25, ping_timeout=20)


def log(*words):
    if LOG:
        with open(LOG, 'a') as f:
            f.write(' '.join(str(w) for w in words) + '\n')
            f.flush()


@eio.on('connect')
def connect(sid, environ):
    log('connect', sid)


@eio.on('message')
async def message(sid, data):
    if data == 'gc-frozen':      # how many objects the collector skips
        return await eio.send(sid, 'frozen %d' % gc.get_freeze_count())
    await eio.send(sid, data)


@eio.on('disconnect')
async def disconnect(sid, reason):
    log('disconnect', sid, reason)


async def hello(scope, receive, send):
    """A tiny ASGI app behind the ASGIApp."""
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            kind = message['type']
            log(kind)
            await send({'type': kind + '.complete'})
            if kind == 'lifespan.shutdown':
                return
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'text/plain')]})
    await send({'type': 'http.response.body',
                'body': b'hello from ' + scope['path'].encode()})


app = engineio.ASGIApp(eio, other_asgi_app=hello)

not_an_app = {'this': 'is a dict'}
