"""The synchronous Server under uWSGI with gevent (see uwsgi.sh)."""
import engineio_fast as engineio

eio = engineio.Server(async_mode='gevent_uwsgi')
app = engineio.WSGIApp(eio)


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)
