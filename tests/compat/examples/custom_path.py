import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')

# Use custom Engine.IO endpoint
app = engineio.ASGIApp(eio, engineio_path='realtime/socket')

# Clients should connect to: ws://server/realtime/socket/
