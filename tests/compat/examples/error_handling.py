# Harness preamble, not part of the documented snippet (which assumes
# an existing `eio`); everything below the marker is verbatim.
import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')
# --- documented snippet ---
from fastapi import FastAPI, HTTPException
from fastapi.exception_handlers import http_exception_handler

fastapi_app = FastAPI()

@fastapi_app.exception_handler(HTTPException)
async def custom_http_exception_handler(request, exc):
    """Custom HTTP exception handler"""
    print(f'HTTP exception: {exc.detail}')
    return await http_exception_handler(request, exc)

app = engineio.ASGIApp(eio, fastapi_app)
