"""python-engineio's import path ``engineio.async_drivers.gevent_uwsgi``.

The sync :class:`~engineio_fast.Server`'s gevent_uwsgi mode lives in
:mod:`engineio_fast.adapters.wsgi.modes`; outside a uWSGI process (no
``uwsgi`` module) or without gevent this module raises ImportError, as
python-engineio's does.
"""

import gevent  # noqa: F401  (ImportError without it, as python-engineio)
import uwsgi  # noqa: F401  (only inside uWSGI)

from ..adapters.wsgi.modes import GeventUwsgiMode

__all__ = ['GeventUwsgiMode']
