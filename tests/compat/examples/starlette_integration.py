import engineio_fast as engineio
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

# Create Engine.IO async server
eio = engineio.AsyncServer(async_mode='asgi')

@eio.on('connect')
async def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
async def on_message(sid, data):
    await eio.send(sid, f'Starlette says: {data}')

# Starlette routes
async def homepage(request):
    return JSONResponse({'message': 'Hello Starlette'})

async def api_endpoint(request):
    return JSONResponse({'data': 'API response'})

starlette_app = Starlette(routes=[
    Route('/', homepage),
    Route('/api', api_endpoint),
])

# Wrap with Engine.IO middleware
app = engineio.ASGIApp(eio, starlette_app)
