"""python-engineio's import paths under ``engineio.async_drivers`` (kept so
that code written for python-engineio imports unchanged). The I/O itself is
in :mod:`engineio_fast.adapters`."""
