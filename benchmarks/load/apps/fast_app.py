"""The benchmark app on engineio_fast (``eio`` for the built-in server, ``app`` for uvicorn)."""
import engineio_fast
from benchmarks.load.apps.common import build

eio, app = build(engineio_fast)
