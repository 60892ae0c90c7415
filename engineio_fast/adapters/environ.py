"""The WSGI-style environ every asyncio adapter hands to the connect
handler (the ASGI adapter, the built-in server, aiohttp, Sanic, Tornado).

With the compiled kernels this module is its compiled twin (this source
built by Cython, setup.py's TWINS; its names replace these at the end of
the module): every websocket or polling connect builds one environ here.
"""

import io
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .. import _accel


def make_environ(software: str, method: str, path: str, query: str,
                 scheme: str, version: str, headers: Iterable[Tuple[str,
                                                                    str]],
                 peer: Any, local: Any, body: Optional[bytes],
                 extra: Dict[str, Any],
                 script_name: str = '') -> Dict[str, Any]:
    """A WSGI-style environ for the connect handler, as python-engineio's
    drivers build one: the real addresses, the request's headers as
    ``HTTP_*`` keys (repeated ones joined), and ``extra`` (e.g.
    ``'aiohttp.request'``, the ASGI scope)."""
    environ = _base(software, method, path, query, scheme, version, peer,
                    local, body, script_name)
    keys = _KEYS
    for name, value in headers:
        key = keys.get(name)
        if key is None:
            key = _key(name)
        # a repeated header is joined with a comma, but Content-Type and
        # Content-Length (no HTTP_ prefix) keep their last value
        prev = environ.get(key)
        environ[key] = value if prev is None or key in _NOT_JOINED \
            else prev + ',' + value
    environ.update(extra)
    return environ


def make_environ_raw(software: str, method: str, path: str, query: str,
                     scheme: str, version: str,
                     raw: Iterable[Tuple[bytes, bytes]],
                     lowered: List[Tuple[bytes, bytes]], peer: Any,
                     local: Any, body: Optional[bytes],
                     extra: Dict[str, Any],
                     script_name: str = '') -> Dict[str, Any]:
    """:func:`make_environ` for headers as a server read them (``raw``:
    (name, value) byte pairs), in one pass that also appends each pair,
    its name in lower case, to ``lowered`` (the ASGI scope's headers,
    which ``extra`` may already hold). The environ is the one
    :func:`make_environ` gives for those headers decoded from latin-1."""
    environ = _base(software, method, path, query, scheme, version, peer,
                    local, body, script_name)
    keys = _RAW_KEYS
    add = lowered.append
    for name, value in raw:
        name = name.lower()
        add((name, value))
        key = keys.get(name)
        if key is None:
            key = _raw_key(name)
        text = value.decode('latin-1')
        prev = environ.get(key)     # joined as make_environ joins them
        environ[key] = text if prev is None or key in _NOT_JOINED \
            else prev + ',' + text
    environ.update(extra)
    return environ


def _base(software: str, method: str, path: str, query: str, scheme: str,
          version: str, peer: Any, local: Any, body: Optional[bytes],
          script_name: str) -> Dict[str, Any]:
    """The environ's keys before the headers."""
    peer = peer if isinstance(peer, (tuple, list)) and peer else ('', 0)
    local = local if isinstance(local, (tuple, list)) and local \
        else ('localhost', 0)
    environ = _TEMPLATE.copy()
    environ['wsgi.input'] = io.BytesIO(body or b'')
    environ['wsgi.errors'] = sys.stderr
    environ['wsgi.url_scheme'] = scheme
    environ['SERVER_SOFTWARE'] = software
    environ['REQUEST_METHOD'] = method
    environ['PATH_INFO'] = path
    environ['SCRIPT_NAME'] = script_name
    environ['QUERY_STRING'] = query
    environ['RAW_URI'] = path + ('?' + query if query else '')
    environ['SERVER_PROTOCOL'] = 'HTTP/' + version
    environ['SERVER_NAME'] = str(local[0])
    environ['SERVER_PORT'] = str(local[1]) if len(local) > 1 else '0'
    environ['REMOTE_ADDR'] = str(peer[0])
    environ['REMOTE_PORT'] = str(peer[1]) if len(peer) > 1 else '0'
    return environ


# the keys of _base in their order, the constant ones with their values (a
# copy of it and the others set is cheaper than a new 19-key dict)
_TEMPLATE: Dict[str, Any] = dict.fromkeys((
    'wsgi.input', 'wsgi.errors', 'wsgi.version', 'wsgi.async',
    'wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once',
    'wsgi.url_scheme', 'SERVER_SOFTWARE', 'REQUEST_METHOD', 'PATH_INFO',
    'SCRIPT_NAME', 'QUERY_STRING', 'RAW_URI', 'SERVER_PROTOCOL',
    'SERVER_NAME', 'SERVER_PORT', 'REMOTE_ADDR', 'REMOTE_PORT'))
_TEMPLATE.update({'wsgi.version': (1, 0), 'wsgi.async': True,
                  'wsgi.multithread': False, 'wsgi.multiprocess': False,
                  'wsgi.run_once': False})


# header name (as sent) -> environ key: the same few names come with every
# request; the memo is emptied when it reaches _KEYS_MAX names
_KEYS: Dict[str, str] = {}
_KEYS_MAX = 512
_NOT_JOINED = frozenset(('CONTENT_TYPE', 'CONTENT_LENGTH'))


def _key(name: str) -> str:
    key = name.upper().replace('-', '_')
    if key not in _NOT_JOINED:
        key = 'HTTP_' + key
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    _KEYS[name] = key
    return key


# the same for make_environ_raw: lower-case name (bytes) -> environ key
_RAW_KEYS: Dict[bytes, str] = {}


def _raw_key(name: bytes) -> str:
    key = _key(name.decode('latin-1'))
    if len(_RAW_KEYS) >= _KEYS_MAX:
        _RAW_KEYS.clear()
    _RAW_KEYS[name] = key
    return key


# the compiled twin's names, when it is there (see the module's note)
_TWIN = _accel.adopt_twin(globals())
