# django_project/wsgi.py
import os
import engineio_fast as engineio
from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'django_project.settings')

# Get Django WSGI application
django_app = get_wsgi_application()

# Create Engine.IO server
eio = engineio.Server()

@eio.on('connect')
def on_connect(sid, environ):
    print(f'Client {sid} connected')

@eio.on('message')
def on_message(sid, data):
    eio.send(sid, f'Django says: {data}')

# Wrap Django with Engine.IO middleware
application = engineio.WSGIApp(eio, django_app)
