"""``python -m tests.socketio.shapes_client < targets.json``: python-socketio's
AsyncClient, on python-engineio (this process makes no switch: a peer that
is not ours), against each server of tests/socketio/test_serve.py.

stdin: ``[{"name", "url", "path", "api"}]``; stdout: one JSON object, name ->
``{"refused": connect_error data, "hello": the hello ack, "transport",
"api": [status, body of GET /hello]}`` (or ``{"error": text}``).
"""

import asyncio
import json
import sys

import httpx
import socketio

WAIT = 10


async def refused(url, path):
    client = socketio.AsyncClient(reconnection=False)
    errors = []

    @client.event
    def connect_error(data):
        errors.append(data)

    try:
        await client.connect(url, socketio_path=path, auth={'token': 'bad'},
                             wait_timeout=WAIT)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        await client.disconnect()
        return 'connected'
    return errors


async def hello(url, path):
    client = socketio.AsyncClient(reconnection=False)

    @client.event
    def question(text):
        return text.upper() + '!'

    await client.connect(url, socketio_path=path, auth={'token': 'ok'},
                         wait_timeout=WAIT)
    try:
        answer = await client.call('hello', 'hi', timeout=WAIT)
        transport = client.transport()
    finally:
        await client.disconnect()
    return answer, transport


async def one(target):
    out = {}
    try:
        out['refused'] = await asyncio.wait_for(
            refused(target['url'], target['path']), 2 * WAIT)
        out['hello'], out['transport'] = await asyncio.wait_for(
            hello(target['url'], target['path']), 2 * WAIT)
        async with httpx.AsyncClient(timeout=WAIT) as http:
            r = await http.get(target['url'] + '/hello')
            out['api'] = [r.status_code, r.text]
    except Exception as exc:
        out['error'] = repr(exc)
    return target['name'], out


async def main():
    targets = json.load(sys.stdin)
    results = await asyncio.gather(*(one(t) for t in targets))
    print(json.dumps(dict(results)))


if __name__ == '__main__':
    asyncio.run(main())
