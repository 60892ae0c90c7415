"""A user's program, annotated as a user of engineio_fast annotates one.

``tests/packaging/test_typing.py`` type-checks it with ``mypy --strict``
against the package found on the path as an installed one (its own errors
silenced, its py.typed read): every call below must type-check as written,
with no ``Any`` creeping in where the API promises a type. It is never run.
"""

import asyncio
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from fastapi import FastAPI
from flask import Flask

import engineio_fast as engineio
from engineio_fast.exceptions import ConnectionError, EngineIOError
from engineio_fast.packet import MESSAGE, Packet
from engineio_fast.payload import Payload

# -- an asyncio server with its handlers, behind an ASGIApp ------------------

eio = engineio.AsyncServer(cors_allowed_origins=['https://example.com'],
                           ping_interval=(25, 5), ping_timeout=20,
                           cookie={'name': 'io', 'path': '/'},
                           logger=True, transports=['websocket'])


@eio.on('connect')
async def connect(sid: str, environ: Dict[str, Any]) -> Optional[bool]:
    async with eio.session(sid) as session:
        session['user'] = environ.get('HTTP_X_USER', 'anonymous')
    return True


@eio.on('message')
async def message(sid: str, data: Any) -> None:
    await eio.send(sid, 'text')
    await eio.send(sid, b'\x00\x01')
    await eio.send(sid, {'echo': data})
    await eio.send(sid, [1, 2, 3])
    session: Dict[str, Any] = await eio.get_session(sid)
    session['seen'] = True
    await eio.save_session(sid, session)
    transport: str = eio.transport(sid)
    await eio.send_packet(sid, Packet(MESSAGE, transport))


def disconnect(sid: str, reason: str) -> None:
    print(sid, 'left:', reason == eio.reason.CLIENT_DISCONNECT)


eio.on('disconnect', disconnect)

# the decorator gives the handler back as it was
handler: Callable[[str, Any], Any] = message

api = FastAPI()
app = engineio.ASGIApp(eio, other_asgi_app=api,
                       static_files={'/': 'index.html'},
                       on_startup=lambda: print('up'))


async def ticker() -> None:
    while True:
        await eio.sleep(1.5)
        await eio.disconnect()


task: 'asyncio.Future[Any]' = eio.start_background_task(ticker)
queue: 'asyncio.Queue[Any]' = eio.create_queue()
event: asyncio.Event = eio.create_event()
sid: str = eio.generate_id()


async def stop() -> None:
    await eio.shutdown()


# -- the synchronous server with WSGIApp (Flask behind it) ------------------

server = engineio.Server(async_mode='threading', async_handlers=False,
                         max_http_buffer_size=10_000)
flask_app = Flask(__name__)
wsgi = engineio.WSGIApp(server, flask_app, static_files={
    '/static': './public',
    '/': {'filename': 'index.html', 'content_type': 'text/html'}})
legacy = engineio.Middleware(server)


@server.on('message')
def on_message(sid: str, data: Any) -> None:
    server.send(sid, 'pong')
    with server.session(sid) as session:
        session['count'] = session.get('count', 0) + 1
    server.disconnect(sid)


def plain_wsgi(environ: Dict[str, Any],
               start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'hello']


other = engineio.WSGIApp(server, plain_wsgi)
body: Iterable[bytes] = other({'PATH_INFO': '/'}, lambda *a: None)
thread: Any = server.start_background_task(print, 'in the background')
server.sleep(0.1)
server.shutdown()

# -- the clients ------------------------------------------------------------

client = engineio.Client(request_timeout=10, ssl_verify=False)


@client.on('message')
def got(data: Any) -> None:
    client.send({'got': data})


@client.on('disconnect')
def gone(reason: str) -> None:
    print('disconnected:', reason == client.reason.SERVER_DISCONNECT)


try:
    client.connect('http://127.0.0.1:5000', headers={'X-User': 'u'},
                   transports=['polling', 'websocket'])
except ConnectionError as exc:
    print('refused:', exc.args)
current: Optional[str] = client.transport()
client.send('hello')
client.wait()
client.disconnect()


async def use_async_client() -> None:
    ac = engineio.AsyncClient(logger=False)

    @ac.on('message')
    async def on_data(data: Any) -> None:
        await ac.send(b'binary reply')

    try:
        await ac.connect('ws://127.0.0.1:5000', transports='websocket',
                         engineio_path='/engine.io/')
    except EngineIOError:
        return
    await ac.send([1, 2])
    await ac.sleep(0.5)
    await ac.disconnect()
    await ac.wait()


# -- packets and payloads -----------------------------------------------------

pkt = Packet(MESSAGE, {'a': 1})
encoded: Union[str, bytes] = pkt.encode(b64=True)
decoded = Packet(encoded_packet='4hello')
ptype: int = decoded.packet_type
payload = Payload([pkt, Packet(MESSAGE, b'\x01')])
text: str = payload.encode()
again = Payload(encoded_payload=text)
packets: List[Packet] = again.packets

if __name__ == '__main__':
    engineio.run(app, host='127.0.0.1', port=5000)
