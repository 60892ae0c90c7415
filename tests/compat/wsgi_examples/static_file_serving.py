import engineio_fast as engineio

eio = engineio.Server()

# Define static file mappings
static_files = {
    '/': 'index.html',
    '/static/(.*)': r'static/\1',
    '/images/(.*)': r'assets/images/\1'
}

# Create WSGI app with static file serving
app = engineio.WSGIApp(eio, static_files=static_files)
