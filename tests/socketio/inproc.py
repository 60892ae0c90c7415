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


def run_script(folder, source, *args, env=None, timeout=120):
    """Run ``source`` (a Python script) in a fresh interpreter, from
    ``folder``, with the repository importable and ``env`` added to the
    environment (engineio_fast's own switch variable left out); returns the
    JSON of its last line of output. A failing script fails the test with
    its stderr."""
    import json
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    script = folder / 'script.py'
    script.write_text(source)
    full = dict(os.environ, PYTHONPATH=root, **(env or {}))
    full.pop('ENGINEIO_FAST_AS_ENGINEIO', None)
    proc = subprocess.run([sys.executable, str(script)] + list(args),
                          env=full, capture_output=True, text=True,
                          timeout=timeout, cwd=str(folder))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr
