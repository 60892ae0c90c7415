import engineio_fast as engineio

# Create Engine.IO server only (no fallback app)
eio = engineio.Server()

@eio.on('connect')
def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
def on_message(sid, data):
    eio.send(sid, data.upper())

# Create standalone WSGI app
app = engineio.WSGIApp(eio)

# Deploy with any WSGI server
if __name__ == '__main__':
    from wsgiref.simple_server import make_server
    
    server = make_server('localhost', 8000, app)
    print('Server running on http://localhost:8000')
    server.serve_forever()
