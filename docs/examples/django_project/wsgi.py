"""Django's WSGI application with the Engine.IO server in front of it."""
import os

from django.core.wsgi import get_wsgi_application

import engineio_fast as engineio

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'django_project.settings')

eio = engineio.Server(async_mode='threading')
application = engineio.WSGIApp(eio, get_wsgi_application())


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)
