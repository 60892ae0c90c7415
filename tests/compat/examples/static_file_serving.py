import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')

# Define static file mappings
static_files = {
    '/': 'index.html',
    '/static/(.*)': r'static/\1',
    '/assets/(.*)': r'public/assets/\1'
}

# Create ASGI app with static file serving
app = engineio.ASGIApp(eio, static_files=static_files)
