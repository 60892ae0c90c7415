# The types of engineio_fast/adapters/environ.py for its compiled twin,
# engineio_fast.adapters._environ_c (setup.py's TWINS): the source is that
# .py, this file only augments it. Its functions keep their Python
# signatures (the adapters call them by name); the template and the key
# memos are dicts.

cdef dict _TEMPLATE, _KEYS, _RAW_KEYS
cdef frozenset _NOT_JOINED
cdef Py_ssize_t _KEYS_MAX
