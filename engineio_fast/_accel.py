"""The one switch between the compiled kernels and their pure twins.

``ENGINEIO_FAST_NO_EXTENSIONS=1`` forces the pure-Python kernels;
``ENGINEIO_FAST_REQUIRE_EXTENSIONS=1`` turns a missing compiled extension
into an ImportError. Everything else in the package imports kernels from
here and nowhere else.

:data:`SURFACE` is the one list of the kernel surface: for each kernel
module (``engineio_fast/_pure/<name>.py`` and its compiled twin
``src_pyx/<name>.pxi``, both built into ``engineio_fast._speedups``) the
names it provides. The switch below, the stub test (``_speedups.pyi``) and
the kernel tests all read it.
"""

import importlib
import os
from typing import Any, Dict, Tuple

SURFACE: Dict[str, Tuple[str, ...]] = {
    'codec': ('KIND_NONE', 'KIND_TEXT', 'KIND_JSON', 'KIND_BINARY',
              'SEPARATOR', 'decode_packet', 'encode_text',
              'b64encode', 'b64decode', 'decode_value', 'encode_value',
              'encode_payload', 'split_payload', 'decode_payload',
              'join_payload', 'jsonp_wrap'),
    'packets': ('PacketCore', 'decode_packets', 'encode_packets',
                'fast_construction'),
    'sessions': ('SessionTable',),
    'timers': ('TimerHeap',),
    'wsframe': ('parse_frame_header', 'build_frame_header', 'build_frame',
                'apply_mask'),
    'frames': ('parse_frames', 'build_frames'),
    'sio': ('InvalidPacket', 'sio_read_head', 'sio_check_payload',
            'sio_encode_head', 'sio_is_binary', 'sio_deconstruct',
            'sio_reconstruct'),
    'eager': ('EagerStarter', 'Resume'),
}

#: every name of :data:`SURFACE`, in order
NAMES: Tuple[str, ...] = tuple(n for names in SURFACE.values()
                               for n in names)


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

#: The compiled twins of whole modules: a module's ``__name__`` -> its
#: twin's, the module's own source built by Cython under that name with the
#: types of its augmenting .pxd (``src_pyx/twins/``; setup.py's TWINS).
TWINS: Dict[str, str] = {
    'engineio_fast.adapters.builtin.http_protocol':
        'engineio_fast.adapters.builtin._http_protocol_c',
    'engineio_fast.protocol.http': 'engineio_fast.protocol._http_c',
    'engineio_fast.protocol.outcome': 'engineio_fast.protocol._outcome_c',
    'engineio_fast.protocol.websocket':
        'engineio_fast.protocol._websocket_c',
    'engineio_fast.adapters.builtin.ws_protocol':
        'engineio_fast.adapters.builtin._ws_protocol_c',
    'engineio_fast.protocol.session': 'engineio_fast.protocol._session_c',
    'engineio_fast.protocol.queues': 'engineio_fast.protocol._queues_c',
    'engineio_fast.protocol.engine': 'engineio_fast.protocol._engine_c',
    'engineio_fast.adapters.builtin.context':
        'engineio_fast.adapters.builtin._context_c',
    'engineio_fast.adapters.builtin.wire':
        'engineio_fast.adapters.builtin._wire_c',
    'engineio_fast.adapters.environ': 'engineio_fast.adapters._environ_c',
}


def twin(module_name: str) -> Any:
    """The compiled twin of the module named ``module_name``, or None.

    A module with a twin calls this last, with its ``__name__``, and takes
    every name from the twin it gets: it is then the compiled module and
    never a mix. None with the pure kernels (forced or not built), for a
    name without a twin (the twin itself) and for a twin that did not build
    (an ImportError instead with ``ENGINEIO_FAST_REQUIRE_EXTENSIONS``).
    """
    name = TWINS.get(module_name)
    if name is None or _speedups is None:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        if REQUIRE_EXTENSIONS:
            raise
        return None


def adopt_twin(namespace: Dict[str, Any]) -> Any:
    """Make a module its compiled twin: every name the twin defines (not
    its dunders, not its own ``_TWIN``) replaces the same name in
    ``namespace``, the module's ``globals()``. A module with a twin calls
    this last, as ``_TWIN = _accel.adopt_twin(globals())``. Returns the twin,
    or None (see :func:`twin`), and then the module stays as it is; the
    twin, built from the same source, gets None for itself.
    """
    module = twin(namespace['__name__'])
    if module is not None:
        namespace.update({k: v for k, v in vars(module).items()
                          if not k.startswith('__') and k != '_TWIN'})
    return module


class Kernels:
    """One implementation's kernels under the names of :data:`SURFACE`.

    Args:
        modules: kernel module name -> the module object providing it.
        name: ``'python'`` or ``'cython'``.
    """

    def __init__(self, modules, name):
        self.name = name
        for module, names in SURFACE.items():
            source = modules[module]
            for n in names:
                setattr(self, n, getattr(source, n))

    def __repr__(self):
        return '<kernels %s>' % self.name

    def __getattr__(self, name: str) -> Any:
        # only reached for a name outside SURFACE; it also tells type
        # checkers that the kernels set in __init__ exist
        raise AttributeError(name)


pure = Kernels({m: importlib.import_module('._pure.' + m, __package__)
                for m in SURFACE}, 'python')
compiled = (Kernels({m: _speedups for m in SURFACE}, 'cython')
            if _speedups is not None else None)
active = compiled if compiled is not None else pure

KIND_NONE = pure.KIND_NONE
KIND_TEXT = pure.KIND_TEXT
KIND_JSON = pure.KIND_JSON
KIND_BINARY = pure.KIND_BINARY
