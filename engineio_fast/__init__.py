"""engineio_fast: a fast, drop-in Engine.IO v4 server and client.

``import engineio_fast as engineio`` runs python-engineio applications
unchanged. ``IMPLEMENTATION`` tells which kernels are active: ``'cython'``
(compiled) or ``'python'`` (the pure twins).
"""

from ._accel import IMPLEMENTATION
from .async_server import AsyncServer

__version__ = '0.1.0'


def __getattr__(name):
    # ASGIApp is imported on first use so that importing the package stays
    # cheap for programs that only need the server or the codec.
    if name == 'ASGIApp':
        from .asgi import ASGIApp
        return ASGIApp
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


__all__ = ['AsyncServer', 'ASGIApp', 'IMPLEMENTATION', '__version__']
