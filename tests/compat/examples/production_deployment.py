# For production with Uvicorn
import engineio_fast as engineio
from fastapi import FastAPI

app = FastAPI()
eio = engineio.AsyncServer(async_mode='asgi')

# Configure server and handlers...

app = engineio.ASGIApp(eio, app)

# Run with:
# uvicorn app:app --host 0.0.0.0 --port 8000 --workers 1
