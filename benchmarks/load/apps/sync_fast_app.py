"""The synchronous benchmark app on engineio_fast (``eio`` and the WSGI ``app``); see sync_common.py."""
import engineio_fast
from benchmarks.load.apps.sync_common import build

eio, app = build(engineio_fast)
