"""The one benchmark app, built on either engineio_fast or python-engineio.

Behaviour (identical for every target, including the Node server in
``node_server.mjs``):

* every message (text or binary) is echoed back to its sender;
* a text message ``"bcast:<text>"`` makes the server send ``<text>`` to every
  connected sid (the sender included);
* heartbeats at the defaults (25 s interval, 20 s timeout), so they never fire
  inside a measurement window;
* ``max_http_buffer_size`` 1,000,000 (room for 64 KiB messages);
* HTTP compression of polling responses off; websocket permessage-deflate is
  never offered by the load generator and is switched off in uvicorn.
"""


def build(engineio):
    """Return ``(eio, app)``: an AsyncServer and its ASGIApp."""
    eio = engineio.AsyncServer(
        async_mode='asgi',
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        http_compression=False,
        cors_allowed_origins='*',
        logger=False,
    )
    sids = {}

    @eio.on('connect')
    async def connect(sid, environ):
        sids[sid] = None

    @eio.on('disconnect')
    async def disconnect(sid, *reason):
        sids.pop(sid, None)

    @eio.on('message')
    async def message(sid, data):
        if data.__class__ is str and data.startswith('bcast:'):
            text = data[6:]
            for other in list(sids):
                await eio.send(other, text)
        else:
            await eio.send(sid, data)

    return eio, engineio.ASGIApp(eio)
