"""The ASGI HTTP bridge of the built-in server.

Requests off the Engine.IO path are handed to the :class:`ASGIApp` (its
static files, the other ASGI app it wraps, or its 404) as ASGI ``http``
scopes, so a FastAPI or Starlette app keeps working on our server; and the
app's lifespan runs at startup and shutdown.
"""

import asyncio
from typing import Any, Optional, Tuple, cast

from .wire import plain, status_line

# a lifespan step's result: (completed, message)
_Step = asyncio.Future[Tuple[bool, str]]


async def run_http(proto, r):
    """Run ``proto.ctx.asgi_app`` for the parsed request ``r``.

    Writes the response to ``proto``'s transport honouring flow control.
    Returns True when the connection may be kept alive.
    """
    ctx = proto.ctx
    loop = ctx.loop
    scope = proto.scope(r)
    body = b''.join(r.body)
    head = r.method == 'HEAD'
    state = {'body_sent': False, 'started': False, 'done': False,
             'chunked': False, 'keep': r.keep_alive}
    gone = loop.create_future()
    proto.bridge_gone = gone

    async def receive():
        if not state['body_sent']:
            state['body_sent'] = True
            return {'type': 'http.request', 'body': body, 'more_body': False}
        if not state['done'] and not proto.closed:
            await gone
        return {'type': 'http.disconnect'}

    async def send(message):
        if proto.closed:
            return
        kind = message['type']
        transport = proto.transport
        if kind == 'http.response.start':
            if state['started']:
                raise RuntimeError('response already started')
            state['started'] = True
            status = int(message['status'])
            headers = list(message.get('headers', ()))
            names = {bytes(n).lower() for n, _ in headers}
            lines = [status_line(status)]
            for name, value in headers:
                lines.append(bytes(name) + b': ' + bytes(value) + b'\r\n')
            if b'content-length' not in names and not head and \
                    status >= 200 and status not in (204, 304):
                if r.http_version == '1.1':
                    state['chunked'] = True
                    lines.append(b'transfer-encoding: chunked\r\n')
                else:
                    state['keep'] = False
            if not state['keep']:
                lines.append(b'connection: close\r\n')
            lines.append(b'\r\n')
            transport.write(b''.join(lines))
            if ctx.access_log is not None:
                proto.log_access(r, status)
        elif kind == 'http.response.body':
            if not state['started'] or state['done']:
                raise RuntimeError('body sent out of order')
            data = message.get('body', b'')
            more = message.get('more_body', False)
            if not head:
                if state['chunked']:
                    if data:
                        transport.write(b'%x\r\n%s\r\n' % (len(data), data))
                    if not more:
                        transport.write(b'0\r\n\r\n')
                elif data:
                    transport.write(data)
            if not more:
                state['done'] = True
            await proto.drain()

    try:
        await ctx.asgi_app(scope, receive, send)
    except Exception:
        ctx.driver.logger.exception('error in ASGI app for %s', r.path)
        if not state['started'] and not proto.closed:
            proto.transport.write(plain(500))
        return False
    finally:
        proto.bridge_gone = None
        if not gone.done():
            gone.set_result(None)
    if not state['started']:
        if not proto.closed:
            proto.transport.write(plain(500))
        return False
    return state['done'] and state['keep']


class Lifespan:
    """Drives an ASGI app's lifespan protocol."""

    def __init__(self, app, logger):
        self.app = app
        self.logger = logger
        self.inbox: asyncio.Queue[Any] = asyncio.Queue(maxsize=2)
        self.startup: Optional[_Step] = None
        self.shutdown: Optional[_Step] = None
        self.task: Optional[asyncio.Task[None]] = None
        self.supported = True

    async def start(self, timeout=30.0):
        loop = asyncio.get_running_loop()
        startup = self.startup = loop.create_future()
        self.shutdown = loop.create_future()
        task = self.task = loop.create_task(self._run())
        await self.inbox.put({'type': 'lifespan.startup'})
        done, _ = await asyncio.wait([startup, task],
                                     timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if startup.done():
            ok, message = startup.result()
            if not ok:
                raise RuntimeError('application startup failed: %s'
                                   % message)
        elif task.done():
            self.supported = False   # the app does not speak lifespan
        else:
            raise RuntimeError('application startup timed out')

    async def stop(self, timeout=10.0):
        if not self.supported or self.task is None or self.task.done():
            return
        await self.inbox.put({'type': 'lifespan.shutdown'})
        shutdown = cast('asyncio.Future[Any]', self.shutdown)    # (started)
        await asyncio.wait([shutdown, self.task], timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)

    async def _run(self):
        scope = {'type': 'lifespan',
                 'asgi': {'version': '3.0', 'spec_version': '2.0'},
                 'state': {}}
        startup = cast(_Step, self.startup)     # (set by start())
        shutdown = cast(_Step, self.shutdown)

        async def send(message):
            kind = message['type']
            if kind.startswith('lifespan.startup.') and \
                    not startup.done():
                startup.set_result((kind.endswith('complete'),
                                    message.get('message', '')))
            elif kind.startswith('lifespan.shutdown.') and \
                    not shutdown.done():
                shutdown.set_result((kind.endswith('complete'),
                                     message.get('message', '')))

        try:
            await self.app(scope, self.inbox.get, send)
        except Exception:
            if startup.done():
                self.logger.exception('error in ASGI lifespan')
