"""A FastAPI app with an Engine.IO server mounted at /ws (so the Engine.IO
endpoint is /ws/engine.io/); every other route is FastAPI's.

    python fastapi_app.py            # uvicorn, port 5000
    engineio-fast fastapi_app:app    # or the built-in server
"""
import os

import uvicorn
from fastapi import FastAPI

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')
app = FastAPI()
app.mount('/ws', engineio.ASGIApp(eio))


@app.get('/hello')
async def hello():
    return {'hello': 'world'}


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


if __name__ == '__main__':
    uvicorn.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
