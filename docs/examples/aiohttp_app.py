"""The AsyncServer inside an aiohttp application."""
import os

from aiohttp import web

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='aiohttp')
app = web.Application()
eio.attach(app)                     # at /engine.io/


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


if __name__ == '__main__':
    web.run_app(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
