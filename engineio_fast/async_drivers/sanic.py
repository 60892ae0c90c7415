"""python-engineio's import path ``engineio.async_drivers.sanic``.

The Sanic adapter lives in :mod:`engineio_fast.adapters.frameworks.sanic`
(``AsyncServer.attach(app)`` uses it). Without Sanic this module raises
ImportError (python-engineio's imports, and then fails when used).
"""

from ..adapters.frameworks.sanic import create_route

__all__ = ['create_route']
