"""python-socketio on engineio_fast: install() first, then import socketio.

    python socketio_app.py           # the built-in server, port 5000
    engineio-fast socketio_app:app   # the same from the command line
    uvicorn socketio_app:app         # or uvicorn
"""
import os

import engineio_fast

engineio_fast.install()         # before "import socketio"

import socketio  # noqa: E402

sio = socketio.AsyncServer(async_mode='asgi')
app = socketio.ASGIApp(sio)


@sio.event
async def echo(sid, data):
    return data                 # the acknowledgement


@sio.event
async def chat(sid, text):
    await sio.emit('chat', text, skip_sid=sid)


if __name__ == '__main__':
    engineio_fast.run(app, host='127.0.0.1',
                      port=int(os.environ.get('PORT', 5000)))
