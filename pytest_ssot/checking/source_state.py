"""Everything the results of a group of contracts depend on, as a ``SourceState``."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest_ssot
from pytest_ssot.checking.options import CheckOptions
from pytest_ssot.installed import PackageNotFound, package_folders
from pytest_ssot.model import ContractSpec, GraphKey
from pytest_ssot.result_cache import CACHE_FORMAT, SourceState, module_for, source_state
from pytest_ssot.syspath import importable_from


def group_state(
    rootdir: Path, key: GraphKey, group: Sequence[ContractSpec], options: CheckOptions
) -> SourceState | None:
    """Everything the group's results depend on; None if it cannot be known cheaply."""
    header = {
        "format": CACHE_FORMAT,
        "plugin": pytest_ssot.__version__,
        "libraries": library_stamps(),
        "python": sys.version,
        "key": repr(key),
        "rootdir": str(rootdir),
        "contracts": sorted(
            (
                s.id,
                s.name,
                s.type,
                json.dumps(dict(s.options), sort_keys=True, default=str),
                json.dumps(dict(s.session.raw), sort_keys=True, default=str),
                options.finds_redundant(s),
                options.redundant_budget if options.finds_redundant(s) else None,
                options.dynamic_imports(s),
            )
            for s in group
        ),
    }
    folders = _source_folders(rootdir, key, group)
    if folders is None:
        return None
    # A group that depends on the graph alone depends only on the files grimp reads;
    # the SSOT and custom contract types may read any file below the root packages.
    return source_state(header, folders, packages_only=options.graph_only(group))


def _source_folders(
    rootdir: Path, key: GraphKey, group: Sequence[ContractSpec]
) -> list[tuple[str | None, Path]] | None:
    """The root packages' folders, and the files of custom contract types."""
    found: list[tuple[str | None, Path]] = []
    try:
        with importable_from(rootdir):
            for name in key.root_packages:
                found.extend((name, Path(p)) for p in package_folders(name))
            for entry in sorted({t for s in group for t in s.session.contract_types}):
                # The module defining the type, and the whole top-level package it
                # belongs to: a helper module the type imports can change its verdicts.
                module = entry.partition(":")[2].strip().rpartition(".")[0]
                spec = importlib.util.find_spec(module)
                if spec is None or spec.origin is None:
                    return None
                found.append((None, Path(spec.origin)))
                with contextlib.suppress(PackageNotFound):  # a top-level module
                    top = package_folders(module.partition(".")[0])
                    found.extend((None, Path(p)) for p in top)
    except (PackageNotFound, ImportError, ValueError):
        return None  # let the real check say what is wrong
    return found


def modules_by_folder(
    state: SourceState, digests: Mapping[str, str]
) -> list[tuple[str, Path, list[str]]]:
    """Each root package folder with the graph's modules in it."""
    roots = [f for f in state.folders if f.root is not None]
    if len({f.root for f in roots}) == len(roots):
        # One folder per root package (no namespace portions): split the names alone.
        by_root: dict[str, list[str]] = {f.root: [] for f in roots if f.root is not None}
        for module in digests:
            bucket = by_root.get(module.partition(".")[0])
            if bucket is not None:
                bucket.append(module)
        return [(f.root, f.path, by_root[f.root]) for f in roots if f.root is not None]
    found = []
    for folder in roots:
        assert folder.root is not None
        names = (module_for(folder.root, rel) for rel in folder.files)
        found.append((folder.root, folder.path, [m for m in names if m and m in digests]))
    return found


def library_stamps() -> dict[str, str]:
    """Which import-linter and grimp are installed, for the fingerprint.

    The path, size, time and inode of each package's ``__init__.py``: installing
    another version writes it anew. Cheaper than reading their versions, which loads
    importlib.metadata's parsers (tens of milliseconds, on every warm run).
    """
    stamps: dict[str, str] = {}
    for name in ("importlinter", "grimp"):
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            st = os.stat(origin) if origin else None  # noqa: PTH116 (a str path, hot)
        except (ImportError, ValueError, OSError):
            st = origin = None
        stamps[name] = f"{origin}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}" if st else "missing"
    return stamps
