"""python-socketio on python-engineio (``app`` for uvicorn)."""
import socketio

from benchmarks.sio.apps.common import build

sio = build(socketio)
if not type(sio.eio).__module__.startswith('engineio.'):
    # ENGINEIO_FAST_AS_ENGINEIO=1 in the environment would switch this app too
    raise RuntimeError('python-socketio is not on python-engineio: %r' % type(sio.eio))
app = socketio.ASGIApp(sio)
