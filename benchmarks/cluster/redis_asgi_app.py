"""forward_bench.py's server: an AsyncServer with the AsyncRedisManager as
an ASGI app for uvicorn (Redis URL from ``REDIS_URL``); echoes messages."""

import os

import engineio_fast

eio = engineio_fast.AsyncServer(
    async_mode='asgi',
    client_manager=engineio_fast.AsyncRedisManager(os.environ['REDIS_URL']))


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


app = engineio_fast.ASGIApp(eio)
