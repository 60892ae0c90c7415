"""Static file rules shared by the ASGI and WSGI applications.

A static file configuration is a dictionary of mapping rules:

* ``'/': 'latency.html'`` -- an exact URL mapped to one file;
* ``'/static': './public'`` -- a URL prefix mapped to a folder, so that
  ``/static/css/x.css`` is served from ``./public/css/x.css``;
* a value may be a dictionary ``{'filename': ..., 'content_type': ...}`` to
  force a content type;
* the empty key ``''`` names the file served for URLs that end in ``/``
  (``index.html`` when absent), as a string or as a dictionary.

When several prefixes match, the longest one wins. Prefixes only match on
path segment boundaries, so ``/static`` does not match ``/staticfoo``.
Requests that try to leave a configured folder (``..`` segments, also
percent-encoded, empty segments that would make the path absolute,
backslashes, NUL bytes) match nothing.

This module only computes names; it never touches the file system. The
caller decides whether the resulting file exists.
"""

import mimetypes
import os
import stat
from typing import IO, Any, Dict, Optional, Tuple
from urllib.parse import unquote

#: a static file configuration (see above): URL or prefix to a file name,
#: a folder, or ``{'filename': ..., 'content_type': ...}``
StaticFiles = Dict[str, Any]

#: what :func:`resolve` finds: ``{'filename': ..., 'content_type': ...}``
StaticFile = Dict[str, str]

DEFAULT_FILENAME = 'index.html'
DEFAULT_CONTENT_TYPE = 'application/octet-stream'

#: Extensions recognised without consulting :mod:`mimetypes`, as documented
#: in the user guide (and what python-engineio sends for them).
CONTENT_TYPES = {
    'css': 'text/css',
    'gif': 'image/gif',
    'html': 'text/html',
    'jpg': 'image/jpeg',
    'js': 'application/javascript',
    'json': 'application/json',
    'png': 'image/png',
    'txt': 'text/plain',
}

_FORBIDDEN_SEGMENTS = ('', '.', '..')


def content_type_for(filename: str) -> str:
    """Guess the content type of a file from its name.

    The user guide's table is consulted first, then the standard library's
    :mod:`mimetypes`. Names that :mod:`mimetypes` reports as compressed
    (``.gz``, ``.bz2``...) and unknown names get
    ``application/octet-stream``.

    Args:
        filename (str): the file name or path.

    Returns:
        str: the content type.
    """
    base = filename.rsplit('/', 1)[-1]
    if '.' in base:
        ext = base.rsplit('.', 1)[1].lower()
        if ext in CONTENT_TYPES:
            return CONTENT_TYPES[ext]
        guessed, encoding = mimetypes.guess_type(base, strict=False)
        if guessed and encoding is None:
            return guessed
    return DEFAULT_CONTENT_TYPE


def validate(static_files: Optional[StaticFiles]) -> StaticFiles:
    """Check the shape of a static file configuration.

    Args:
        static_files (dict): the configuration, or ``None``.

    Returns:
        dict: the configuration (an empty dict for ``None``).

    Raises:
        ValueError: if it is not a dictionary, or a key is not a string, or
            a value is neither a string nor a dictionary with a string
            ``filename`` (and optionally a string ``content_type``).
    """
    if static_files is None:
        return {}
    if not isinstance(static_files, dict):
        raise ValueError('static_files must be a dictionary')
    for key, value in static_files.items():
        if not isinstance(key, str):
            raise ValueError(f'static_files key {key!r} is not a string')
        if isinstance(value, str):
            continue
        if not isinstance(value, dict) or \
                not isinstance(value.get('filename'), str) or \
                not isinstance(value.get('content_type', ''), str):
            raise ValueError(
                f'static_files[{key!r}] must be a filename or a dictionary '
                'with "filename" and optional "content_type" strings')
    return static_files


def _as_rule(value: Any) -> Tuple[Optional[str], Optional[str]]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and isinstance(value.get('filename'), str):
        return value['filename'], value.get('content_type')
    return None, None


def _safe_segment(segment: str) -> bool:
    if segment in _FORBIDDEN_SEGMENTS or '\\' in segment or \
            '\x00' in segment:
        return False
    for _ in range(3):  # also refuse double and triple encodings
        if '%' not in segment:
            break
        segment = unquote(segment)
        if segment in _FORBIDDEN_SEGMENTS or '/' in segment or \
                '\\' in segment or '\x00' in segment:
            return False
    return True


def _longest_prefix(static_files: StaticFiles,
                    path: str) -> Optional[Tuple[str, str]]:
    """Return ``(key, rest)`` for the longest key that is a segment-aligned
    prefix of ``path``; ``rest`` is what follows the key, without its
    leading slash."""
    best = None
    for key in static_files:
        if not key or len(key) >= len(path) or not path.startswith(key):
            continue
        if key.endswith('/'):
            rest = path[len(key):]
        elif path[len(key)] == '/':
            rest = path[len(key) + 1:]
        else:
            continue
        if best is None or len(key) > len(best[0]):
            best = (key, rest)
    return best


def resolve(static_files: StaticFiles, path: str) -> Optional[StaticFile]:
    """Find the local file that serves a URL path.

    Args:
        static_files (dict): the static file configuration (see the module
            documentation).
        path (str): the (already percent-decoded) path of the request, as
            given in an ASGI scope or a WSGI ``PATH_INFO``.

    Returns:
        dict: ``{'filename': str, 'content_type': str}`` where ``filename``
        is built from the configured value (absolute, or relative to the
        current directory), or ``None`` if no rule matches or the path is
        unsafe. Whether the file exists is not checked.
    """
    if not static_files or not isinstance(path, str) or \
            not path.startswith('/') or '\x00' in path or '\\' in path:
        return None
    if path in static_files:
        filename, content_type = _as_rule(static_files[path])
        rest = ''
    else:
        match = _longest_prefix(static_files, path)
        if match is None:
            return None
        filename, content_type = _as_rule(static_files[match[0]])
        rest = match[1]
        if rest:
            segments = rest.split('/')
            if segments[-1] == '':
                segments.pop()  # trailing slash: default file, below
            if not all(_safe_segment(s) for s in segments):
                return None
        if filename is not None:
            filename = filename.rstrip('/') + '/' + rest \
                if filename else rest
    if not filename:
        return None
    if filename.endswith('/'):
        default_name, default_type = _as_rule(
            static_files.get('', DEFAULT_FILENAME))
        if default_name is None:
            return None
        filename += default_name
        if default_type is not None:
            content_type = default_type
    if content_type is None:
        content_type = content_type_for(filename)
    return {'filename': filename, 'content_type': content_type}


def open_regular(filename: str) -> Tuple[IO[bytes], int]:
    """Open ``filename`` for reading if it is a regular file.

    Returns:
        ``(file, size)``; the caller closes the file.

    Raises:
        OSError: it cannot be opened, or is not a regular file (a
            directory, a device, a fifo): never served.
    """
    f = open(filename, 'rb')
    try:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(filename)
    except BaseException:
        f.close()
        raise
    return f, st.st_size
