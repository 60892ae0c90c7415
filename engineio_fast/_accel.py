"""The one switch between the compiled kernels and their pure twins.

``ENGINEIO_FAST_NO_EXTENSIONS=1`` forces the pure-Python kernels;
``ENGINEIO_FAST_REQUIRE_EXTENSIONS=1`` turns a missing compiled extension
into an ImportError. Everything else in the package imports kernels from
here and nowhere else.
"""

import os
from typing import Any

from ._pure import codec as _pure_codec
from ._pure import sessions as _pure_sessions
from ._pure import timers as _pure_timers
from ._pure import wsframe as _pure_wsframe


def _flag(name):
    return os.environ.get(name, '').strip().lower() not in ('', '0', 'false',
                                                            'no')


NO_EXTENSIONS = _flag('ENGINEIO_FAST_NO_EXTENSIONS')
REQUIRE_EXTENSIONS = _flag('ENGINEIO_FAST_REQUIRE_EXTENSIONS')

_speedups: Any = None
if not NO_EXTENSIONS:
    try:
        from . import _speedups
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
elif REQUIRE_EXTENSIONS:
    raise ImportError('ENGINEIO_FAST_REQUIRE_EXTENSIONS and '
                      'ENGINEIO_FAST_NO_EXTENSIONS are both set')

IMPLEMENTATION = 'cython' if _speedups is not None else 'python'


class _Kernels:
    """One implementation's kernels under one set of names."""

    def __init__(self, codec, sessions, timers, wsframe):
        self.decode_packet = codec.decode_packet
        self.encode_text = codec.encode_text
        self.b64encode = codec.b64encode
        self.b64decode = codec.b64decode
        self.split_payload = codec.split_payload
        self.decode_payload = codec.decode_payload
        self.join_payload = codec.join_payload
        self.jsonp_wrap = codec.jsonp_wrap
        self.decode_value = codec.decode_value
        self.encode_value = codec.encode_value
        self.encode_payload = codec.encode_payload
        self.SessionTable = sessions.SessionTable
        self.TimerHeap = timers.TimerHeap
        self.parse_frame_header = wsframe.parse_frame_header
        self.build_frame_header = wsframe.build_frame_header
        self.build_frame = wsframe.build_frame
        self.apply_mask = wsframe.apply_mask
        self.parse_frames = wsframe.parse_frames
        self.build_frames = wsframe.build_frames


pure = _Kernels(_pure_codec, _pure_sessions, _pure_timers, _pure_wsframe)
compiled = (_Kernels(_speedups, _speedups, _speedups, _speedups)
            if _speedups is not None else None)
active = compiled if compiled is not None else pure

KIND_NONE = _pure_codec.KIND_NONE
KIND_TEXT = _pure_codec.KIND_TEXT
KIND_JSON = _pure_codec.KIND_JSON
KIND_BINARY = _pure_codec.KIND_BINARY
