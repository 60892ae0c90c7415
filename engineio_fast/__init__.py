"""engineio_fast: a fast, drop-in Engine.IO v4 server and client."""

from ._accel import IMPLEMENTATION

__version__ = '0.1.0'

__all__ = ['IMPLEMENTATION', '__version__']
