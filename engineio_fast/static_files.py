"""Static file rules shared by the ASGI and WSGI applications.

A static file configuration is a dictionary of mapping rules:

* ``'/': 'latency.html'`` -- an exact URL mapped to one file;
* ``'/static': './public'`` -- a URL prefix mapped to a folder, so that
  ``/static/css/x.css`` is served from ``./public/css/x.css``;
* a value may be a dictionary ``{'filename': ..., 'content_type': ...}`` to
  force a content type;
* the empty key ``''`` names the file served for URLs that end in ``/``
  (``index.html`` when absent), as a string or as a dictionary;
* a folder rule as a dictionary may say ``'follow_symlinks': True``.

When several prefixes match, the longest one wins. Prefixes only match on
path segment boundaries, so ``/static`` does not match ``/staticfoo``.
Requests that try to leave a configured folder (``..`` segments, also
percent-encoded, empty segments that would make the path absolute,
backslashes, NUL bytes) match nothing.

A file found under a folder rule is served only if its real path (symbolic
links resolved) is inside the folder's real path: a link in the folder
that points outside it is not followed, as Starlette's ``StaticFiles``
refuses it, unless the rule opts in with ``'follow_symlinks': True``. A
file named by an exact rule is the one configured, links and all.

:func:`resolve` only computes names (python-engineio's behaviour);
:func:`locate` is what the applications serve from: the same name, checked
on the file system.
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
                not isinstance(value.get('content_type', ''), str) or \
                not isinstance(value.get('follow_symlinks', False), bool):
            raise ValueError(
                f'static_files[{key!r}] must be a filename or a dictionary '
                'with "filename" and optional "content_type" strings (and '
                'an optional "follow_symlinks" boolean)')
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
        unsafe. Whether the file exists is not checked (see
        :func:`locate`).
    """
    found = _resolve(static_files, path)
    return found[0] if found is not None else None


def locate(static_files: StaticFiles, path: str) -> Optional[StaticFile]:
    """:func:`resolve`, then the file system: the file to serve for a URL
    path, or ``None`` when there is none to serve.

    Returns:
        dict: as :func:`resolve`'s, whose ``filename`` names an existing
        regular file (the real path, links resolved, for a file under a
        folder rule); ``None`` if no rule matches, the path is unsafe, the
        file does not exist or is not a regular file, or it lies outside
        its folder rule's folder once links are resolved (unless the rule
        says ``'follow_symlinks': True``).
    """
    found = _resolve(static_files, path)
    if found is None:
        return None
    static_file, root = found
    filename = static_file['filename']
    if root is not None:
        real = os.path.realpath(filename)
        real_root = os.path.realpath(root)
        if real != real_root and \
                not real.startswith(real_root.rstrip(os.sep) + os.sep):
            return None
        static_file['filename'] = filename = real
    return static_file if os.path.isfile(filename) else None


def _resolve(static_files: StaticFiles,
             path: str) -> Optional[Tuple[StaticFile, Optional[str]]]:
    """``(static file, root)``: ``root`` is the folder the file must stay
    in, or None (an exact rule's file, or a rule that follows links)."""
    if not static_files or not isinstance(path, str) or \
            not path.startswith('/') or '\x00' in path or '\\' in path:
        return None
    root = None
    if path in static_files:
        rule = static_files[path]
        filename, content_type = _as_rule(rule)
    else:
        match = _longest_prefix(static_files, path)
        if match is None:
            return None
        rule = static_files[match[0]]
        filename, content_type = _as_rule(rule)
        rest = match[1]
        if rest:
            segments = rest.split('/')
            if segments[-1] == '':
                segments.pop()  # trailing slash: default file, below
            if not all(_safe_segment(s) for s in segments):
                return None
        if filename is not None:
            root = filename or '.'
            filename = filename.rstrip('/') + '/' + rest \
                if filename else rest
    if not filename:
        return None
    if filename.endswith('/'):
        if root is None:
            root = filename
        default_name, default_type = _as_rule(
            static_files.get('', DEFAULT_FILENAME))
        if default_name is None:
            return None
        filename += default_name
        if default_type is not None:
            content_type = default_type
    if content_type is None:
        content_type = content_type_for(filename)
    if isinstance(rule, dict) and rule.get('follow_symlinks') is True:
        root = None
    return {'filename': filename, 'content_type': content_type}, root


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
