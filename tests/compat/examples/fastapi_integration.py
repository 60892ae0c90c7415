import engineio_fast as engineio
from fastapi import FastAPI

# Create FastAPI app
fastapi_app = FastAPI()

# Create Engine.IO async server
eio = engineio.AsyncServer(async_mode='asgi')

@eio.on('connect')
async def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
async def on_message(sid, data):
    print(f'Message from {sid}: {data}')
    await eio.send(sid, f'Echo: {data}')

@eio.on('disconnect')
async def on_disconnect(sid):
    print(f'Client {sid} disconnected')

# FastAPI routes
@fastapi_app.get('/')
async def root():
    return {'message': 'Hello World'}

@fastapi_app.get('/api/data')
async def get_data():
    return {'message': 'Hello from FastAPI!'}

# Wrap FastAPI app with Engine.IO middleware
app = engineio.ASGIApp(eio, fastapi_app)

if __name__ == '__main__':
    import uvicorn
    uvicorn.run(app, host='0.0.0.0', port=8000)
