# The types of engineio_fast/adapters/builtin/wire.py for its compiled
# twin, engineio_fast.adapters.builtin._wire_c (setup.py's TWINS): the
# source is that .py, this file only augments it. Its functions keep their
# Python signatures (the server's other twins call them by name); the
# caches are dicts.

cdef dict _STATUS_LINES, _LINES, _HEADS
