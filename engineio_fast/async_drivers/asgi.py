"""python-engineio's import path ``engineio.async_drivers.asgi``.

The ASGI application lives in :mod:`engineio_fast.adapters.asgi_app`; this
module keeps ``from engineio.async_drivers.asgi import ASGIApp`` working.
"""

from ..adapters.asgi_app import ASGIApp

__all__ = ['ASGIApp']
