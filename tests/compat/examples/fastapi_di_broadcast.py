import engineio_fast as engineio
from fastapi import FastAPI, Depends
from typing import Optional

# Create FastAPI app
fastapi_app = FastAPI()
eio = engineio.AsyncServer(async_mode='asgi')

# Dependency for accessing Engine.IO server
def get_engineio_server():
    return eio

@fastapi_app.post('/broadcast')
async def broadcast_message(
    message: str,
    eio_server: engineio.AsyncServer = Depends(get_engineio_server)
):
    """Broadcast message to all connected clients"""
    # Get all connected clients
    # Note: This is a simplified example - actual implementation
    # would need to track connected clients
    for sid in eio_server.manager.get_participants('/'):
        await eio_server.send(sid, message)
    
    return {'status': 'broadcasted', 'message': message}

@eio.on('connect')
async def on_connect(sid, environ):
    print(f'Client {sid} connected')

# Wrap with Engine.IO
app = engineio.ASGIApp(eio, fastapi_app)
