"""The result cache on disk: what a group's results depend on, and telling what changed.

Two files per graph (one set of root packages and options) in pytest-ssot's cache folder:

- ``results-<hash>.json``: the fingerprint (one digest of everything the results depend
  on), the header digest (everything but the source files), the graph's size and the
  results. Read on every warm run; when the fingerprint matches, the results stand.
- ``checks-<hash>.json``: the fixer's questions (every contract checked again with some
  imports added) and their answers, keyed by the graph's identity (see ``graph_identity``):
  the fix shown under a chain of cached results must not need the graph built.
- ``index-<hash>.json``: only for groups whose contracts depend on nothing but the
  graph (import-linter's own contract types): the stat line of every source file and,
  per module, a digest of the modules it imports. Read only when the fingerprint
  differs, to tell an edit that changes no import (the graph is the same, so the
  results stand with fresh line numbers) from one that does (check again).

Pure file-system code: no pytest, no import-linter, no grimp.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_ssot.model import ContractResult, ContractSpec, GraphStats
from pytest_ssot.serialize import result_from_dict, stats_from_dict

CACHE_FORMAT = 2

GRAPH_ONLY_TYPES = frozenset(
    {"forbidden", "layers", "independence", "protected", "acyclic_siblings", "private_modules"}
)
"""import-linter's built-in types: their verdicts follow from the graph and the options alone."""


def graph_only(group: Sequence[ContractSpec]) -> bool:
    """Whether every contract of the group depends on the import graph alone.

    Not for custom types (they may read anything) nor pytest-ssot's own types (they
    read what modules define); a custom type registered under a built-in name counts
    as custom.
    """
    for spec in group:
        shadowed = {entry.partition(":")[0].strip() for entry in spec.session.contract_types}
        if spec.type not in GRAPH_ONLY_TYPES or spec.type in shadowed:
            return False
    return True


# ---------------------------------------------------------------------------
# The source files


@dataclass(frozen=True)
class Folder:
    """A folder (or file) the results depend on, with one stat line per Python file."""

    root: str | None
    """The root package it holds, or None (a custom contract type's files)."""
    path: Path
    files: Mapping[str, str]
    """Path relative to ``path`` ('' for a file) -> size, times and inode."""


@dataclass(frozen=True)
class SourceState:
    """A snapshot of the project's Python files, for telling whether stored results still hold.

    ``header`` fingerprints what the results depend on besides the files (contracts,
    settings, versions), ``folders`` holds the size, times and inode of each file,
    and ``fingerprint`` covers both. Made by ``source_state`` for the static
    checker; stored beside the cached results and compared on the next run.
    """

    header: str
    folders: tuple[Folder, ...]
    fingerprint: str


def source_state(
    header: Mapping[str, Any],
    folders: Iterable[tuple[str | None, Path]],
    *,
    packages_only: bool = False,
) -> SourceState:
    """Stat every Python file of ``folders``; the fingerprint covers them and ``header``.

    ``packages_only``: the root packages' folders are walked as grimp reads them (see
    ``stat_files``), for groups whose results follow from the graph alone.
    """
    head = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
    digest = hashlib.sha256(head.encode())
    scanned: list[Folder] = []
    for root, path in folders:
        files = stat_files(path, packages_only=packages_only and root is not None)
        scanned.append(Folder(root, path, files))
        digest.update(f"\0folder {path}\n".encode())
        digest.update("".join(f"{rel}\0{line}\n" for rel, line in files.items()).encode())
    return SourceState(head, tuple(scanned), digest.hexdigest())


def stat_files(folder: Path, *, packages_only: bool = False) -> dict[str, str]:
    """One entry per Python file below ``folder`` (or for the file itself): size, times, inode.

    This runs on every warm run over every source file, so it uses os.scandir and
    plain strings (three times faster than os.walk with Path objects on 10,000 files).
    Symlinked folders are followed, as grimp follows them, and listed with their
    target, so that re-pointing a link is a change too; a link back to a folder
    being scanned (a loop) is listed but not entered.

    ``packages_only``: what grimp reads of a package, and no more. Below a folder with an
    ``__init__.py``, grimp skips every folder without one, with everything in it; so
    does this walk once it has listed such a folder (django's locale, templates and
    static folders: 2,649 folders for 885 modules). An ``__init__.py`` appearing in it
    is listed, with the folder's files, on the next walk; a folder without one coming
    or going changes nothing grimp reads, nor the listing. Folders of a namespace root
    are entered down to its packages, as grimp reads them.
    """
    if folder.is_file():
        st = folder.stat()
        return {"": f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"}
    found: dict[str, str] = {}
    top = os.path.realpath(folder)
    # (folder, its path relative to ``folder``, its real path, real paths above it,
    # whether a folder above it is a package)
    stack: list[tuple[str, str, str, frozenset[str], bool]] = [
        (str(folder), "", top, frozenset({top}), False)
    ]
    while stack:
        path, prefix, real_path, above, in_package = stack.pop()
        try:
            with os.scandir(path) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            found[prefix] = "unreadable"
            continue
        if packages_only:
            package = any(e.name == "__init__.py" and not _is_dir(e) for e in entries)
            if in_package and not package:
                continue  # grimp skips it, with everything below it
            in_package = in_package or package
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():
                    if name == "__pycache__":
                        continue
                    if entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        found[f"{prefix}{name}/"] = f"link\0{real}"
                    else:
                        real = f"{real_path}/{name}"
                    if real in above:
                        continue  # a loop: listed above, not entered
                    stack.append((entry.path, f"{prefix}{name}/", real, above | {real}, in_package))
                elif name.endswith(".py"):
                    st = entry.stat()
                    found[f"{prefix}{name}"] = (
                        f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"
                    )
            except OSError:
                found[f"{prefix}{name}"] = "unreadable"
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def module_for(root: str, rel: str) -> str | None:
    """The module a file below a root package's folder is, as grimp names it."""
    if not rel.endswith(".py"):
        return None
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not all(part.isidentifier() for part in parts):
        return None
    return ".".join([root, *parts])


def import_digest(imported: Iterable[str]) -> str:
    """A short digest of the set of modules one module imports."""
    return hashlib.blake2b("\n".join(sorted(imported)).encode(), digest_size=8).hexdigest()


# ---------------------------------------------------------------------------
# Reading and writing


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when absent, unreadable or of another shape."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def results_data(
    fingerprint: str,
    header: str,
    stats: GraphStats,
    results: Iterable[dict[str, Any]],
    graph_id: str | None = None,
) -> dict[str, Any]:
    from pytest_ssot.serialize import stats_to_dict

    return {
        "format": CACHE_FORMAT,
        "fingerprint": fingerprint,
        "header": header,
        "graph_id": graph_id,
        "graph": stats_to_dict(replace(stats, from_cache=False, changed_files=0)),
        "results": list(results),
    }


def stored_results(
    data: Mapping[str, Any], group: Sequence[ContractSpec]
) -> tuple[dict[str, ContractResult], GraphStats] | None:
    """The group's results from a results file's data; None if any is missing or malformed."""
    try:
        results = group_results(data["results"], group)
        if results is None:
            return None
        return results, stats_from_dict(data["graph"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def group_results(
    stored: Iterable[Mapping[str, Any]], group: Sequence[ContractSpec]
) -> dict[str, ContractResult] | None:
    """One result per contract of the group from their stored dicts; None if one is missing."""
    try:
        by_id = {r["id"]: r for r in stored}
        if any(spec.id not in by_id for spec in group):
            return None
        return {spec.id: result_from_dict(by_id[spec.id], spec) for spec in group}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def index_data(state: SourceState, digests: Mapping[str, str]) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "fingerprint": state.fingerprint,
        "header": state.header,
        "folders": [[f.root, str(f.path), dict(f.files)] for f in state.folders],
        "imports": dict(digests),
    }


def grimp_may_be_stale(index: Mapping[str, Any], state: SourceState) -> bool:
    """Whether grimp's cache may hold imports that no longer hold.

    grimp's cache knows a file by its modification time alone, and keeps each module's
    imports as resolved against the modules that existed when it read the file. So it
    is stale when a file changed but kept its modification time, and when a file (a
    module, or an ``__init__.py`` that makes a folder a package) was added or removed:
    an unchanged file that imports ``pkg.new`` (or ``from pkg import new``) keeps its
    old reading, and lint-imports with its cache misses the new chain. Also True when
    the index cannot be read: nothing then says how the files looked.
    """
    try:
        stored = {str(path): files for _root, path, files in index["folders"]}
        if stored.keys() != {str(folder.path) for folder in state.folders}:
            return True
        for folder in state.folders:
            before = stored[str(folder.path)]
            if before.keys() != folder.files.keys():
                return True
            for rel, line in folder.files.items():
                old = before[rel]
                if old == line or "\0" not in line or "\0" not in old:
                    continue
                if old.split("\0")[1] == line.split("\0")[1]:
                    return True
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return True
    return False


@dataclass(frozen=True)
class Edit:
    """What changed since the stored results, when only existing files changed."""

    changed: dict[str, tuple[str, Path]]
    """Changed module -> (root package, the root folder it is in)."""
    digests: dict[str, str]
    """Every module's stored import digest."""


def find_edit(index: Mapping[str, Any], state: SourceState, fingerprint: str) -> Edit | None:
    """The modules whose files changed, when nothing else did; None otherwise.

    None when the index is not the one of the stored results, when a file was added,
    removed or became unreadable, or when a changed file is not a module of the graph.
    """
    try:
        if index.get("fingerprint") != fingerprint or index.get("header") != state.header:
            return None
        stored = index["folders"]
        digests = index["imports"]
        if not isinstance(digests, dict) or not digests or len(stored) != len(state.folders):
            return None
        changed: dict[str, tuple[str, Path]] = {}
        for (root, path, files), folder in zip(stored, state.folders, strict=True):
            if (
                root != folder.root
                or path != str(folder.path)
                or files.keys() != folder.files.keys()
            ):
                return None
            for rel, line in folder.files.items():
                if files[rel] == line:
                    continue
                module = module_for(root, rel) if root is not None and "\0" in line else None
                if module is None or module not in digests:
                    return None
                changed[module] = (root, folder.path)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Edit(changed, digests) if changed else None


def remap_lines(
    results: Mapping[str, ContractResult], lines: Mapping[str, Mapping[str, tuple[int, ...]]]
) -> dict[str, ContractResult] | None:
    """The results with the line numbers of imports made by re-read modules replaced.

    ``lines`` maps each re-read module to {imported module: line numbers}. None when a
    result cannot be updated (a contract type's own rendering, an import not found).
    """
    updated: dict[str, ContractResult] = {}
    for spec_id, result in results.items():
        if result.fallback_text:
            return None
        violations = []
        for violation in result.violations:
            if violation.line is not None and violation.importer in lines:
                return None
            hops = []
            for hop in violation.hops:
                found = lines.get(hop.importer)
                if found is not None:
                    numbers = found.get(hop.imported)
                    if numbers is None:
                        return None
                    hop = replace(hop, line_numbers=numbers)
                hops.append(hop)
            violations.append(replace(violation, hops=tuple(hops)))
        updated[spec_id] = replace(result, violations=tuple(violations))
    return updated


# ---------------------------------------------------------------------------
# The fixer's questions


def graph_identity(digests: Mapping[str, str]) -> str:
    """One digest of a graph given every module's import digest (``import_digest``).

    It stays the same across edits that change no import, unlike the fingerprint.
    """
    text = "\n".join(f"{module} {digest}" for module, digest in sorted(digests.items()))
    return hashlib.sha256(text.encode()).hexdigest()


MAX_CHECKS = 16
"""Answers kept per graph group: the fixer asks two questions per plan."""


def checks_key(header: str, graph_id: str, imports: Sequence[tuple[str, str]]) -> str:
    """The key of one question: the group's contracts, its graph, the imports added."""
    digest = hashlib.sha256(f"{header}\0{graph_id}\0".encode())
    digest.update(json.dumps(sorted(imports)).encode())
    return digest.hexdigest()


def stored_checks(
    data: Mapping[str, Any] | None, key: str, group: Sequence[ContractSpec]
) -> dict[str, ContractResult] | None:
    """The stored answer to one question, or None (absent, malformed, a contract missing)."""
    if data is None or data.get("format") != CACHE_FORMAT:
        return None
    try:
        entries = data["entries"]
        found = entries.get(key) if isinstance(entries, dict) else None
        if not isinstance(found, list):
            return None
    except (KeyError, TypeError, AttributeError):
        return None
    return group_results(found, group)


def checks_data(
    data: Mapping[str, Any] | None, key: str, results: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """The checks file with one more answer, the oldest dropped past ``MAX_CHECKS``."""
    entries: dict[str, Any] = {}
    if data is not None and data.get("format") == CACHE_FORMAT:
        old = data.get("entries")
        if isinstance(old, dict):
            entries = {k: v for k, v in old.items() if k != key}
    entries[key] = list(results)
    while len(entries) > MAX_CHECKS:
        del entries[next(iter(entries))]
    return {"format": CACHE_FORMAT, "entries": entries}


# ---------------------------------------------------------------------------
# The fixes shown under failures


def shown_fixes_data(
    key: str, edges: Mapping[tuple[str, str], tuple[list[str], Mapping[str, Any]]]
) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "key": key,
        "edges": [[a, b, lines, dict(report)] for (a, b), (lines, report) in edges.items()],
    }


def stored_shown_fixes(
    data: Mapping[str, Any] | None, key: str
) -> dict[tuple[str, str], tuple[list[str], dict[str, Any]]] | None:
    """The stored fixes when they were planned for the same sources and contracts."""
    if data is None or data.get("format") != CACHE_FORMAT or data.get("key") != key:
        return None
    found: dict[tuple[str, str], tuple[list[str], dict[str, Any]]] = {}
    try:
        for importer, imported, lines, report in data["edges"]:
            if not isinstance(report, dict) or not all(isinstance(x, str) for x in lines):
                return None
            found[(str(importer), str(imported))] = (list(lines), report)
    except (KeyError, TypeError, ValueError):
        return None
    return found
