"""One source file loaded as two modules: ``find_double_loads``.

Source files that back two module objects in ``sys.modules`` under different
names (two class objects for one class). Plain functions of the mappings passed
in and of the file system (``pytest_ssot.layout``); no pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pytest_ssot.layout import ProjectLayout, absolute
from pytest_ssot.paths import display_path

# ---------------------------------------------------------------------------
# One file, two modules


@dataclass(frozen=True)
class ModuleCopy:
    """One module object loaded from the file, under one or more names (aliases)."""

    names: tuple[str, ...]
    """The name that ``sys.path`` explains first (when one does), then the aliases."""
    entries: tuple[str, ...]
    """The sys.path entries through which one of the names resolves to the file."""

    @property
    def name(self) -> str:
        return self.names[0]

    def describe(self) -> str:
        aliases = f" (also {', '.join(self.names[1:])})" if len(self.names) > 1 else ""
        return f"{self.name}{aliases}"


@dataclass(frozen=True)
class DoubleLoad:
    """One project file loaded as two (or more) modules, as ``app.models`` and ``src.app.models``.

    Holds the file, how it is shown, and each module object's copy (name, aliases,
    where it was loaded). Made by ``find_double_loads``; the runtime import checks
    turn it into a finding.
    """

    file: str
    display: str
    copies: tuple[ModuleCopy, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """One name per module object (aliases left out)."""
        return tuple(sorted(copy.name for copy in self.copies))

    @property
    def fingerprint(self) -> str:
        return f"double-load: {self.display} as {', '.join(self.names)}"


def find_double_loads(
    modules: Mapping[str, object],
    layout: ProjectLayout,
    *,
    sys_path: Sequence[str],
    allowed: Callable[[str], bool] = lambda name: False,
) -> list[DoubleLoad]:
    """Project files that back two or more distinct module objects.

    Aliases (one module object under two names, as ``sys.modules['old'] = new``
    shims do) are not double loads: they share their classes. Only files of the
    project (``layout.files.is_project``) are considered. A name that ``allowed``
    accepts is left out; a file is reported while two copies remain.
    """
    by_file: dict[str, dict[int, list[str]]] = {}
    real_dirs: dict[str, str] = {}
    keep_alive: list[object] = []
    for name, module in list(modules.items()):
        if name in ("__main__", "__mp_main__") or not isinstance(module, ModuleType):
            continue
        # __dict__, not getattr: a lazy module's __getattr__ could import things.
        file = module.__dict__.get("__file__")
        if not isinstance(file, str) or not file:
            continue
        path = absolute(file)
        if not layout.files.is_project(path):
            continue
        real = _realpath(path, real_dirs)
        by_file.setdefault(real, {}).setdefault(id(module), []).append(name)
        keep_alive.append(module)
    found = []
    for real, copies in sorted(by_file.items()):
        kept = [names for names in copies.values() if not all(allowed(n) for n in names)]
        if len(kept) < 2:
            continue
        found.append(
            DoubleLoad(
                file=real,
                display=display_path(real, layout.rootdir, outside="as-given"),
                copies=tuple(
                    sorted(
                        (_copy(names, real, sys_path, layout) for names in kept),
                        key=lambda c: c.name,
                    )
                ),
            )
        )
    return found


def _copy(
    names: list[str], real: str, sys_path: Sequence[str], layout: ProjectLayout
) -> ModuleCopy:
    explained = {name: explain(name, real, sys_path) for name in sorted(names)}
    ordered = sorted(explained, key=lambda n: (not explained[n], n))
    entries = dict.fromkeys(_entry_display(e, layout) for n in ordered for e in explained[n])
    return ModuleCopy(tuple(ordered), tuple(entries))


def _realpath(path: str, real_dirs: dict[str, str]) -> str:
    """os.path.realpath, resolving each folder once: a scan of thousands of modules stays cheap."""
    if os.path.islink(path):  # noqa: PTH114 (hot loop, see absolute())
        return os.path.realpath(path)
    folder, base = os.path.split(path)
    real = real_dirs.get(folder)
    if real is None:
        real = real_dirs[folder] = os.path.realpath(folder)
    return f"{real}{os.sep}{base}"


def explain(name: str, real_file: str, sys_path: Sequence[str]) -> list[str]:
    """The ``sys.path`` entries under which ``name`` resolves to ``real_file``."""
    parts = name.split(".")
    base = Path(real_file).name
    if base.partition(".")[0] == "__init__":
        relative = [*parts, base]
    elif base.partition(".")[0] == parts[-1]:
        relative = [*parts[:-1], base]
    else:
        return []
    entries = []
    for entry in sys_path:
        if not isinstance(entry, str):
            continue
        folder = Path(entry or Path.cwd())
        if os.path.realpath(folder.joinpath(*relative)) == real_file and entry not in entries:
            entries.append(entry)
    return entries


def _entry_display(entry: str, layout: ProjectLayout) -> str:
    if not entry:
        return "'' (the current directory)"
    shown = display_path(absolute(entry), layout.rootdir, outside="as-given")
    return "the rootdir" if shown == "." else shown
