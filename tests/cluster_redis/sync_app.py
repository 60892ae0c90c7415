"""A sync Server with the RedisManager, as a WSGI app for tests.sync.serve
(gunicorn gthread or eventlet): ``tests.cluster_redis.sync_app:app``; the
Redis URL comes from ``REDIS_URL``, the mode from ``EIO_ASYNC_MODE``."""

import os

import engineio_fast
from tests.cluster_redis import commands

logger = commands.setup_logging()
eio = engineio_fast.Server(
    async_mode=os.environ.get('EIO_ASYNC_MODE', 'threading'), logger=logger,
    client_manager=engineio_fast.RedisManager(
        os.environ['REDIS_URL'], **commands.manager_options()))


@eio.on('message')
def message(sid, data):
    commands.run_sync(eio, sid, data)


app = engineio_fast.WSGIApp(eio)
