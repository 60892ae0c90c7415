# Harness preamble, not part of the documented snippet (which assumes
# an existing `eio`); everything below the marker is verbatim.
import engineio_fast as engineio

eio = engineio.Server()
app = engineio.WSGIApp(eio)
# --- documented snippet ---
@eio.on('connect')
def on_connect(sid, environ):
    # Access request information
    remote_addr = environ.get('REMOTE_ADDR')
    user_agent = environ.get('HTTP_USER_AGENT')
    request_method = environ.get('REQUEST_METHOD')
    query_string = environ.get('QUERY_STRING')
    
    print(f'Client {sid} connected from {remote_addr}')
    print(f'User-Agent: {user_agent}')
    
    # Parse query parameters
    from urllib.parse import parse_qs
    params = parse_qs(query_string)
    
    # Store client info in session
    eio.save_session(sid, {
        'remote_addr': remote_addr,
        'user_agent': user_agent,
        'params': params
    })
