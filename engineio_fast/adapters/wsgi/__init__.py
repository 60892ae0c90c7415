"""Drivers of the synchronous :class:`engineio_fast.Server`: the async modes
(threading, eventlet, gevent, gevent_uwsgi), the per-server service (one
timer and a writer of last resort), and the WSGI request and websocket
handling on top of the sans-I/O engine."""
