"""Deferred imports of heavy libraries that Mesa loads at import time but a run does not need early.

``import mesa`` pulls in pandas, networkx and scipy.spatial (for its grids, networks and continuous
space), about 1.5 s on this project's 2-core machines, although a chipwar model uses none of them
before it writes its tables. Every command, sweep worker and wargame turn paid that before its first
step. This module installs a finder that hands out those modules unexecuted; each one runs its real
code on first attribute use: behaviour is unchanged, only the time moves to where it is needed.

Switched on only by the ``chipwar`` command (``runs/cli/main.py``), the processes it starts (pool
workers) and the bench's timed child, never by importing a library module: a program that imports
``chipwar.world`` keeps its own imports as it wrote them. Thread-safe (one lock, unlike
``importlib.util.LazyLoader`` on Python 3.12), and a module that is already imported is left alone.
Set ``CHIPWAR_EAGER_IMPORTS=1`` to turn it off.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import types
from collections.abc import Sequence

# Heavy modules (or the Mesa subpackages whose only job is to import them) that a run reaches
# late or never: tables are written with pandas at the end; grids, networks and continuous space
# are not used by the model.
DEFERRED = frozenset(
    {
        "pandas",
        "networkx",
        "mesa.discrete_space",
        "mesa.experimental.continuous_space",
        "scipy.linalg",
    }
)

# Deferred packages whose submodules may be imported before the package's own code runs. numba
# imports ``scipy.linalg.cython_blas`` (a compiled module that needs nothing from its package) when
# it loads cached kernels, only to check that BLAS exists; running ``scipy/linalg/__init__.py`` for
# that cost 0.5 s per process.
SUBMODULES_FIRST = frozenset({"scipy.linalg"})

# Attributes the import machinery and ``inspect`` read from every module in ``sys.modules``;
# answering them from the unexecuted module must not trigger the load.
_METADATA = frozenset(
    {"__spec__", "__name__", "__loader__", "__file__", "__package__", "__class__"}
)

_lock = threading.RLock()  # one load at a time; other threads wait until a module is complete
_loading: set[int] = set()  # ids of modules whose code is running now (under ``_lock``)


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet; the first real attribute access runs it."""

    def __getattribute__(self, attr: str) -> object:
        if attr in _METADATA or (
            attr == "__path__" and object.__getattribute__(self, "__name__") in SUBMODULES_FIRST
        ):
            return object.__getattribute__(self, attr)
        _load(self)
        return object.__getattribute__(self, attr)

    def __setattr__(self, attr: str, value: object) -> None:
        # A submodule being bound onto its package (``pkg.sub = module``) must not force the load.
        object.__setattr__(self, attr, value)

    def __delattr__(self, attr: str) -> None:
        _load(self)
        object.__delattr__(self, attr)


def _load(module: types.ModuleType) -> None:
    """Run the module's code once. The module keeps its deferred class until its code has run, so
    another thread waits for a complete module; the loading thread itself sees the partial module,
    as it would during a normal import."""
    with _lock:
        if type(module) is not _DeferredModule or id(module) in _loading:
            return
        spec = object.__getattribute__(module, "__spec__")
        _loading.add(id(module))
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(spec.name, None)
            raise
        finally:
            _loading.discard(id(module))
        module.__class__ = types.ModuleType


class _DeferringLoader(importlib.abc.Loader):
    """Creates the module as the real loader would, but leaves executing it for later."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__.loader = self.real  # type: ignore[union-attr]
        module.__loader__ = self.real
        module.__class__ = _DeferredModule


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the listed modules with the normal path finder and wraps their loader."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _DeferringLoader(spec.loader)
        return spec


def install(names: frozenset[str] = DEFERRED) -> None:
    """Defer ``names`` from now on in this process (idempotent; already-imported ones stay)."""
    if os.environ.get("CHIPWAR_EAGER_IMPORTS"):
        return
    if is_installed():
        return
    sys.meta_path.insert(0, _DeferringFinder(frozenset(n for n in names if n not in sys.modules)))


def is_installed() -> bool:
    """True when this process defers imports (a pool's parent passes it on to its workers)."""
    return any(isinstance(f, _DeferringFinder) for f in sys.meta_path)


def stop_deferring() -> None:
    """Import normally from now on and run every module still deferred. Long-lived, multi-threaded
    servers (the dashboard) call this at start-up, where a second does not matter and no request
    thread should wait on another's import."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _DeferringFinder)]
    for module in list(sys.modules.values()):
        if type(module) is _DeferredModule:
            _load(module)


def is_deferred(name: str) -> bool:
    """True while ``name`` is imported but its code has not run yet."""
    return type(sys.modules.get(name)) is _DeferredModule
