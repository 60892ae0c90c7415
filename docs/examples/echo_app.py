"""An Engine.IO echo server: every message goes back to its sender.

    python echo_app.py               # the built-in server, port 5000
    engineio-fast echo_app:app       # the same from the command line
    uvicorn echo_app:app             # or any ASGI server
"""
import os

import engineio_fast as engineio

eio = engineio.AsyncServer()


@eio.on('connect')
def connect(sid, environ):
    print('connect', sid, 'from', environ['REMOTE_ADDR'])


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


@eio.on('disconnect')
def disconnect(sid, reason):
    print('disconnect', sid, reason)


app = engineio.ASGIApp(eio)

if __name__ == '__main__':
    engineio.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
