import engineio_fast as engineio

# Create multiple servers for different purposes
chat_server = engineio.Server()
notifications_server = engineio.Server()

@chat_server.on('message')
def on_chat_message(sid, data):
    chat_server.send(sid, f'Chat: {data}')

@notifications_server.on('message')
def on_notification(sid, data):
    notifications_server.send(sid, f'Notification: {data}')

# Create separate middleware for each server
chat_app = engineio.WSGIApp(chat_server, engineio_path='chat')
notifications_app = engineio.WSGIApp(notifications_server, engineio_path='notifications')

# Combine using URL routing (example with Werkzeug)
from werkzeug.wsgi import DispatcherMiddleware

application = DispatcherMiddleware(None, {
    '/chat': chat_app,
    '/notifications': notifications_app
})
