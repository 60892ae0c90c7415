"""python-engineio's import path ``engineio.async_drivers.gevent``.

The sync :class:`~engineio_fast.Server`'s gevent mode lives in
:mod:`engineio_fast.adapters.wsgi.modes`; without gevent this module raises
ImportError, as python-engineio's does.
"""

import gevent  # noqa: F401  (ImportError without it, as python-engineio)

from ..adapters.wsgi.modes import GeventMode

__all__ = ['GeventMode']
