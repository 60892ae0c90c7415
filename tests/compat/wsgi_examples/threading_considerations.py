import engineio_fast as engineio

# Configure for threading mode
eio = engineio.Server(async_mode='threading')

@eio.on('message')
def on_message(sid, data):
    # Handler will run in a separate thread
    import time
    time.sleep(1)  # Blocking operations are OK
    eio.send(sid, 'Response after delay')

app = engineio.WSGIApp(eio)
