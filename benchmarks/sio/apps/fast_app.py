"""python-socketio on engineio_fast, switched the documented way: ``engineio_fast.install()``
before ``import socketio`` (engineio_fast/switch.py).

* ``app``: ``socketio.ASGIApp(sio)``, for uvicorn and, once ``engineio-fast module:app`` accepts
  a python-socketio app, for the built-in server;
* ``eio_app``: an engineio_fast ``ASGIApp`` around ``sio.eio`` at ``/socket.io/``, which the
  built-in server serves today (``benchmarks/sio/serve_builtin.py`` picks one of the two).
"""
import engineio_fast

engineio_fast.install()

import engineio  # noqa: E402  (engineio_fast, through the switch)
import socketio  # noqa: E402

from benchmarks.sio.apps.common import build  # noqa: E402

sio = build(socketio)
if not type(sio.eio).__module__.startswith('engineio_fast.'):
    raise RuntimeError('python-socketio is not on engineio_fast: %r' % type(sio.eio))
app = socketio.ASGIApp(sio)
eio_app = engineio.ASGIApp(sio.eio, engineio_path='socket.io')
