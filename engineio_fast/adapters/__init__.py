"""The I/O layers: every adapter that moves bytes between a socket (or a
server framework) and the sans-I/O core in :mod:`engineio_fast.protocol`.

- :mod:`.builtin`: the built-in server (an asyncio Protocol on uvloop and
  httptools; ``engineio_fast.run``, ``engineio-fast module:app``).
- :mod:`.asgi`: Engine.IO requests under any ASGI server (uvicorn, ...);
  :mod:`.asgi_app` is :class:`~engineio_fast.ASGIApp` (routing, static
  files, lifespan).
- :mod:`.wsgi`: the synchronous :class:`~engineio_fast.Server` under WSGI
  servers, in each async mode (threading, eventlet, gevent, gevent_uwsgi).
- :mod:`.clients`: the clients' HTTP/1.1 client, HTTP session adapters and
  TLS socket.

Adapters perform I/O and make no protocol decisions: what to answer, when a
session opens or closes, what a message means, all come from the engine.
"""
