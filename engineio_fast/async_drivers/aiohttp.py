"""python-engineio's import path ``engineio.async_drivers.aiohttp``.

The aiohttp adapter lives in :mod:`engineio_fast.adapters.frameworks.aiohttp`
(``AsyncServer.attach(app)`` uses it); importing this module without aiohttp
raises ImportError, as python-engineio's does.
"""

from ..adapters.frameworks.aiohttp import create_route

__all__ = ['create_route']
