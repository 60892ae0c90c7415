"""forward_bench.py's sync server: a Server (threading) with the
RedisManager as a WSGI app for gunicorn (Redis URL from ``REDIS_URL``);
echoes messages."""

import os

import engineio_fast

eio = engineio_fast.Server(
    async_mode='threading',
    client_manager=engineio_fast.RedisManager(os.environ['REDIS_URL']))


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


app = engineio_fast.WSGIApp(eio)
