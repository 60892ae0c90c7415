"""An AsyncServer with the AsyncRedisManager on the built-in server:

    python -m tests.cluster_redis.async_app --redis URL --port P
"""

import argparse

import engineio_fast
from tests.cluster_redis import commands


def make_app(url):
    logger = commands.setup_logging()
    eio = engineio_fast.AsyncServer(
        async_mode='asgi', logger=logger,
        client_manager=engineio_fast.AsyncRedisManager(
            url, **commands.manager_options()))

    @eio.on('message')
    async def message(sid, data):
        await commands.run_async(eio, sid, data)

    return eio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--redis', required=True)
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    engineio_fast.run(make_app(args.redis), host='127.0.0.1', port=args.port)


if __name__ == '__main__':
    main()
