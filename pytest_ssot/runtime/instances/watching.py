"""Watching imports of the declared modules, so their classes are wrapped as soon as they exist.

A ``sys.meta_path`` finder that answers only for the declared module names and
hands everything else on; the module keeps its real loader.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import typing
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


class DeclaredModuleLoader(importlib.abc.Loader):
    """Runs the real loader, then tells the tracker the module is ready."""

    def __init__(self, loader: Any, loaded: Callable[[str, ModuleType], None]) -> None:
        self._loader = loader
        self._loaded = loaded

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        __tracebackhide__ = True  # a module that fails to import: its own traceback
        # Nothing but this import sees the wrapper: the module keeps its real loader.
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        self._loader.exec_module(module)
        self._loaded(module.__name__, sys.modules.get(module.__name__, module))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class DeclaredModuleFinder(importlib.abc.MetaPathFinder):
    """A meta-path finder that acts only for the declared modules' names."""

    def __init__(self, names: frozenset[str], loaded: Callable[[str, ModuleType], None]) -> None:
        self.names = names
        self._loaded = loaded
        self._local = threading.local()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        busy: set[str] = self._local.__dict__.setdefault("busy", set())
        if fullname in busy:
            return None
        busy.add(fullname)
        try:
            spec = self._find_elsewhere(fullname, path, target)
        finally:
            busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = DeclaredModuleLoader(spec.loader, self._loaded)
        return spec

    def _find_elsewhere(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> importlib.machinery.ModuleSpec | None:
        finders = list(sys.meta_path)
        # Only those after this one, as the import system would ask them: the ones
        # before have already answered None.
        mine = next((i for i, finder in enumerate(finders) if finder is self), -1)
        for finder in finders[mine + 1 :]:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                return typing.cast(importlib.machinery.ModuleSpec, spec)
        return None
