# Harness preamble, not part of the documented snippet (which assumes
# an existing `eio`); everything below the marker is verbatim.
import engineio_fast as engineio

eio = engineio.Server()
# --- documented snippet ---
def custom_app(environ, start_response):
    """Custom WSGI app with error handling"""
    try:
        # Application logic here
        response_body = b'Custom response'
        status = '200 OK'
        headers = [('Content-Type', 'text/plain')]
    except Exception as e:
        # Custom error handling
        response_body = f'Error: {str(e)}'.encode()
        status = '500 Internal Server Error'
        headers = [('Content-Type', 'text/plain')]
    
    start_response(status, headers)
    return [response_body]

app = engineio.WSGIApp(eio, custom_app)
