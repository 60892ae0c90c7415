"""A python-engineio application, moved to engineio_fast by its import
line alone."""
import os

import engineio_fast as engineio  # was: import engineio

eio = engineio.AsyncServer(async_mode='asgi', ping_interval=25,
                           ping_timeout=20)
app = engineio.ASGIApp(eio)


@eio.on('connect')
async def connect(sid, environ):
    print('connect from', environ['REMOTE_ADDR'])


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


@eio.on('disconnect')
async def disconnect(sid, reason):       # a one-argument handler works too
    print(sid, 'left:', reason)


if __name__ == '__main__':
    import uvicorn  # as before: any ASGI server
    uvicorn.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
