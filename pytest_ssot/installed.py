"""What the import system and the installed distributions say, asked without importing.

- ``package_folders``: the folders of a root package, found as grimp and lint-imports
  find them (``importlib.util.find_spec`` on the current ``sys.path``; put the rootdir
  on it first with ``syspath.importable_from``). The static check, the result cache,
  the contract types and the runtime checks all ask this one function.
- ``library_versions``: the installed import-linter and grimp versions.
- ``module_exists``: whether a module can be found (an optional extra, a declared class's
  module), without importing anything new.

No pytest, no import-linter, no grimp: every layer may ask.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

LIBRARIES = ("import-linter", "grimp")
"""The distributions our adapter depends on, by their distribution names."""


class PackageNotFound(LookupError):
    """A root package the import system cannot find, or a module that is not a package.

    The message says which and what to do, in the words of the ``root_packages`` option.
    """


def package_folders(name: str) -> tuple[str, ...]:
    """Every folder of the package ``name`` (all portions of a namespace package).

    Raises ``PackageNotFound`` when it cannot be found or is a plain module. A dotted
    name imports its parent package, as ``find_spec`` does. A top-level name is looked
    for on ``sys.path`` (through the import system's finders) even when a package of that
    name is already imported: what a test run happened to import first must not decide
    which copy the contracts check (a stray ``app/`` beside ``src/app`` is checked in
    every mode, as lint-imports checks it).
    """
    try:
        spec = _find_on_path(name) if "." not in name else importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise PackageNotFound(f"root package {name!r} cannot be found: {exc}") from None
    if spec is None:
        raise PackageNotFound(
            f"root package {name!r} cannot be found on sys.path. Make it importable: install "
            "the project, or add its folder to pytest's 'pythonpath' ini option."
        )
    folders = tuple(spec.submodule_search_locations or ())
    if not folders:
        raise PackageNotFound(
            f"{name!r} is a module, not a package: root_packages must name packages "
            "(folders with an __init__.py)."
        )
    return folders


def _find_on_path(name: str) -> importlib.machinery.ModuleSpec | None:
    """``importlib.util.find_spec`` for a top-level name, without its ``sys.modules`` answer."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(name, None)
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def module_exists(name: str) -> bool | None:
    """Whether a module can be found, without importing anything new (None: cannot tell).

    The deepest ancestor already imported is asked through the import system; below it
    the search goes on by file, the way the path finder would import each level. It
    stops at "cannot tell" (None) where a package may extend its own ``__path__``
    (its ``__init__.py`` mentions it) or where a level is a module, not a package.
    Serves the optional extras (networkx, libcst) and the manager declarations' class
    paths, also in a ``--ssot-only`` run, which imports none of the project.
    """
    found, _ = _find_without_importing(name)
    return found


def module_source(name: str) -> str | None:
    """The ``.py`` file a module would be imported from, found without importing anything
    new; None when it cannot be found or is not a source file (built-in, compiled)."""
    found, spec = _find_without_importing(name)
    if not found or spec is None or not spec.has_location or spec.origin is None:
        return None
    return spec.origin if spec.origin.endswith(".py") else None


def _find_without_importing(
    name: str,
) -> tuple[bool | None, importlib.machinery.ModuleSpec | None]:
    parts = name.split(".")
    depth = len(parts) - 1  # the deepest parent imported
    while depth and ".".join(parts[:depth]) not in sys.modules:
        depth -= 1
    try:  # the parent is imported (or there is none): its finders import nothing new
        spec = importlib.util.find_spec(".".join(parts[: depth + 1]))
    except (ImportError, ValueError):
        return False, None
    locations: list[str] | None = None
    for level in range(depth + 2, len(parts) + 1):
        if spec is None:
            return False, None
        locations = _plain_package_locations(spec, locations)
        if locations is None:
            return None, None
        name_here = ".".join(parts[:level])
        try:
            spec = importlib.machinery.PathFinder.find_spec(name_here, locations)
        except KeyError:
            # Only namespace portions were found: the finder's path object looks the
            # parent up in sys.modules. A namespace package exists as soon as a folder does.
            spec = importlib.machinery.ModuleSpec(name_here, None, is_package=True)
    return spec is not None, spec


def _plain_package_locations(
    spec: importlib.machinery.ModuleSpec, parent: list[str] | None
) -> list[str] | None:
    """Where a package's submodules are, if importing it cannot change that; else None.

    ``parent``: the locations ``spec`` was found in, None for an imported parent.
    """
    if spec.submodule_search_locations is None:
        return None  # a module: it may still put "submodules" into sys.modules
    if spec.origin is None or not spec.has_location:
        # A namespace package: its folders are its name's folder in each parent location
        # (its own path object would look the parent up in sys.modules).
        if parent is None:
            return list(spec.submodule_search_locations or ())
        last = spec.name.rpartition(".")[2]
        return [str(Path(folder, last)) for folder in parent if Path(folder, last).is_dir()]
    try:
        if b"__path__" in Path(spec.origin).read_bytes():
            return None  # extends its own path (pkgutil, pkg_resources, by hand)
    except OSError:
        return None
    return list(spec.submodule_search_locations)


_VERSIONS: dict[str, str] = {}


def library_versions() -> dict[str, str]:
    """The installed import-linter and grimp versions ("missing" if not installed).

    Read from their distribution metadata, once per process, without importing them.
    """
    if not _VERSIONS:
        import importlib.metadata  # its parsers cost tens of milliseconds: only when asked

        for dist in LIBRARIES:
            try:
                _VERSIONS[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                _VERSIONS[dist] = "missing"
    return dict(_VERSIONS)
