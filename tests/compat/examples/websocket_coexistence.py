import engineio_fast as engineio
from fastapi import FastAPI, WebSocket
from fastapi.websockets import WebSocketDisconnect

fastapi_app = FastAPI()
eio = engineio.AsyncServer(async_mode='asgi')

@eio.on('connect')
async def on_engineio_connect(sid, environ):
    print(f'Engine.IO client {sid} connected')

@fastapi_app.websocket('/ws')
async def websocket_endpoint(websocket: WebSocket):
    """Native FastAPI WebSocket endpoint"""
    await websocket.accept()
    try:
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(f'FastAPI WebSocket echo: {data}')
    except WebSocketDisconnect:
        print('FastAPI WebSocket client disconnected')

# Both Engine.IO and native WebSockets work together
app = engineio.ASGIApp(eio, fastapi_app)
