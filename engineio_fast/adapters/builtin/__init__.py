"""The built-in server: an asyncio Protocol on uvloop + httptools, the
compiled codec on the hot path, no ASGI layer for Engine.IO traffic."""

from .serve import BuiltinServer, run

__all__ = ['BuiltinServer', 'run']
