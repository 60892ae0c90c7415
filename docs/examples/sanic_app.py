"""The AsyncServer inside a Sanic application."""
import os

from sanic import Sanic

import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='sanic')
app = Sanic('echo')
eio.attach(app)                     # at /engine.io/


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


if __name__ == '__main__':
    app.run(host='127.0.0.1', port=int(os.environ.get('PORT', 5000)),
            single_process=True, access_log=False)
