"""The server of redis_bench.py: an AsyncServer with the AsyncRedisManager
on the built-in server.

    PYTHONPATH=. python benchmarks/cluster/redis_app.py --redis URL --port P

Messages: ``lat SID TEXT`` sends ``L<TEXT>`` to SID (in whichever process
owns it); ``bb N`` broadcasts ``B0`` .. ``B<N-1>``.
"""

import argparse

import engineio_fast


def make_app(url):
    eio = engineio_fast.AsyncServer(
        async_mode='asgi',
        client_manager=engineio_fast.AsyncRedisManager(url))

    @eio.on('message')
    async def message(sid, data):
        if data.startswith('lat '):
            _, target, text = data.split(' ', 2)
            await eio.send(target, 'L' + text)
        elif data.startswith('bb '):
            for i in range(min(int(data[3:]), 100000)):
                await eio.broadcast('B%d' % i)

    return eio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--redis', required=True)
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    engineio_fast.run(make_app(args.redis), host='127.0.0.1', port=args.port)


if __name__ == '__main__':
    main()
