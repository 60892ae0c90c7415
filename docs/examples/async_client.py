"""The asyncio client: the same with coroutines."""
import asyncio
import os

import engineio_fast as engineio


async def main():
    url = os.environ.get('SERVER_URL', 'http://127.0.0.1:5000')
    answered = asyncio.Event()
    eio = engineio.AsyncClient()

    @eio.on('message')
    async def message(data):
        print('got', data)
        answered.set()

    await eio.connect(url, transports=['websocket'])
    await eio.send('hello')
    await asyncio.wait_for(answered.wait(), timeout=10)
    await eio.disconnect()


asyncio.run(main())
