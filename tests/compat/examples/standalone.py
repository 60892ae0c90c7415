import engineio_fast as engineio

# Create Engine.IO server only (no fallback app)
eio = engineio.AsyncServer(async_mode='asgi')

@eio.on('connect')
async def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
async def on_message(sid, data):
    await eio.send(sid, data.upper())

# Create standalone ASGI app
app = engineio.ASGIApp(eio)

# Deploy with any ASGI server
if __name__ == '__main__':
    import uvicorn
    uvicorn.run(app, host='localhost', port=8000)
