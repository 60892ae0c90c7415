"""An app for the command-line flag tests (tests/io/test_builtin_cli_flags.py):

    python -m engineio_fast tests.io.cli_app:app
    python -m engineio_fast tests.io.cli_app:create_app --factory

Requests off the Engine.IO path are answered with what the app sees as
JSON: the ASGI scope's ``root_path`` and ``path``, the connect handler's
last environ ``SCRIPT_NAME``, and the ``CLI_APP_*`` environment variables
as they were when the module was imported (for ``--env-file``).
"""

import json
import os

import engineio_fast as engineio

# read at import: --env-file must be loaded before
ENV_AT_IMPORT = {k: v for k, v in os.environ.items()
                 if k.startswith('CLI_APP_')}

# the app's own ping options, which --ws-ping-interval/-timeout override;
# max_http_buffer_size smaller than --ws-max-size's default
eio = engineio.AsyncServer(ping_interval=25, ping_timeout=20,
                           max_http_buffer_size=4096)
seen = {}


@eio.on('connect')
def connect(sid, environ):
    seen['script_name'] = environ.get('SCRIPT_NAME')


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


async def show(scope, receive, send):
    if scope['type'] == 'lifespan':
        while True:
            kind = (await receive())['type']
            await send({'type': kind + '.complete'})
            if kind == 'lifespan.shutdown':
                return
    body = json.dumps({'root_path': scope.get('root_path'),
                       'path': scope['path'],
                       'raw_path': scope['raw_path'].decode('latin-1'),
                       'script_name': seen.get('script_name'),
                       'env': ENV_AT_IMPORT,
                       'factory_calls': calls}).encode()
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'application/json')]})
    await send({'type': 'http.response.body', 'body': body})


app = engineio.ASGIApp(eio, other_asgi_app=show)
calls = 0


def create_app():
    """The app factory (--factory)."""
    global calls
    calls += 1
    return app


not_callable = 42
