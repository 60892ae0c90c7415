"""The built-in server's workers with engineio_fast.AsyncRedisManager
(the app object is made at import, as a user's module would)::

    REDIS_URL=redis://... engineio-fast tests.cluster_redis.workers_app:eio \
        --workers 4
"""

import os

import engineio_fast
from tests.cluster_redis import commands

logger = commands.setup_logging()
eio = engineio_fast.AsyncServer(
    logger=logger,
    client_manager=engineio_fast.AsyncRedisManager(
        os.environ['REDIS_URL'], **commands.manager_options()))


@eio.on('message')
async def message(sid, data):
    await commands.run_async(eio, sid, data)


if __name__ == '__main__':
    # python -m tests.cluster_redis.workers_app --workers N --port P:
    # engineio_fast.run(eio, workers=N), the object forked into each worker
    from tests.cluster.run_main import run_from_command_line
    run_from_command_line(eio)
