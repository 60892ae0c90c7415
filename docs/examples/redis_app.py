"""One chat over many processes or hosts: each message is broadcast to
every session of every server that shares the Redis.

    pip install "engineio-fast[redis]"
    REDIS_URL=redis://redis-host:6379/0 engineio-fast redis_app:app
"""
import os

import engineio_fast as engineio

manager = engineio.AsyncRedisManager(
    os.environ.get('REDIS_URL', 'redis://127.0.0.1:6379/0'))
eio = engineio.AsyncServer(client_manager=manager)
app = engineio.ASGIApp(eio)


@eio.on('message')
async def message(sid, data):
    await eio.broadcast(data)
