"""The benchmark app on python-engineio (``eio`` and ``app`` for uvicorn)."""
import engineio

from benchmarks.load.apps.common import build

eio, app = build(engineio)
