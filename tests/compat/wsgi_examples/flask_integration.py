import engineio_fast as engineio
from flask import Flask

# Create Flask app
app = Flask(__name__)

# Create Engine.IO server
eio = engineio.Server()

@eio.on('connect')
def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
def on_message(sid, data):
    print(f'Message from {sid}: {data}')
    eio.send(sid, f'Echo: {data}')

@eio.on('disconnect')
def on_disconnect(sid):
    print(f'Client {sid} disconnected')

# Flask routes
@app.route('/')
def index():
    return '<h1>Hello World!</h1>'

@app.route('/api/data')
def get_data():
    return {'message': 'Hello from Flask!'}

# Wrap Flask app with Engine.IO middleware
app = engineio.WSGIApp(eio, app)

if __name__ == '__main__':
    import eventlet
    import eventlet.wsgi
    eventlet.wsgi.server(eventlet.listen(('', 5000)), app)
