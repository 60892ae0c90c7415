"""The built-in server: an asyncio Protocol on uvloop + httptools, the
compiled codec on the hot path, no ASGI layer for Engine.IO traffic."""

from .launch import run
from .serve import BuiltinServer

__all__ = ['BuiltinServer', 'run']
