"""engineio_fast: a fast, drop-in Engine.IO v4 server and client.

``import engineio_fast as engineio`` runs python-engineio applications
unchanged. ``IMPLEMENTATION`` tells which kernels are active: ``'cython'``
(compiled) or ``'python'`` (the pure twins).
"""

from ._accel import IMPLEMENTATION
from .asgi import ASGIApp
from .async_server import AsyncServer

__version__ = '0.1.0'

__all__ = ['AsyncServer', 'ASGIApp', 'IMPLEMENTATION', '__version__']
