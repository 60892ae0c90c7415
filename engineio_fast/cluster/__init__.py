"""Scale-out: more than one process serving one Engine.IO service.

- ``node``: which process owns a session (every sid starts with the id of
  the process that minted it).
- ``workers``: the built-in server's supervisor and its worker processes on
  one port (``engineio-fast app --workers N``,
  ``engineio_fast.run(app, workers=N)``); ``handoff``: how a worker passes
  a connection to the sibling that owns its session.
- ``manager``: the client managers' interface and the in-process managers
  every server has by default (``eio.manager``).
- ``redis_relay``: the Redis managers' decisions without I/O, and the
  delivery guarantee; ``redis_manager`` (``AsyncRedisManager``) and
  ``redis_sync`` (``RedisManager``) perform them; ``redis_forward``
  forwards polling requests to the worker that owns their session (servers
  we do not own: uvicorn, gunicorn).
"""
