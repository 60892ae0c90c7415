"""An app whose workers die at start-up (its lifespan startup exits the
process with status 3): the supervisor's crash-loop handling."""

import os

import engineio_fast as engineio

eio = engineio.AsyncServer()


async def other(scope, receive, send):
    if scope['type'] == 'lifespan':
        await receive()
        os._exit(3)


app = engineio.ASGIApp(eio, other)
