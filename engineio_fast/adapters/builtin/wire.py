"""HTTP/1.1 response bytes for the built-in server.

With the compiled kernels this module is its compiled twin (this source
built by Cython, setup.py's TWINS; its names replace these at the end of
the module): every response the server writes is rendered here.
"""

from typing import Dict, Tuple

from ... import _accel

REASONS = {100: b'Continue', 101: b'Switching Protocols', 200: b'OK',
           400: b'Bad Request', 401: b'Unauthorized', 403: b'Forbidden',
           404: b'Not Found', 405: b'Method Not Allowed',
           408: b'Request Timeout',
           413: b'Payload Too Large', 414: b'URI Too Long',
           417: b'Expectation Failed', 429: b'Too Many Requests',
           431: b'Request Header Fields Too Large',
           500: b'Internal Server Error', 503: b'Service Unavailable'}


def status_line(status):
    line = _STATUS_LINES.get(status)
    if line is None:
        line = b'HTTP/1.1 %d %s\r\n' % (status,
                                         REASONS.get(status, b'Unknown'))
    return line


_STATUS_LINES = {status: b'HTTP/1.1 %d %s\r\n' % (status, reason)
                 for status, reason in REASONS.items()}

# header lines already rendered, for the headers every response repeats
# (Content-Type, the CORS ones); bounded, and never the per-session
# Set-Cookie
_LINES: Dict[Tuple[str, str], bytes] = {}
_MAX_LINES = 256


def header_line(name, value):
    """``name: value`` and CRLF, in latin-1."""
    key = (name, value)
    line = _LINES.get(key)
    if line is None:
        line = b'%s: %s\r\n' % (name.encode('latin-1'),
                                 value.encode('latin-1'))
        if len(_LINES) < _MAX_LINES and name != 'Set-Cookie':
            _LINES[key] = line
    return line


# the status line and header lines of the responses every poll repeats
# (the same status and headers), rendered once; bounded, and never with a
# Set-Cookie
_HEADS: Dict[tuple, bytes] = {}
_MAX_HEADS = 256


def render_response(status, headers, body, keep_alive):
    """Serialise a response with Content-Length into one bytes object.

    ``headers`` is a list of ``(str, str)`` pairs.
    """
    key = (status, *headers)
    head = _HEADS.get(key)
    if head is None:
        head = status_line(status) + b''.join(
            [header_line(name, value) for name, value in headers])
        if len(_HEADS) < _MAX_HEADS and \
                all(name != 'Set-Cookie' for name, _ in headers):
            _HEADS[key] = head
    if keep_alive:
        return b'%scontent-length: %d\r\n\r\n%s' % (head, len(body), body)
    return b'%scontent-length: %d\r\nconnection: close\r\n\r\n%s' % (
        head, len(body), body)


def plain(status, keep_alive=False):
    """A short text/plain response naming the status."""
    return render_response(status, [('Content-Type', 'text/plain')],
                           REASONS.get(status, b'Error'), keep_alive)


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
