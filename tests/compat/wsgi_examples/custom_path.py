import engineio_fast as engineio

eio = engineio.Server()

# Use custom Engine.IO endpoint
app = engineio.WSGIApp(eio, engineio_path='custom/socket.io')

# Clients should connect to: http://server/custom/socket.io/
