"""The AsyncServer in a Tornado application: a handler class for its
route."""
import asyncio
import os

import tornado.web

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='tornado')


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


async def main():
    app = tornado.web.Application(
        [(r'/engine.io/', engineio.get_tornado_handler(eio))])
    app.listen(int(os.environ.get('PORT', 5000)), address='127.0.0.1')
    try:
        await asyncio.Event().wait()        # until cancelled
    finally:
        await eio.shutdown()


if __name__ == '__main__':
    asyncio.run(main())
