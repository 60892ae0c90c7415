"""python-socketio with its own Redis manager, on the built-in workers
(see socketio_workers.sh): each worker imports this module after the fork,
so each has its own manager."""
import os

import engineio_fast

engineio_fast.install()          # before "import socketio"

import socketio  # noqa: E402

sio = socketio.AsyncServer(
    async_mode='asgi',
    client_manager=socketio.AsyncRedisManager(
        os.environ.get('REDIS_URL', 'redis://127.0.0.1:6379/0')))


@sio.event
async def echo(sid, data):
    return data


@sio.event
async def chat(sid, text):
    await sio.emit('chat', text)          # every client of every worker
