"""An app that says who its clients are (tests/proxy): the message
``whoami`` is answered with the JSON of the connect handler's
``REMOTE_ADDR`` and ``wsgi.url_scheme`` for that session; other messages
are echoed. ``app`` (an ASGIApp) for the built-in server and uvicorn."""

import json

import engineio_fast

eio = engineio_fast.AsyncServer(cors_allowed_origins='*')
seen = {}


@eio.on('connect')
def connect(sid, environ):
    seen[sid] = {'addr': environ.get('REMOTE_ADDR'),
                 'scheme': environ.get('wsgi.url_scheme')}


@eio.on('message')
async def message(sid, data):
    if data == 'whoami':
        await eio.send(sid, json.dumps(seen.get(sid)))
    else:
        await eio.send(sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    seen.pop(sid, None)


app = engineio_fast.ASGIApp(eio)
