"""python-engineio's import path ``engineio.async_drivers.tornado``, from
which python-socketio imports ``get_tornado_handler``.

The Tornado adapter lives in :mod:`engineio_fast.adapters.frameworks.tornado`;
importing this module without Tornado raises ImportError, as
python-engineio's does.
"""

from ..adapters.frameworks.tornado import get_tornado_handler

__all__ = ['get_tornado_handler']
