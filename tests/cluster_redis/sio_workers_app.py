"""python-socketio with its own pub/sub Redis manager
(``socketio.AsyncRedisManager``) on the built-in server's workers::

    REDIS_URL=redis://... engineio-fast \
        tests.cluster_redis.sio_workers_app:sio --workers 4
    REDIS_URL=redis://... python -m tests.cluster_redis.sio_workers_app \
        --workers 4 --port P      # engineio_fast.run(sio, workers=4)

Events (default namespace): ``whoami`` (acknowledged with the worker's node
id, pid and the manager's host id), ``join ROOM``, ``put SID ROOM`` (SID,
maybe another worker's, enters ROOM), ``to_room ROOM DATA`` (event
``room``), ``bcast DATA`` (event ``all``), ``to_sid SID DATA`` (event
``direct``), ``ask SID DATA`` (``sio.call('question', DATA, to=SID)``,
acknowledged with the answer or ``'timeout'``), ``kick SID``
(``sio.disconnect(SID)``). ``SIO_LOG=1``: python-socketio's whole log on stderr
(its warnings always).
"""

import logging
import os
import sys
import time

import engineio_fast

engineio_fast.install()

import socketio  # noqa: E402

from engineio_fast.cluster import node  # noqa: E402

# python-socketio's warnings (an unknown callback, a publish that failed)
# on stderr, where the test reads them; everything with SIO_LOG=1
logger = logging.getLogger('sio_workers')
handler = logging.StreamHandler(sys.stderr)
# python-socketio puts the Redis exception in the record, not the message
handler.setFormatter(logging.Formatter('%(message)s %(redis_exception)s',
                                       defaults={'redis_exception': ''}))
logger.addHandler(handler)
logger.setLevel(logging.INFO if os.environ.get('SIO_LOG') == '1'
                else logging.WARNING)
sio = socketio.AsyncServer(
    async_mode='asgi', logger=logger,
    client_manager=socketio.AsyncRedisManager(
        os.environ['REDIS_URL'], channel='sio-workers'))


@sio.on('whoami')
async def whoami(sid):
    return {'node': node.node_id(), 'pid': os.getpid(),
            'host_id': sio.manager.host_id}


@sio.on('join')
async def join(sid, room):
    await sio.enter_room(sid, room)
    return True


@sio.on('put')
async def put(sid, target, room):
    await sio.enter_room(target, room)
    return True


@sio.on('to_room')
async def to_room(sid, room, data):
    await sio.emit('room', data, to=room)


@sio.on('bcast')
async def bcast(sid, data):
    await sio.emit('all', data)


@sio.on('to_sid')
async def to_sid(sid, target, data):
    await sio.emit('direct', data, to=target)


@sio.on('ask')
async def ask(sid, target, data):
    t0 = time.monotonic()
    try:
        return await sio.call('question', data, to=target, timeout=5)
    except socketio.exceptions.TimeoutError:
        logger.warning('ask %s of %s on node %s (pid %d): no answer in '
                       '%.1f s', data, target, node.node_id(), os.getpid(),
                       time.monotonic() - t0)
        return 'timeout'


@sio.on('kick')
async def kick(sid, target):
    await sio.disconnect(target)


if __name__ == '__main__':
    from tests.cluster.run_main import run_from_command_line
    run_from_command_line(sio)
