"""uvicorn inside the running event loop, for the scripts that the
python-socketio tests run in a fresh interpreter (the switch must come
before ``import socketio``, so these apps cannot run in pytest's)."""

import asyncio


async def start_uvicorn(app):
    """Serve the ASGI ``app`` on a free port of 127.0.0.1; returns its URL
    and a coroutine function that stops it."""
    import uvicorn
    config = uvicorn.Config(app, host='127.0.0.1', port=0,
                            log_level='warning', lifespan='off')
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    port = server.servers[0].sockets[0].getsockname()[1]

    async def stop():
        server.should_exit = True
        await asyncio.wait_for(task, 10)
    return 'http://127.0.0.1:%d' % port, stop
