"""A WSGI app serving static files, for the real WSGI servers of
tests/sync/servers.py (imported by tests/sync/serve.py after any monkey
patching). ``STATIC_ROOT`` names the folder served under ``/static``;
``STATIC_FOLLOW=1`` makes that rule follow symbolic links; ``/`` is the
folder's ``page.html`` by an exact rule; ``/_health`` answers ``ok``."""

import os

import engineio_fast
from tests.abuse.static_rules import rules

ROOT = os.environ['STATIC_ROOT']
eio = engineio_fast.Server(async_mode=os.environ['EIO_ASYNC_MODE'])


def _fallback(environ, start_response):
    if environ.get('PATH_INFO') == '/_health':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'Not Found']


app = engineio_fast.WSGIApp(
    eio, _fallback,
    static_files=rules(ROOT, os.environ.get('STATIC_FOLLOW') == '1'))
