"""Mistakes a type checker must catch in a user's program.

``tests/packaging/test_typing.py`` runs ``mypy --strict`` on this file
(never run) and expects, on each line marked ``# E: text``, an error whose
message contains ``text`` (several markers, two spaces apart: several
errors), and no error on any other line.
"""

from typing import Any

import engineio_fast as engineio
from engineio_fast.packet import MESSAGE, Packet
from engineio_fast.payload import Payload

server = engineio.Server(async_mode='threading')
eio = engineio.AsyncServer()

# send() takes a str sid and the data
server.send(123)  # E: Missing positional argument "data"  # E: type "int"; expected "str"
server.send('sid', 3.5)  # E: Argument 2 to "send" of "Server" has incompatible type "float"
server.send('sid', None)  # E: Argument 2 to "send" of "Server" has incompatible type "None"
nothing: int = server.send('sid', 'x')  # E: does not return a value


@eio.on('message')
async def message(sid: str, data: Any) -> None:
    eio.send(sid, data)  # E: must be used
    await eio.send(sid)  # E: Missing positional argument "data"
    print(await eio.send(sid, 'x'))  # E: does not return a value
    eio.get_session(sid)['user'] = 'u'  # E: "Coroutine[Any, Any, dict[str, Any]]"
    with eio.session(sid) as session:  # E: __enter__  # E: __exit__
        print(session)


# the decorator gives the handler back, with its own signature
pending = message(1, 'data')  # E: Argument 1 to "message" has incompatible type "int"; expected "str"
# registering with on(event, handler) returns nothing
eio.on('message', print)('x')  # E: "None" not callable

# each server goes with its own middleware
engineio.WSGIApp(eio)  # E: Argument 1 to "WSGIApp" has incompatible type "AsyncServer"
engineio.ASGIApp(server)  # E: Argument 1 to "ASGIApp" has incompatible type "Server"

# options have their types
engineio.Server(ping_timeout='20')  # E: Argument "ping_timeout" to "Server" has incompatible type "str"
engineio.AsyncServer(cors_allowed_origins=3)  # E: Argument "cors_allowed_origins" to "AsyncServer" has incompatible type "int"

client = engineio.Client()
client.send()  # E: Missing positional argument "data" in call to "send" of "Client"
client.connect(5000)  # E: Argument 1 to "connect" of "Client" has incompatible type "int"; expected "str"


async def use_async_client() -> None:
    ac = engineio.AsyncClient()
    ac.connect('http://127.0.0.1:5000')  # E: must be used
    await ac.send(1.5)  # E: Argument 1 to "send" of "AsyncClient" has incompatible type "float"


Packet(MESSAGE).encode(b64='yes')  # E: Argument "b64" to "encode" of "Packet" has incompatible type "str"; expected "bool"
Payload(encoded_payload=5)  # E: Argument "encoded_payload" to "Payload" has incompatible type "int"
