"""The one python-socketio benchmark app, on engineio_fast or on python-engineio.

Behaviour (identical for every target, including the Node server in ``node_server.mjs``):

* every client joins the room ``all`` when it connects (namespace ``/``);
* ``echo``: the handler returns its argument, which python-socketio sends back as the ack of
  the client's emit (``42<id>["echo",data]`` -> ``43<id>[data]``);
* ``bcast``: the server emits ``b`` with the same argument to the room ``all``
  (``42["bcast",text]`` -> ``42["b",text]`` to every client, the sender included);
* everything else at python-socketio's defaults, which are also the Node server's: ping interval
  25 s and timeout 20 s (no heartbeat inside a measurement window), max payload 1,000,000 bytes,
  ``async_handlers=True`` (each event handler runs in its own task), no compression negotiated
  (the load generator offers none).
"""

ROOM = 'all'


def build(socketio):
    """Return a python-socketio ``AsyncServer`` with the benchmark's handlers."""
    sio = socketio.AsyncServer(async_mode='asgi', logger=False, engineio_logger=False)

    @sio.event
    async def connect(sid, environ, auth=None):
        await sio.enter_room(sid, ROOM)

    @sio.event
    async def echo(sid, data):
        return data

    @sio.event
    async def bcast(sid, data):
        await sio.emit('b', data, room=ROOM)

    return sio
