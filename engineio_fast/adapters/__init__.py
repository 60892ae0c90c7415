"""The I/O layers: every adapter that moves bytes between a socket (or a
server framework) and the sans-I/O core in :mod:`engineio_fast.protocol`.

- :mod:`.builtin`: the built-in server (an asyncio Protocol on uvloop and
  httptools; ``engineio_fast.run``, ``engineio-fast module:app``).
- :mod:`.asgi`: Engine.IO requests under any ASGI server (uvicorn, ...);
  :mod:`.asgi_app` is :class:`~engineio_fast.ASGIApp` (routing, static
  files, lifespan).
- :mod:`.frameworks`: the AsyncServer inside aiohttp, Sanic and Tornado.
  These and :mod:`.asgi` get whole requests and websocket messages from a
  framework and share :mod:`.aio` (the request exchange, the parked GET,
  the websocket session).
- :mod:`.wsgi`: the synchronous :class:`~engineio_fast.Server` under WSGI
  servers, in each async mode (threading, eventlet, gevent, gevent_uwsgi).
  ``handler.py`` is the adapter; ``service.py`` (heartbeat timer, writer of
  last resort), ``dispatch.py`` (handler pool) and ``modes.py`` (threads or
  greenlets) are the sync server's own machinery, used through its driver.
- :mod:`.clients`: the clients' HTTP/1.1 client, HTTP session adapters and
  TLS socket.

Adapters perform I/O and make no protocol decisions: what to answer, when a
session opens or closes, what a message means, all come from the engine.

The driver interface
--------------------
An adapter reads ONE attribute of a server, ``server.driver``, and uses
only what is listed here (nothing else of the server, no private name).

``driver.engine`` is the :class:`~engineio_fast.protocol.engine.Engine`. An
adapter may call, with ``now`` from ``driver.now()`` (asyncio) or
``time.monotonic()`` (sync, under ``driver.lock`` or through
``driver.call``):

- ``handle_http(req, now)`` for every Engine.IO request, with a
  :class:`~engineio_fast.protocol.http.Request` built from the server's
  request; it returns an ``Outcome``. ``outcome.events`` go to the
  handlers first. Then, by ``outcome.kind``:

  - ``RESPOND``: write ``outcome.response``.
  - ``CONNECT``: run the connect handler (``driver.connect`` /
    ``driver.handshake``), then ``driver.complete`` (or ``handshake``)
    gives the final Outcome: ``RESPOND`` (the polling handshake, or the
    401 of a refusal on either transport) or ``WEBSOCKET``; write or
    accept it, THEN dispatch its ``events`` (the disconnect of a session
    closed while its handler ran: it comes after the connect handler).
  - ``WAIT``: park the GET. Set ``session.poll_waker`` (a zero-argument
    callable; the engine clears it when it calls it) and, each time it is
    called, ask ``take_poll(session, req, jsonp)`` for the response (None:
    park again). If the client leaves while parked, call
    ``poll_lost(session, now)`` and dispatch its events; if the adapter
    gives up for any other reason, ``poll_aborted(session)``.
  - ``WEBSOCKET``: accept the websocket (101) and run ``outcome.link``:
    set ``link.waker``; when it is called, write the items of
    ``ws_take(link)`` (str: a text frame, bytes: a binary frame), then, if
    ``link.closing``, send a close frame with ``link.close_code`` (None: a
    close frame without a status; ASGI, which cannot say that, sends
    1000) and close. Hand every message received to
    ``ws_receive(link, data, now)`` and dispatch the events it returns;
    when the socket closes, ``ws_closed(link, now, error)``.

- ``post_lost(req, now)`` when a POST's connection ends before its body
  did (the engine ends the session; its ``response`` is for the logs).
- ``config.max_http_buffer_size`` (the body limit to read up to; a body
  over it is read no further and marked ``req.too_large``),
  ``policy.error(req, code)`` (an error response for a request the adapter
  cannot hand to the engine, e.g. a broken websocket handshake).

``AsyncServer.driver`` (:class:`~engineio_fast.async_server.AsyncDriver`),
for ASGI and the built-in server, adds:

- ``now()``: the loop's clock; ``fire(events)``: start their handlers
  now, eagerly; returns a Task that the next event of that connection must
  wait for (a handler that must end first), else None;
  ``await dispatch(events)``: fire and wait for that Task;
  ``spawn(coro)``: a tracked Task.
- ``connect(out, req)``: start the connect handler eagerly; returns the
  verdict, or a Task to pass to ``verdict(task)`` once done;
  ``complete(out, req, verdict)``: the final Outcome;
  ``await handshake(out, req)``: both, for adapters that can await.
- ``logger``, ``per_message_deflate``, ``await shutdown()``.

``Server.driver`` (:class:`~engineio_fast.server.SyncDriver`), for WSGI,
adds:

- ``lock`` (guards the engine), ``call(fn, *args, alive=None,
  settle=0.0)``: call an engine method under the lock, then write the
  websockets it woke and run the handlers of the events it returned
  (``alive``: the reading thread waits while its session has too many
  events queued; ``settle``: it waits up to that long for their handlers
  to have run, as a POST does before its answer);
  ``handshake(out, req, environ)``: run the connect handler in this thread
  and complete the handshake.
- ``ensure_service()`` (first thing on every request), ``woke(conn)`` (a
  link's waker, under the lock: ``conn.flush()`` after it is released),
  ``watch(conn)`` (the service task finishes ``conn.out`` and kills it at
  ``conn.kill_at``), ``mode`` (``Event``, ``Lock``, ``sleep``, ``green``),
  ``logger``, ``per_message_deflate``, ``ws_close_timeout``.
"""
