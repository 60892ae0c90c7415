"""The switch that runs python-socketio and Flask-SocketIO on engineio_fast.

:func:`install` makes ``import engineio`` and every ``engineio.<name>``
resolve to engineio_fast and its modules, so code written for python-engineio
(python-socketio above all) runs on engineio_fast without being edited. It
must run before anything imports ``engineio`` (python-socketio imports it when
``socketio`` is imported).

Without editing the app, the same switch is made by the environment variable
``ENGINEIO_FAST_AS_ENGINEIO=1`` (read at interpreter start-up by the
``engineio_fast_switch.pth`` file an installed wheel or sdist puts in
site-packages) or by the command ``engineio-fast exec <command...>``, which
sets the variable and runs the command (gunicorn, uvicorn, python app.py).

How: a finder at the front of ``sys.meta_path`` answers every ``engineio``
and ``engineio.<name>`` import with the already imported (or now imported)
``engineio_fast`` module of the same name, the same module object, so
``engineio.server.Server is engineio_fast.Server``. A name engineio_fast does
not have is a ModuleNotFoundError: python-engineio's file is never loaded.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Optional, Sequence

ALIAS = 'engineio'
TARGET = 'engineio_fast'
ENV_VAR = 'ENGINEIO_FAST_AS_ENGINEIO'


class _SameModule(importlib.abc.Loader):
    """Hands the import system an existing engineio_fast module."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec
                      ) -> types.ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        # the module ran when it was imported under its own name
        return None


class _EngineioFinder(importlib.abc.MetaPathFinder):
    """``engineio[.x]`` -> ``engineio_fast[.x]``."""

    def find_spec(self, fullname: str,
                  path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None
                  ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != ALIAS and not fullname.startswith(ALIAS + '.'):
            return None
        real = TARGET + fullname[len(ALIAS):]
        if real not in sys.modules and \
                importlib.util.find_spec(real) is None:
            raise ModuleNotFoundError(
                'engineio_fast has no module %r (asked for as %r)'
                % (real, fullname), name=fullname)
        return importlib.machinery.ModuleSpec(fullname, _SameModule(real))


_FINDER = _EngineioFinder()


def installed() -> bool:
    """True when :func:`install` has run in this process."""
    return _FINDER in sys.meta_path


def install(accelerate: Optional[bool] = None) -> None:
    """Make ``import engineio`` (and its submodules) resolve to
    engineio_fast, for python-socketio, Flask-SocketIO and any code written
    for python-engineio. Call it before the application imports ``socketio``
    or ``engineio``; calling it again does nothing.

    Args:
        accelerate: True or False turns engineio_fast's accelerations of
            python-socketio on or off (:mod:`engineio_fast.sio_accel`);
            None (the default) leaves them as they are: on, unless
            ``ENGINEIO_FAST_SOCKETIO_ACCEL=0`` is in the environment.

    Raises:
        RuntimeError: python-engineio (or another ``engineio``) was imported
            before the switch: the modules that imported it keep using it, so
            the switch would be only half made.
    """
    present = sys.modules.get(ALIAS)
    if present is not None and \
            present is not sys.modules.get(TARGET, object()):
        raise RuntimeError(
            'engineio_fast.install() must run before "engineio" is imported '
            '(it was imported from %s, probably through "import socketio"): '
            'call it first, or set %s=1 in the environment'
            % (getattr(present, '__file__', '?'), ENV_VAR))
    if accelerate is not None:
        from . import sio_accel
        sio_accel.set_enabled(accelerate)
    if not installed():
        sys.meta_path.insert(0, _FINDER)
    importlib.import_module(ALIAS)


def install_from_env() -> None:
    """Run :func:`install` when ``ENGINEIO_FAST_AS_ENGINEIO`` is set to a
    true value (``1``, ``true``, ``yes``, ``on``); used at interpreter start-up
    by ``engineio_fast_switch.pth``."""
    if os.environ.get(ENV_VAR, '').strip().lower() in (
            '1', 'true', 'yes', 'on'):
        install()
