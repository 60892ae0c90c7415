# For production, use a proper WSGI server
import engineio_fast as engineio
from flask import Flask

app = Flask(__name__)
eio = engineio.Server(async_mode='eventlet')

# ... configure server and handlers ...

app = engineio.WSGIApp(eio, app)

# Deploy with Gunicorn + eventlet workers
# gunicorn --worker-class eventlet -w 1 --bind 0.0.0.0:5000 app:app
