"""The synchronous benchmark app on python-engineio (``eio`` and the WSGI ``app``); see sync_common.py."""
import engineio

from benchmarks.load.apps.sync_common import build

eio, app = build(engineio)
