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

import importlib.util
import sys

LIBRARIES = ("import-linter", "grimp")
"""The distributions our adapter depends on, by their distribution names."""


class PackageNotFound(LookupError):
    """A root package the import system cannot find, or a module that is not a package.

    The message says which and what to do, in the words of the ``root_packages`` option.
    """


def package_folders(name: str) -> tuple[str, ...]:
    """Every folder of the package ``name`` (all portions of a namespace package).

    Raises ``PackageNotFound`` when it cannot be found or is a plain module. A dotted
    name imports its parent package, as ``find_spec`` does.
    """
    try:
        spec = importlib.util.find_spec(name)
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


def module_exists(name: str) -> bool | None:
    """Whether a module can be found, without importing anything new (None: cannot tell).

    A submodule of a package not imported yet cannot be told without importing the
    package: None. Serves the optional extras (networkx, libcst: top-level, never None)
    and the manager declarations' class paths.
    """
    parent = name.rpartition(".")[0]
    if parent and parent not in sys.modules:
        return module_exists(parent) and None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


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
