import engineio_fast as engineio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware

# Create multiple servers
chat_server = engineio.AsyncServer(async_mode='asgi')
notifications_server = engineio.AsyncServer(async_mode='asgi')

@chat_server.on('message')
async def on_chat_message(sid, data):
    await chat_server.send(sid, f'Chat: {data}')

@notifications_server.on('message')
async def on_notification(sid, data):
    await notifications_server.send(sid, f'Notification: {data}')

# Create separate ASGI apps
chat_app = engineio.ASGIApp(chat_server, engineio_path='chat')
notifications_app = engineio.ASGIApp(notifications_server, engineio_path='notifications')

# Custom routing middleware
class MultiEngineIOMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        if request.url.path.startswith('/chat/'):
            # Route to chat server
            return await chat_app(request.scope, request.receive, request._send)
        elif request.url.path.startswith('/notifications/'):
            # Route to notifications server
            return await notifications_app(request.scope, request.receive, request._send)
        else:
            return await call_next(request)

main_app = Starlette(middleware=[
    Middleware(MultiEngineIOMiddleware)
])
