"""python-engineio's import path ``engineio.async_drivers.threading``.

The sync :class:`~engineio_fast.Server`'s threading mode lives in
:mod:`engineio_fast.adapters.wsgi.modes`.
"""

from ..adapters.wsgi.modes import ThreadingMode

__all__ = ['ThreadingMode']
