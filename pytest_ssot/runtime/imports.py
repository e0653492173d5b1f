"""The import watcher: a ``sys.meta_path`` finder that sees first loads and changes nothing.

``ImportWatcher`` sits at ``sys.meta_path[0]`` and always answers ``None``, so
the import system goes on to the real finders and resolution is unchanged. It
is asked about every module that is not yet in ``sys.modules``, whatever the
mechanism (``import``, ``importlib.import_module``, ``__import__``, ``exec`` of
an import string, ``unittest.mock.patch`` targets). For names outside the
watched set it costs one string partition and one set lookup.

For a watched name it walks the stack to find:

- whether this is a load at all (a ``_find_and_load`` frame of the import
  system) rather than a probe such as ``importlib.util.find_spec``;
- which module was asked for: loading ``a.b.c`` loads ``a.b`` first, and that
  parent load is not reported on its own (import-linter records ``x -> a.b.c``);
- the first frame of project code, which is "the module that caused it", and
  whether that frame is executing an ``import`` statement (``IMPORT_NAME``) or a
  call (``importlib.import_module``, ``__import__``, ``exec``...).

Only the first load of a module is seen: a module already in ``sys.modules``
is not loaded again, so nothing asks the finders about it. Modules are never
evicted to see more.
"""

from __future__ import annotations

import dis
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec, all_suffixes
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from pytest_ssot.layout import FileInfo, ProjectLayout
from pytest_ssot.runtime import forking

IMPORT_NAME = dis.opmap["IMPORT_NAME"]
LOAD_CONST = dis.opmap["LOAD_CONST"]
EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
_FIND_AND_LOAD = "_find_and_load"
_HANDLE_FROMLIST = "_handle_fromlist"


@dataclass(frozen=True)
class LoadEvent:
    """The first load of a watched module, attributed to a project frame."""

    module: str
    importer: FileInfo
    line: int
    import_statement: bool
    """The project frame runs an ``import`` statement; False for calls (dynamic imports)."""
    find: Callable[[], ModuleSpec | None] = field(compare=False, repr=False)
    """The spec the real finders will return (None: the module does not exist). A lookup:
    ask only when the load matters."""
    fromlist: tuple[str, ...] = ()
    """The names of a ``from module import a, b`` statement, when that is what runs."""

    def confirm(self) -> bool:
        """The module exists, so the load is real."""
        return self.find() is not None

    def superseded(self) -> bool:
        """A ``from package import a, b`` statement where every name is a submodule.

        Their loads follow and stand for the statement, as in import-linter's
        graph (``importer -> package.a``), so the package's own load is not reported.
        """
        if not self.fromlist or "*" in self.fromlist:
            return False
        spec = self.find()
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        return bool(folders) and all(_is_submodule(folders, name) for name in self.fromlist)


def _is_submodule(folders: list[str], name: str) -> bool:
    for folder in map(Path, folders):
        if (folder / name).is_dir():
            return True
        if any((folder / f"{name}{suffix}").is_file() for suffix in all_suffixes()):
            return True
    return False


def _fromlist(code: CodeType, lasti: int) -> tuple[str, ...]:
    """The names of the ``from ... import`` whose IMPORT_NAME is at ``lasti``, if any."""
    raw = code.co_code
    if lasti < 2 or raw[lasti - 2] != LOAD_CONST:
        return ()
    arg = raw[lasti - 1]
    if lasti >= 4 and raw[lasti - 4] == EXTENDED_ARG:
        arg |= raw[lasti - 3] << 8
    if arg >= len(code.co_consts):
        return ()
    value = code.co_consts[arg]
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return value
    return ()


class ImportWatcher:
    """A meta path finder that reports first loads of watched modules to ``on_load``."""

    def __init__(
        self,
        wanted: Callable[[str], bool],
        layout: ProjectLayout,
        on_load: Callable[[LoadEvent], None],
        *,
        roots: frozenset[str] | None = None,
    ) -> None:
        self._wanted = wanted
        # The first, cheapest test: the name's top-level package. None: ask `wanted`.
        self._roots = roots
        self.layout = layout
        self.on_load = on_load
        self._local = threading.local()
        self.errors: list[str] = []
        self.stood_down = False
        """True in a child process forked from the run (see runtime/forking.py)."""

    # -- installation -----------------------------------------------------------

    @property
    def installed(self) -> bool:
        return any(finder is self for finder in sys.meta_path)

    def install(self) -> None:
        if not self.installed:
            sys.meta_path.insert(0, self)
            forking.stand_down_in_children(self)

    def forked(self) -> None:
        """In a child forked from the run: stop judging loads (see runtime/forking.py)."""
        self.stood_down = True
        self._local = threading.local()

    def ensure_first(self) -> None:
        """Move back to the front if another finder was inserted before us since."""
        if sys.meta_path and sys.meta_path[0] is not self and self.installed:
            self.uninstall()
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not self]
        forking.forget(self)

    # -- the finder protocol ----------------------------------------------------

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if self.stood_down:
            return None
        roots = self._roots
        if roots is not None and fullname.partition(".")[0] not in roots:
            return None
        if not self._wanted(fullname):
            return None
        local = self._local
        if getattr(local, "busy", False):
            return None  # an import made while we inspect one: ours, not the project's
        local.busy = True
        try:
            self._inspect(fullname, path, target, sys._getframe(1))
        except Warning:
            raise  # a finding configured to warn, turned into an error by -W error
        except Exception as exc:  # never break the import we are watching
            self.errors.append(f"{fullname}: {type(exc).__name__}: {exc}")
        finally:
            local.busy = False
        return None

    def _inspect(self, fullname: str, path: Any, target: Any, frame: FrameType | None) -> None:
        # The import system's own frames right above us: the _find_and_load
        # frames among them name this module and, when it is a parent package
        # loaded on the way, the module that was asked for.
        loads: list[str] = []
        in_import_system = True
        via_fromlist = False
        info: FileInfo | None = None
        classify = self.layout.classify
        while frame is not None:
            code = frame.f_code
            filename = code.co_filename
            if filename.startswith("<frozen importlib"):
                if in_import_system and code.co_name == _FIND_AND_LOAD:
                    loads.append(str(frame.f_locals.get("name")))
                elif in_import_system and code.co_name == _HANDLE_FROMLIST:
                    via_fromlist = True
            else:
                in_import_system = False
                info = classify(filename) or self.layout.classify_module(
                    filename, frame.f_globals.get("__name__")
                )
                if info is not None:
                    break
            frame = frame.f_back
        if frame is None or info is None or not loads:
            # No project code on the stack (pytest importing a test module, a
            # plugin), or not a load (importlib.util.find_spec only looks).
            return
        if len(loads) > 1 and loads[1].startswith(fullname + "."):
            return  # a parent package loaded on the way to the module asked for
        code = frame.f_code
        lasti = frame.f_lasti
        statement = 0 <= lasti < len(code.co_code) and code.co_code[lasti] == IMPORT_NAME
        found: list[ModuleSpec | None] = []

        def find() -> ModuleSpec | None:
            if not found:
                found.append(self._find_elsewhere(fullname, path, target))
            return found[0]

        self.on_load(
            LoadEvent(
                module=fullname,
                importer=info,
                line=frame.f_lineno or 0,
                import_statement=statement,
                find=find,
                # The statement's own module, not a name of its fromlist being loaded.
                fromlist=_fromlist(code, lasti) if statement and not via_fromlist else (),
            )
        )

    def _find_elsewhere(self, fullname: str, path: Any, target: Any) -> ModuleSpec | None:
        """What the finders after us will answer (called while the watcher is busy)."""
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            try:
                spec = find_spec(fullname, path, target)
            except Exception:
                return None  # the real import fails the same way
            if spec is not None:
                return spec  # type: ignore[no-any-return]
        return None
