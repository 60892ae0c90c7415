"""What a WSGI server does with the HTTP connection that the handler has
to make up for, so that clients which reuse connections (browsers, Node's
keep-alive agent, undici, curl) get what the JavaScript server's HTTP layer
gives them.

gevent.pywsgi (with or without gevent-websocket's handler) needs two things
that the other WSGI servers do themselves:

- It closes an HTTP/1.1 connection after answering a request that carried
  ``Connection: close`` but does not put ``Connection: close`` in the
  response (RFC 9112 section 9.6 asks for it; Node's HTTP server, Werkzeug,
  gunicorn and eventlet.wsgi send it). A client that reuses a connection
  unless the response says it will close (Node's keep-alive agent under
  node-fetch, which sends that request header) writes its next request into
  the closing socket and gets "socket hang up". gevent honours a
  ``Connection: close`` given by the application, so adding it makes what
  gevent says agree with what it does.
- It sends the status line and headers and then the body with two
  ``sendall`` calls on a socket that keeps Nagle's algorithm on. From the
  second request of a keep-alive connection on, the body waits for the
  client's delayed ACK of the headers: about 40 ms on every polling request.
  Node's HTTP server sets ``TCP_NODELAY`` on each connection; so do we.

This module only performs I/O on the connection; the Engine.IO answers are
the engine's.
"""

import socket

_NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _says_close(value):
    return 'close' in [token.strip() for token in value.lower().split(',')]


def _gevent_socket(environ):
    """The gevent socket of this request's connection, or None."""
    inp = environ.get('wsgi.input')
    sock = getattr(inp, 'socket', None)
    if sock is None:
        rfile = getattr(inp, 'rfile', inp)
        sock = getattr(getattr(rfile, 'raw', None), '_sock', None)
    return sock if hasattr(sock, 'setsockopt') else None


def _announcing_close(start_response):
    def start(status, headers, exc_info=None):
        headers.append(('Connection', 'close'))
        return start_response(status, headers, exc_info)
    return start


def prepare(environ, start_response):
    """Make the WSGI server's connection handling fit reusing clients.

    Under gevent.pywsgi, switches Nagle's algorithm off on the connection
    and, when the request asked for the connection to be closed, makes the
    response say so; under every other WSGI server it does nothing.

    Args:
        environ: the WSGI environ of the request.
        start_response: the WSGI server's ``start_response``.

    Returns:
        The ``start_response`` to answer this request with: the server's
        own, or a wrapper that adds ``Connection: close`` to the headers.
    """
    if 'uwsgi.version' in environ or \
            not environ.get('SERVER_SOFTWARE', '').startswith('gevent'):
        return start_response
    sock = _gevent_socket(environ)
    if sock is not None:
        try:
            sock.setsockopt(*_NODELAY)
        except OSError:
            pass    # not TCP (a unix socket)
    said = environ.get('HTTP_CONNECTION')
    if said and _says_close(said):
        return _announcing_close(start_response)
    return start_response
