"""An AsyncServer with the AsyncRedisManager as an ASGI app, for
``uvicorn --workers N tests.cluster_redis.asgi_app:app`` (Redis URL from
``REDIS_URL``): polling requests that land on a worker that does not own
their session are forwarded to the owner through Redis."""

import os

import engineio_fast
from tests.cluster_redis import commands

logger = commands.setup_logging()
eio = engineio_fast.AsyncServer(
    async_mode='asgi', logger=logger,
    client_manager=engineio_fast.AsyncRedisManager(
        os.environ['REDIS_URL'], **commands.manager_options()))


@eio.on('message')
async def message(sid, data):
    await commands.run_async(eio, sid, data)


app = engineio_fast.ASGIApp(eio)
