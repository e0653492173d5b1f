"""The project's files as the import system and the import graph see them.

- ``ProjectLayout``: where the root packages live, which files are project code,
  and which module name a file stands for (the importer of a runtime import).
- ``find_hidden_folders``: folders inside the root packages that hold ``.py``
  files but no ``__init__.py``; grimp skips them, so no contract sees their imports.

Plain functions of the file system and of the mappings passed in; no pytest. A
contracts-only run (``--ssot-only``) uses it without any runtime check.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_ssot.installed import PackageNotFound, package_folders
from pytest_ssot.paths import OWN_FOLDERS, ProjectFiles, display_path, is_under
from pytest_ssot.syspath import importable_from

SKIPPED_DIRS = frozenset({"__pycache__"})


def find_package_dirs(rootdir: Path, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The folders of top-level packages, found as lint-imports finds them (rootdir on sys.path).

    The rootdir is on ``sys.path`` only for the duration. Packages that cannot be
    found are left out: the static check reports them.
    """
    found: dict[str, tuple[str, ...]] = {}
    with importable_from(rootdir):
        for name in names:
            with contextlib.suppress(PackageNotFound):
                found[name] = tuple(absolute(p) for p in package_folders(name))
    return found


def absolute(path: str | Path) -> str:
    """An absolute, normalised path, without resolving symlinks.

    os.path, not pathlib: called for every module in ``sys.modules`` and every
    frame file, where building Path objects would be most of the cost.
    """
    return os.path.abspath(path)  # noqa: PTH100


@dataclass(frozen=True)
class FileInfo:
    """A project file, as the importer of a runtime import."""

    path: str
    display: str
    """Relative to the rootdir when inside it, with forward slashes."""
    module: str
    """The module the file is (inside a root package) or a dotted label of its path."""
    root: str | None
    """The root package that contains the file; None for code outside the root packages."""
    hidden_folder: str | None = None
    """The top-most folder without ``__init__.py`` on the way down from the root package."""

    @property
    def in_graph(self) -> bool:
        """grimp scans this file: it is inside a root package and no folder hides it."""
        return self.root is not None and self.hidden_folder is None


class ProjectLayout:
    """Which files are the project's, and which module each stands for.

    Holds the folders each root package is found in (``find_package_dirs``). Made once
    per run by the session (``ProjectLayout.discover``) and shared by the hidden-folder
    scan, the double-load check and the runtime import checks, which ask it to
    classify a file or a module.
    """

    def __init__(
        self,
        rootdir: Path,
        package_dirs: Mapping[str, Sequence[str]],
        *,
        excluded: Sequence[str] | None = None,
    ) -> None:
        self.rootdir = absolute(rootdir)
        self.package_dirs = {name: tuple(dirs) for name, dirs in package_dirs.items()}
        # Longest folder first, so nested layouts map to the most specific package.
        self._roots = sorted(
            ((d, name) for name, dirs in self.package_dirs.items() for d in dirs),
            key=lambda pair: -len(pair[0]),
        )
        self.files = ProjectFiles(self.rootdir, (d for d, _ in self._roots), excluded=excluded)
        """The rule for which files are project code (shared with the manager checks)."""
        self._files: dict[str, FileInfo | None] = {}
        self._dirs: dict[str, str | None] = {}

    @classmethod
    def discover(cls, rootdir: Path, roots: Iterable[str]) -> ProjectLayout:
        return cls(rootdir, find_package_dirs(rootdir, roots))

    def classify_module(self, filename: str, module: object) -> FileInfo | None:
        """A frame of a root package's module found by its name, not its path.

        For a copy of the project that is not where the static check found it: the
        package installed into site-packages (a wheel, as tox installs it) while the
        rootdir holds the source, or the other way round. Cached like ``classify``.
        """
        if not isinstance(module, str) or module.partition(".")[0] not in self.package_dirs:
            return None
        key = f"{filename}\0{module}"
        try:
            return self._files[key]
        except KeyError:
            pass
        info: FileInfo | None = None
        if filename and not filename.startswith("<"):
            path = absolute(filename)
            if not is_under(path, OWN_FOLDERS):
                info = FileInfo(
                    path,
                    display_path(path, self.rootdir, outside="as-given"),
                    module,
                    module.partition(".")[0],
                )
        self._files[key] = info
        return info

    def classify(self, filename: str) -> FileInfo | None:
        """The project file behind a code object's filename; None for anything else.

        Cached: called for frames of the import stack.
        """
        try:
            return self._files[filename]
        except KeyError:
            pass
        info = self._classify(filename)
        self._files[filename] = info
        return info

    def _classify(self, filename: str) -> FileInfo | None:
        if not filename or filename.startswith("<"):
            return None
        path = absolute(filename)
        if not self.files.is_project(path):
            return None
        for folder, root in self._roots:
            if is_under(path, (folder,)):
                module = _dotted(root, Path(os.path.relpath(path, folder)).parts)
                hidden = self._hidden_folder(folder, str(Path(path).parent))
                return FileInfo(
                    path, display_path(path, self.rootdir, outside="as-given"), module, root, hidden
                )
        rel = Path(os.path.relpath(path, self.rootdir)).parts
        return FileInfo(
            path, display_path(path, self.rootdir, outside="as-given"), _dotted("", rel), None
        )

    def _hidden_folder(self, root_folder: str, folder: str) -> str | None:
        """The top-most folder between the root package and ``folder`` lacking ``__init__.py``."""
        if folder == root_folder:
            return None
        cached = self._dirs.get(folder, "?")
        if cached != "?":
            return cached
        above = self._hidden_folder(root_folder, str(Path(folder).parent))
        if above is not None:
            result: str | None = above
        elif not Path(folder).name.isidentifier() or not (Path(folder) / "__init__.py").is_file():
            result = display_path(folder, self.rootdir, outside="as-given")
        else:
            result = None
        self._dirs[folder] = result
        return result


def _dotted(root: str, rel_parts: Sequence[str]) -> str:
    parts = list(rel_parts)
    parts[-1] = parts[-1].partition(".")[0]
    if parts[-1] == "__init__":
        parts.pop()
    names = [root, *parts] if root else parts
    return ".".join(p for p in names if p and p != os.curdir)


# ---------------------------------------------------------------------------
# Folders the graph cannot see


@dataclass(frozen=True)
class HiddenFolder:
    """A folder without ``__init__.py`` inside a root package, so invisible to the import graph.

    Holds its path, how it is shown, the module name it is imported under, and how
    many Python files grimp skips with it. Made by ``find_hidden_folders``; the
    runtime import checks report it once per session.
    """

    path: str
    display: str
    module: str
    """The name the folder is imported under (as a namespace package)."""
    files: int
    """Python files in it and below it: grimp skips the whole subtree."""

    @property
    def fingerprint(self) -> str:
        return f"hidden-folder: {self.display}"


def find_hidden_folders(layout: ProjectLayout) -> list[HiddenFolder]:
    """Folders inside the root packages with ``.py`` files below them that grimp does not see.

    A folder without ``__init__.py`` inside a regular package (one with
    ``__init__.py``); folders of a namespace root package (or of a dotted root such
    as ``nestednamespace.foo``) down to the first regular package are namespace
    packages that grimp's graph contains, so they are not reported.

    Only folders whose names are identifiers (importable ones; grimp ignores the
    others too); ``__pycache__`` and dot-folders are skipped. A hidden folder's
    subfolders are not listed again: its count includes them.
    """
    found: list[HiddenFolder] = []
    seen: set[str] = set()
    for name, folders in sorted(layout.package_dirs.items()):
        for folder in folders:
            if folder in seen:
                continue
            seen.add(folder)
            in_package = os.path.isfile(os.path.join(folder, "__init__.py"))  # noqa: PTH113, PTH118
            _scan_package(folder, name, layout, found, in_package)
    return sorted(found, key=lambda h: h.display)


def _subfolders(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            found = [
                e
                for e in entries
                if e.name.isidentifier()
                and e.name not in SKIPPED_DIRS
                and e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []
    found.sort(key=lambda e: e.name)
    return found


def _scan_package(
    folder: str, module: str, layout: ProjectLayout, out: list[HiddenFolder], in_package: bool
) -> None:
    # os.scandir and plain strings, no pathlib: this runs at every session start over every
    # folder of the root packages (Django's locale folders alone are two thousand).
    # As grimp reads a root package: a folder without __init__.py is a namespace package
    # it walks into, until a folder with __init__.py (a regular package) is reached;
    # inside a regular package, a folder without __init__.py is not seen at all.
    for entry in _subfolders(folder):
        child = f"{module}.{entry.name}"
        if os.path.isfile(os.path.join(entry.path, "__init__.py")):  # noqa: PTH113, PTH118
            _scan_package(entry.path, child, layout, out, True)
            continue
        if not in_package:
            _scan_package(entry.path, child, layout, out, False)  # a namespace grimp sees
            continue
        count = _count_python_files(entry.path)
        if count:
            out.append(
                HiddenFolder(
                    entry.path,
                    display_path(entry.path, layout.rootdir, outside="as-given"),
                    child,
                    count,
                )
            )


def _count_python_files(folder: str) -> int:
    total = 0
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    name = entry.name
                    if name.endswith(".py"):
                        total += entry.is_file()
                    elif (
                        name[:1] != "."
                        and name not in SKIPPED_DIRS
                        and entry.is_dir(follow_symlinks=False)
                    ):
                        stack.append(entry.path)
        except OSError:
            continue
    return total
