"""The synchronous Server on gevent's pywsgi (websockets work without
gevent-websocket)."""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

from gevent import pywsgi  # noqa: E402

import engineio_fast as engineio  # noqa: E402

eio = engineio.Server(async_mode='gevent')
app = engineio.WSGIApp(eio)


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


if __name__ == '__main__':
    port = int(os.environ.get('PORT', 5000))
    pywsgi.WSGIServer(('127.0.0.1', port), app).serve_forever()
