"""The synchronous Server on eventlet's WSGI server."""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

import eventlet.wsgi  # noqa: E402

import engineio_fast as engineio  # noqa: E402

eio = engineio.Server(async_mode='eventlet')
app = engineio.WSGIApp(eio)


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


if __name__ == '__main__':
    port = int(os.environ.get('PORT', 5000))
    eventlet.wsgi.server(eventlet.listen(('127.0.0.1', port)), app)
