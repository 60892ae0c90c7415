"""The server of workers_bench.py: an AsyncServer with
engineio_fast.AsyncRedisManager, served by the built-in server's workers::

    REDIS_URL=redis://... engineio-fast workers_redis_app:eio --workers 4

(run from benchmarks/cluster/). Messages: ``lat SID TEXT`` sends
``L<TEXT>`` to SID (whichever worker owns it); ``bb N`` broadcasts ``B0``
.. ``B<N-1>`` to every session of every worker.
"""

import os

import engineio_fast

eio = engineio_fast.AsyncServer(
    client_manager=engineio_fast.AsyncRedisManager(os.environ['REDIS_URL']))


@eio.on('message')
async def message(sid, data):
    if data.startswith('lat '):
        _, target, text = data.split(' ', 2)
        await eio.send(target, 'L' + text)
    elif data.startswith('bb '):
        for i in range(min(int(data[3:]), 100000)):
            await eio.broadcast('B%d' % i)
