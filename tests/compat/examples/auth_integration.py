import engineio_fast as engineio
from fastapi import FastAPI, HTTPException, Depends
from fastapi.security import HTTPBearer, HTTPAuthorizationCredentials

fastapi_app = FastAPI()
eio = engineio.AsyncServer(async_mode='asgi')
security = HTTPBearer()

async def verify_token(credentials: HTTPAuthorizationCredentials = Depends(security)):
    """Verify JWT token"""
    token = credentials.credentials
    # Add your token verification logic here
    if token != 'valid-token':
        raise HTTPException(status_code=401, detail='Invalid token')
    return token

@eio.on('connect')
async def on_connect(sid, environ):
    # Access authentication info from ASGI scope
    headers = dict(environ.get('asgi', {}).get('scope', {}).get('headers', []))
    auth_header = headers.get(b'authorization', b'').decode()
    
    if not auth_header.startswith('Bearer '):
        await eio.disconnect(sid)
        return
    
    # Store authenticated session
    token = auth_header[7:]  # Remove 'Bearer ' prefix
    await eio.save_session(sid, {'token': token, 'authenticated': True})
    print(f'Authenticated client {sid} connected')

@fastapi_app.get('/protected')
async def protected_route(token: str = Depends(verify_token)):
    return {'message': 'This is a protected route', 'token': token}

app = engineio.ASGIApp(eio, fastapi_app)
