"""Engine.IO metrics in an application's own Prometheus registry, served
beside the Engine.IO endpoint by prometheus_client's ASGI app.

    python metrics_app.py            # the built-in server, port 5000
    uvicorn metrics_app:app          # or any ASGI server
"""
import os

from prometheus_client import REGISTRY, make_asgi_app

import engineio_fast as engineio
from engineio_fast.metrics import EngineCollector

eio = engineio.AsyncServer()


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


# counts from now on; several servers: EngineCollector({'chat': a, 'feed': b})
REGISTRY.register(EngineCollector(eio))

# /engine.io/ goes to eio, every other path to the registry's exposition
app = engineio.ASGIApp(eio, other_asgi_app=make_asgi_app())

if __name__ == '__main__':
    engineio.run(app, host='127.0.0.1', port=int(os.environ.get('PORT', 5000)))
