import eventlet
eventlet.monkey_patch()

import engineio_fast as engineio

# Eventlet mode for high concurrency
eio = engineio.Server(async_mode='eventlet')

@eio.on('message')
def on_message(sid, data):
    # Use eventlet.sleep for non-blocking delays
    eventlet.sleep(1)
    eio.send(sid, 'Eventlet response')

app = engineio.WSGIApp(eio)

# Run with eventlet WSGI server
eventlet.wsgi.server(eventlet.listen(('', 5000)), app)
