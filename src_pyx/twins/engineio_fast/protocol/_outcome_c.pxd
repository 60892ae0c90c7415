# The types of engineio_fast/protocol/outcome.py's Outcome for its compiled
# twin, engineio_fast.protocol._outcome_c (setup.py's TWINS): the source is
# that .py, this file only augments it (EngineConfig and OpenPackets stay
# Python classes, compiled).

cdef class Outcome:
    cdef public object kind, response, session, link, events, jsonp
