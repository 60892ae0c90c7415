"""HTTP/1.1 response bytes for the built-in server."""

REASONS = {100: b'Continue', 101: b'Switching Protocols', 200: b'OK',
           400: b'Bad Request', 401: b'Unauthorized', 403: b'Forbidden',
           404: b'Not Found', 405: b'Method Not Allowed',
           408: b'Request Timeout',
           413: b'Payload Too Large', 414: b'URI Too Long',
           417: b'Expectation Failed',
           431: b'Request Header Fields Too Large',
           500: b'Internal Server Error', 503: b'Service Unavailable'}


def status_line(status):
    return b'HTTP/1.1 %d %s\r\n' % (status, REASONS.get(status, b'Unknown'))


def render_response(status, headers, body, keep_alive):
    """Serialise a response with Content-Length into one bytes object.

    ``headers`` is a list of ``(str, str)`` pairs.
    """
    parts = [status_line(status)]
    for name, value in headers:
        parts.append(b'%s: %s\r\n' % (name.encode('latin-1'),
                                      value.encode('latin-1')))
    parts.append(b'content-length: %d\r\n' % len(body))
    if not keep_alive:
        parts.append(b'connection: close\r\n')
    parts.append(b'\r\n')
    parts.append(body)
    return b''.join(parts)


def plain(status, keep_alive=False):
    """A short text/plain response naming the status."""
    return render_response(status, [('Content-Type', 'text/plain')],
                           REASONS.get(status, b'Error'), keep_alive)
