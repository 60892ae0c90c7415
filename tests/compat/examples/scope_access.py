# Harness preamble, not part of the documented snippet (which assumes
# an existing `eio`); everything below the marker is verbatim.
import engineio_fast as engineio

eio = engineio.AsyncServer(async_mode='asgi')
app = engineio.ASGIApp(eio)
# --- documented snippet ---
@eio.on('connect')
async def on_connect(sid, environ):
    # Access ASGI scope
    scope = environ.get('asgi', {}).get('scope', {})
    
    # Get request details
    client = scope.get('client', ['unknown', 0])
    headers = dict(scope.get('headers', []))
    query_string = scope.get('query_string', b'').decode()
    
    print(f'Client {sid} connected from {client[0]}:{client[1]}')
    print(f'User-Agent: {headers.get(b"user-agent", b"unknown").decode()}')
    
    # Parse query parameters
    from urllib.parse import parse_qs
    params = parse_qs(query_string)
    
    # Store client info in session
    await eio.save_session(sid, {
        'client_ip': client[0],
        'client_port': client[1],
        'headers': headers,
        'params': params
    })
