"""The soak's app (benchmarks/soak.py): the benchmark echo app with
heartbeats every 5 s and a 5 s ping timeout (a session whose client
vanished ends within about 10 s), and ``GET /stats``: what the server holds
now (sessions, asyncio tasks, timer-heap entries, threads), as JSON, to show
that nothing is left behind once the clients are gone."""

import asyncio
import json
import threading

import engineio_fast

eio = engineio_fast.AsyncServer(
    async_mode='asgi', ping_interval=5, ping_timeout=5,
    max_http_buffer_size=1_000_000, http_compression=False,
    cors_allowed_origins='*', logger=False)


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


def stats():
    engine = eio._engine
    names = sorted(_name(t) for t in asyncio.all_tasks())
    # '_carry': the eager starter's idle carrier Task (engineio_fast/_eager),
    # kept to lend the next handler: one, reused, not one per session
    carriers = names.count('_carry')
    return {'sessions': len(engine.sessions), 'closing': len(engine.closing),
            'timers': len(engine.timers), 'tasks': len(names) - carriers,
            'idle_carriers': carriers, 'threads': threading.active_count(),
            'task_names': names}


def _name(task):
    coro = task.get_coro()
    return getattr(coro, '__qualname__', None) or repr(coro)[:60]


async def stats_app(scope, receive, send):
    if scope['type'] == 'lifespan':
        while True:
            event = await receive()
            kind = event['type'].rsplit('.', 1)[1]
            await send({'type': 'lifespan.%s.complete' % kind})
            if kind == 'shutdown':
                return
    body = json.dumps(stats()).encode()
    status = 200 if scope.get('path') == '/stats' else 404
    await send({'type': 'http.response.start', 'status': status,
                'headers': [(b'content-type', b'application/json'),
                            (b'content-length', str(len(body)).encode())]})
    await send({'type': 'http.response.body', 'body': body})


app = engineio_fast.ASGIApp(eio, other_asgi_app=stats_app)
