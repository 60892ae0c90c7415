"""python-engineio's import path ``engineio.async_drivers.eventlet``.

The sync :class:`~engineio_fast.Server`'s eventlet mode lives in
:mod:`engineio_fast.adapters.wsgi.modes`; without eventlet this module
raises ImportError, as python-engineio's does.
"""

import eventlet  # noqa: F401  (ImportError without it, as python-engineio)

from ..adapters.wsgi.modes import EventletMode

__all__ = ['EventletMode']
