"""Static checking: each contract checked once per run, each graph built at most once.

All contracts that share a graph (same root packages, include_external_packages,
exclude_type_checking_imports) are checked together, lazily, when the first of
their items runs; each on its own copy of the graph and in its own ``try``, so a
contract that cannot be checked never hides the others.

Results are cached on disk, keyed by everything they depend on: the plugin and
library versions, the contracts' options and the size and times of every source
file under the root packages. When nothing changed, the next run reuses them
without importing import-linter or grimp. A file lock around the cache makes
pytest-xdist workers and concurrent runs take turns: the first one checks, the
others read what it wrote (grimp's own cache writes are not atomic either).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest_ssot
from pytest_ssot.fileio import FileError, write_atomic
from pytest_ssot.graph_backend import default_backend
from pytest_ssot.installed import PackageNotFound, package_folders
from pytest_ssot.model import (
    ContractResult,
    ContractSpec,
    DynamicImport,
    GraphError,
    GraphKey,
    GraphStats,
    Hop,
    RedundantIgnore,
    SsotError,
    Violation,
)
from pytest_ssot.paths import display_path
from pytest_ssot.ports import Graph, GraphBackend
from pytest_ssot.result_cache import (
    CACHE_FORMAT,
    SourceState,
    checks_data,
    checks_key,
    find_edit,
    graph_identity,
    graph_only,
    grimp_may_be_stale,
    import_digest,
    index_data,
    module_for,
    read_json_object,
    remap_lines,
    results_data,
    source_state,
    stored_checks,
    stored_results,
)
from pytest_ssot.serialize import result_to_dict
from pytest_ssot.syspath import importable_from

if TYPE_CHECKING:
    from pytest_ssot.dynamic_imports import ScanResult

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock, still correct per process
    fcntl = None  # type: ignore[assignment]


class StaticChecker:
    """Checks the import contracts: builds each import graph once and checks every contract on it.

    Holds the contracts of the run, the graph backend (import-linter and grimp unless a
    test injects another), the graphs and their ``GraphStats`` per ``GraphKey``, and
    the results, read from and written to the result cache under ``cache_root`` when
    nothing they depend on changed. Made by the session (one per run, and a fresh one
    after ``--ssot-fix`` wrote files); contract items ask it for their
    ``ContractResult``, the fixer for what-if checks with imports moved.
    """

    def __init__(
        self,
        rootdir: Path,
        cache_root: Path | None,
        specs: Sequence[ContractSpec] = (),
        *,
        use_results_cache: bool = True,
        redundant_ignores: Callable[[ContractSpec], str] = lambda spec: "warn",
        dynamic_imports: Callable[[ContractSpec], bool] = lambda spec: False,
        backend: GraphBackend | None = None,
        redundant_budget: float | None = None,
    ) -> None:
        self.rootdir = rootdir
        self.backend = backend if backend is not None else default_backend()
        """Builds the graphs and checks the contracts; import-linter and grimp by default
        (imported on first use: a run served from the cache never imports them)."""
        self.redundant_budget = redundant_budget
        """Seconds the search for ignores that no longer matter may take per contract."""
        self.redundant_ignores = redundant_ignores
        """warn, error or off per contract: whether to look for ignores that no longer matter."""
        self.dynamic_imports = dynamic_imports
        """Per contract: whether its graph gets the modules loaded by name (dynamic_imports.py)."""
        self._dynamic: dict[GraphKey, tuple[Graph, ScanResult]] = {}
        self.cache_root = cache_root
        self.specs = list(specs)
        self.use_results_cache = use_results_cache and cache_root is not None
        self._graphs: dict[GraphKey, Graph | GraphError] = {}
        self._stats: dict[GraphKey, GraphStats] = {}
        self._results: dict[str, ContractResult] = {}
        self._shown: dict[GraphKey, dict[str, str | None]] = {}
        self._graph_ids: dict[GraphKey, tuple[str, str]] = {}
        """Per group with stored results: its header and its graph's identity."""
        self._states: dict[GraphKey, SourceState] = {}

    # -- public -------------------------------------------------------------------

    def check(self, spec: ContractSpec) -> ContractResult:
        """The result for one contract; checks its whole graph group on first use."""
        if spec.id not in self._results:
            key = spec.session.graph_key
            group = [s for s in self.specs if s.session.graph_key == key]
            if spec not in group:
                group.append(spec)
            self._check_group(key, group)
        return self._results[spec.id]

    def graph_stats(self) -> list[GraphStats]:
        return list(self._stats.values())

    def check_with_imports(self, imports: Iterable[tuple[str, str]]) -> dict[str, ContractResult]:
        """Every contract checked again on its graph with ``imports`` added.

        For the fixer: a new import that shows up in a violation here would break
        that contract. A contract that cannot be checked gives a result with an error.
        The answers are stored with the results: asked again about the same graph (the
        results came from the cache), they are read back without building it.
        """
        extra = sorted(set(imports))
        results: dict[str, ContractResult] = {}
        for key in sorted({spec.session.graph_key for spec in self.specs}):
            group = [s for s in self.specs if s.session.graph_key == key]
            question = self._question(key, extra)
            if question is not None:
                stored = stored_checks(read_json_object(self._checks_path(key)), question, group)
                if stored is not None:
                    results.update(stored)
                    continue
            answers = self._check_with_imports(key, group, extra)
            results.update(answers)
            if question is not None and not any(r.error for r in answers.values()):
                path = self._checks_path(key)
                data = checks_data(
                    read_json_object(path), question, (result_to_dict(r) for r in answers.values())
                )
                with contextlib.suppress(OSError, FileError):  # costs speed only
                    write_atomic(path, json.dumps(data))
        return results

    def sources_key(self, specs: Sequence[ContractSpec]) -> str | None:
        """One digest of everything the checked groups of ``specs`` depend on: their
        contracts, versions and source files. None when one is not known (no cache)."""
        parts = []
        for key in sorted({spec.session.graph_key for spec in specs}):
            state = self._states.get(key)
            if state is None or not self.use_results_cache:
                return None
            parts.append(f"{key!r}\0{state.header}\0{state.fingerprint}")
        parts += sorted(spec.id for spec in specs)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def cache_path(self, kind: str, specs: Sequence[ContractSpec]) -> Path | None:
        """A file of the cache folder for something derived from ``specs``' results."""
        if self.cache_root is None or not self.use_results_cache:
            return None
        names = "\n".join(sorted(spec.id for spec in specs))
        return self.cache_root / f"{kind}-{hashlib.sha256(names.encode()).hexdigest()[:16]}.json"

    def _question(self, key: GraphKey, extra: Sequence[tuple[str, str]]) -> str | None:
        known = self._graph_ids.get(key) if self.use_results_cache else None
        return None if known is None else checks_key(known[0], known[1], extra)

    def _check_with_imports(
        self, key: GraphKey, group: Sequence[ContractSpec], extra: Sequence[tuple[str, str]]
    ) -> dict[str, ContractResult]:
        backend = self.backend
        results: dict[str, ContractResult] = {}
        with _collector_paused():
            graph: Graph | GraphError
            try:
                graph = backend.with_imports(self._graph(key), extra)
            except GraphError as exc:
                graph = exc
            for spec in group:
                if isinstance(graph, GraphError):
                    results[spec.id] = ContractResult(spec=spec, kept=False, error=str(graph))
                    continue
                try:
                    with importable_from(self.rootdir):
                        contract = backend.instantiate(spec)
                    raw = backend.check(contract, graph)
                except SsotError as exc:
                    results[spec.id] = ContractResult(spec=spec, kept=False, error=str(exc))
                    continue
                results[spec.id] = ContractResult(
                    spec=spec, kept=raw.kept, violations=raw.violations
                )
        return results

    def module_importers(self, key: GraphKey, module: str) -> set[str]:
        """The modules of ``key``'s graph that directly import ``module`` (empty if unknown)."""
        return self.backend.importers_of(self._graph(key), module)

    def graph_modules(self, key: GraphKey) -> set[str]:
        return self.backend.module_names(self._graph(key))

    def cache_dir_for(self, key: GraphKey) -> Path | None:
        """A grimp cache folder per option set: grimp's cache must not be shared between them."""
        if self.cache_root is None:
            return None
        return self.cache_root / f"grimp-{_key_hash(key)}"

    # -- one group of contracts -----------------------------------------------------

    def _check_group(self, key: GraphKey, group: list[ContractSpec]) -> None:
        with self._locked(key):
            started = time.perf_counter()
            state = self._source_state(key, group) if self.use_results_cache else None
            if state is not None:
                self._states[key] = state
                if self._reuse(key, group, state, started):
                    return
                self._drop_stale_grimp_cache(key, state)
            facts = contextlib.nullcontext() if self._graph_only(group) else self.source_facts()
            with facts, _collector_paused():
                results = {spec.id: self._check_one(spec) for spec in group}
            self._results.update(results)
            graph = self._graphs.get(key)
            if graph is not None and not isinstance(graph, GraphError):
                scanned = self._dynamic.get(key)
                self._stats[key] = GraphStats(
                    key=key,
                    modules=graph.modules,
                    imports=graph.imports,
                    build_ms=graph.build_ms,
                    dynamic_imports=None if scanned is None else len(scanned[1].imports),
                    unresolved=() if scanned is None else self._unresolved(graph, scanned[1]),
                    dynamic_added=() if scanned is None else self._added(graph, scanned[1]),
                )
                if state is not None:
                    self._write_cache(key, state, results, self._stats[key], graph, group)

    def _check_one(self, spec: ContractSpec) -> ContractResult:
        started = time.perf_counter()
        backend = self.backend
        try:
            with importable_from(self.rootdir):
                contract = backend.instantiate(spec)
            graph = self._graph(spec.session.graph_key)
            if self.dynamic_imports(spec):
                graph = self._dynamic_graph(graph)
            raw = backend.check(contract, graph)
            redundant: tuple[RedundantIgnore, ...] = ()
            unchecked: tuple[str, ...] = ()
            if self.redundant_ignores(spec) != "off":
                with importable_from(self.rootdir):
                    redundant, unchecked = backend.find_redundant_ignores(
                        spec, contract, graph, raw, budget_s=self.redundant_budget
                    )
        except SsotError as exc:
            return ContractResult(
                spec=spec,
                kept=False,
                error=self._relative(str(exc)),
                check_ms=(time.perf_counter() - started) * 1000,
            )
        return ContractResult(
            spec=spec,
            kept=raw.kept,
            violations=tuple(self._locate(v, graph) for v in raw.violations),
            warnings=raw.warnings + self._unchecked_warnings(unchecked),
            ignored_import_count=raw.ignored_import_count,
            check_ms=raw.check_ms,
            fallback_text=raw.fallback_text,
            redundant_ignores=redundant,
            redundant_unchecked=unchecked,
        )

    def _unchecked_warnings(self, unchecked: tuple[str, ...]) -> tuple[str, ...]:
        if not unchecked:
            return ()
        shown = ", ".join(f"'{e}'" for e in unchecked[:5])
        more = f" and {len(unchecked) - 5} more" if len(unchecked) > 5 else ""
        return (
            f"the search for ignore_imports entries that no longer matter stopped after "
            f"{self.redundant_budget:g} s (ssot_redundant_ignores_budget); "
            f"{len(unchecked)} entr{'y was' if len(unchecked) == 1 else 'ies were'} not "
            f"checked: {shown}{more}. Raise the budget (0: no limit), or set "
            "ssot_redundant_ignores_per_contract to off for this contract",
        )

    def _dynamic_graph(self, graph: Graph) -> Graph:
        """The graph plus the modules its root packages load by name, scanned once per run."""
        known = self._dynamic.get(graph.key)
        if known is None:
            from pytest_ssot.dynamic_imports import scan

            names = self.backend.module_names(graph)
            roots = graph.key.root_packages
            internal = [m for m in names if m.partition(".")[0] in roots]
            with importable_from(self.rootdir):
                found = scan(
                    roots,
                    internal,
                    names,
                    exclude_type_checking=graph.key.exclude_type_checking_imports,
                )
            known = (self.backend.with_extra_imports(graph, found.imports), found)
            self._dynamic[graph.key] = known
        return known[0]

    def _added(self, graph: Graph, found: ScanResult) -> tuple[str, ...]:
        shown = []
        for item in found.imports:
            path = graph.module_file(item.importer)
            where = display_path(path, self.rootdir) if path is not None else item.importer
            loader = item.loader.removeprefix("builtins.")
            shown.append(f"{where}:{item.line}: {item.importer} -> {item.imported} ({loader})")
        return tuple(shown)

    def _unresolved(self, graph: Graph, found: ScanResult) -> tuple[str, ...]:
        shown = []
        for item in found.unresolved:
            path = graph.module_file(item.module)
            where = display_path(path, self.rootdir) if path is not None else item.module
            shown.append(f"{where}:{item.line}: {item.call}")
        shown += [f"{failure} (not scanned)" for failure in found.parse_failures]
        return tuple(shown)

    def _graph(self, key: GraphKey) -> Graph:
        cached = self._graphs.get(key)
        if cached is None:
            try:
                with importable_from(self.rootdir):
                    try:
                        cached = self.backend.build_graph(key, self.cache_dir_for(key))
                    except OSError:
                        # grimp could not write its cache (made read-only meanwhile).
                        cached = self.backend.build_graph(key, None)
            except GraphError as exc:
                cached = GraphError(self._relative(str(exc)))
            self._graphs[key] = cached
        if isinstance(cached, GraphError):
            raise cached
        return cached

    # -- the results cache ------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, key: GraphKey) -> Iterator[None]:
        if self.cache_root is None or fcntl is None:
            yield
            return
        lock_path = self.cache_root / f"lock-{_key_hash(key)}"
        try:
            self.cache_root.mkdir(parents=True, exist_ok=True)
            handle = lock_path.open("a")
        except OSError:
            # The folder was usable at start-up (usable_cache_root) and is not now:
            # go on without the caches rather than fail the contracts.
            self.cache_root = None
            self.use_results_cache = False
            yield
            return
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _results_path(self, key: GraphKey) -> Path:
        assert self.cache_root is not None
        return self.cache_root / f"results-{_key_hash(key)}.json"

    def _checks_path(self, key: GraphKey) -> Path:
        assert self.cache_root is not None
        return self.cache_root / f"checks-{_key_hash(key)}.json"

    def _index_path(self, key: GraphKey) -> Path:
        assert self.cache_root is not None
        return self.cache_root / f"index-{_key_hash(key)}.json"

    def _source_state(self, key: GraphKey, group: Sequence[ContractSpec]) -> SourceState | None:
        """Everything the group's results depend on; None if it cannot be known cheaply."""
        header = {
            "format": CACHE_FORMAT,
            "plugin": pytest_ssot.__version__,
            "libraries": library_stamps(),
            "python": sys.version,
            "key": repr(key),
            "rootdir": str(self.rootdir),
            "contracts": sorted(
                (
                    s.id,
                    s.name,
                    s.type,
                    json.dumps(dict(s.options), sort_keys=True, default=str),
                    json.dumps(dict(s.session.raw), sort_keys=True, default=str),
                    self.redundant_ignores(s) != "off",
                    self.redundant_budget if self.redundant_ignores(s) != "off" else None,
                    self.dynamic_imports(s),
                )
                for s in group
            ),
        }
        folders = self._source_folders(key, group)
        if folders is None:
            return None
        return source_state(header, folders)

    def _source_folders(
        self, key: GraphKey, group: Sequence[ContractSpec]
    ) -> list[tuple[str | None, Path]] | None:
        """The root packages' folders, and the files of custom contract types."""
        found: list[tuple[str | None, Path]] = []
        try:
            with importable_from(self.rootdir):
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

    def _reuse(
        self, key: GraphKey, group: Sequence[ContractSpec], state: SourceState, started: float
    ) -> bool:
        """Serve the stored results if they still stand; False if the group must be checked."""
        data = read_json_object(self._results_path(key))
        if data is None or data.get("header") != state.header:
            return False
        stored = stored_results(data, group)
        if stored is None:
            return False
        results, stats = stored
        graph_id = data.get("graph_id")
        changed = 0
        if data.get("fingerprint") != state.fingerprint:
            edited = self._edited(key, group, state, str(data.get("fingerprint")), results)
            if edited is None:
                return False
            results, changed = edited
            with contextlib.suppress(OSError, FileError):  # a read-only cache costs speed only
                write_atomic(
                    self._results_path(key),
                    json.dumps(
                        results_data(
                            state.fingerprint,
                            state.header,
                            stats,
                            (result_to_dict(r) for r in results.values()),
                            graph_id if isinstance(graph_id, str) else None,
                        )
                    ),
                )
        if isinstance(graph_id, str):
            self._graph_ids[key] = (state.header, graph_id)
        elapsed = (time.perf_counter() - started) * 1000
        self._stats[key] = replace(stats, build_ms=elapsed, from_cache=True, changed_files=changed)
        self._results.update(results)
        return True

    def _edited(
        self,
        key: GraphKey,
        group: Sequence[ContractSpec],
        state: SourceState,
        fingerprint: str,
        results: dict[str, ContractResult],
    ) -> tuple[dict[str, ContractResult], int] | None:
        """The results, when the only change is edits that kept every file's imports.

        The graph is then the same, so verdicts and chains stand; only the line numbers
        of imports in the edited files may have moved, and are re-read from them.
        """
        if not self._graph_only(group):
            return None
        index = read_json_object(self._index_path(key))
        edit = find_edit(index, state, fingerprint) if index is not None else None
        if edit is None:
            return None
        try:
            lines = self.backend.rescan_imports(
                key, _modules_by_folder(state, edit.digests), edit.changed
            )
        except GraphError:
            return None
        for module, imported in lines.items():
            if import_digest(imported) != edit.digests[module]:
                return None  # an import was added or removed
        remapped = remap_lines(results, lines)
        if remapped is None:
            return None
        assert index is not None
        index["fingerprint"] = state.fingerprint
        index["folders"] = index_data(state, {})["folders"]
        with contextlib.suppress(OSError, FileError):
            write_atomic(self._index_path(key), json.dumps(index))
        return remapped, len(edit.changed)

    @contextlib.contextmanager
    def source_facts(self) -> Iterator[None]:
        """What the SSOT contract types and the fixer read from each file, stored between
        runs (``facts.json``, keyed per file by its stat line, as the fingerprint): after
        one edit, only that file is read again. Written atomically; two runs writing at
        once lose each other's news, never correctness.
        """
        if self.cache_root is None or not self.use_results_cache:
            yield
            return
        from pytest_ssot.contract_types._source_index import CACHE

        path = self.cache_root / "facts.json"
        CACHE.load_stored(read_json_object(path))
        try:
            yield
        finally:
            if CACHE.changed:
                with contextlib.suppress(OSError, FileError):  # costs speed only
                    write_atomic(path, json.dumps(CACHE.stored_data()))

    def _graph_only(self, group: Sequence[ContractSpec]) -> bool:
        """Whether the group's results follow from the import graph alone.

        Not when the graph gets the modules loaded by name (ssot_static_dynamic_imports):
        those come from calls in the code, which an edit can change without an import.
        """
        return graph_only(group) and not any(self.dynamic_imports(s) for s in group)

    def _drop_stale_grimp_cache(self, key: GraphKey, state: SourceState) -> None:
        """Delete grimp's cache when it may hold the imports of a file as it was before.

        grimp trusts a file's modification time alone; an edit that keeps it (a tool
        restoring times, two writes within the clock's resolution) would be served
        its old imports. The index says how each file looked when grimp last read it.
        """
        cache_dir = self.cache_dir_for(key)
        if cache_dir is None or not cache_dir.exists():
            return
        index = read_json_object(self._index_path(key))
        if index is None or index.get("header") != state.header or grimp_may_be_stale(index, state):
            with contextlib.suppress(OSError, FileError):
                shutil.rmtree(cache_dir)

    def _write_cache(
        self,
        key: GraphKey,
        state: SourceState,
        results: dict[str, ContractResult],
        stats: GraphStats,
        graph: Graph,
        group: Sequence[ContractSpec],
    ) -> None:
        # The index is written whenever a graph was built (it tells the next run whether
        # grimp's cache can be trusted); the results only when every contract was checked.
        digests: dict[str, str] = {}
        graph_id = state.fingerprint
        if self._graph_only(group):
            digests = {m: import_digest(i) for m, i in self.backend.direct_imports(graph)}
            graph_id = graph_identity(digests)
        # A read-only cache, or a results path that is not a regular file, only costs speed.
        with contextlib.suppress(OSError, FileError):
            write_atomic(self._index_path(key), json.dumps(index_data(state, digests)))
        with contextlib.suppress(OSError, FileError):
            if any(r.error for r in results.values()):
                self._results_path(key).unlink(missing_ok=True)
            else:
                data = results_data(
                    state.fingerprint,
                    state.header,
                    stats,
                    (result_to_dict(r) for r in results.values()),
                    graph_id,
                )
                write_atomic(self._results_path(key), json.dumps(data))
                self._graph_ids[key] = (state.header, graph_id)

    # -- helpers --------------------------------------------------------------------

    def _locate(self, violation: Violation, graph: Graph) -> Violation:
        # Memoised per graph: os.path.relpath is slow, and a contract with hundreds of
        # chains names the same modules again and again.
        memo = self._shown.setdefault(graph.key, {})

        def shown_file(module: str) -> str | None:
            try:
                return memo[module]
            except KeyError:
                path = graph.module_file(module)
                shown = memo[module] = None if path is None else display_path(path, self.rootdir)
                return shown

        loaded = self._loaded_by_name(graph)

        def locate(hop: Hop) -> Hop:
            shown = shown_file(hop.importer)
            if shown is not None:
                hop = replace(hop, importer_file=shown)
            dynamic = loaded.get((hop.importer, hop.imported))
            if dynamic:
                lines = set(hop.line_numbers)
                marks = [d.label for d in dynamic if not lines or d.line in lines]
                hop = replace(hop, via="; ".join(marks) or None)
            return hop

        file = violation.file
        if file is None and not violation.hops:
            file = shown_file(violation.importer)
        elif file is not None and Path(file).is_absolute():
            file = display_path(Path(file), self.rootdir)
        return replace(violation, hops=tuple(locate(h) for h in violation.hops), file=file)

    def _loaded_by_name(self, graph: Graph) -> dict[tuple[str, str], list[DynamicImport]]:
        """The imports of ``graph`` that only a call loading a module by name makes."""
        known = self._dynamic.get(graph.key)
        if known is None or known[0] is not graph:
            return {}
        pairs: dict[tuple[str, str], list[DynamicImport]] = {}
        for found in known[1].imports:
            pairs.setdefault((found.importer, found.imported), []).append(found)
        return pairs

    def _relative(self, message: str) -> str:
        # grimp and find_spec speak in absolute paths; users read rootdir-relative ones.
        root = str(self.rootdir)
        return message.replace(root + "/", "").replace(root, ".")


def _modules_by_folder(
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


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Building a graph allocates hundreds of thousands of objects in a pytest process whose
    heap is already large; the cyclic collector would keep rescanning it (about 10-15% of a
    cold build). It is switched back on afterwards, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def usable_cache_root(make: Callable[[], Path]) -> tuple[Path | None, str | None]:
    """The folder for the result and graph caches, or None and why it cannot be used.

    ``make`` creates it (pytest's ``cache.mkdir``), which fails when ``.pytest_cache``
    is a file or the checkout is read-only. Files already in it must be writable too:
    the lock is opened for appending and grimp rewrites its files in place.
    """
    try:
        root = make()
        fd, probe = tempfile.mkstemp(dir=root, prefix=".probe-")
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        return None, _os_reason(exc)
    try:
        with os.scandir(root) as scan:
            entries = list(scan)
        for entry in entries:
            inner = [entry]
            if entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as scan:
                    inner += list(scan)
            for item in inner:
                if not os.access(item.path, os.W_OK):
                    return None, f"{item.path} is read-only"
    except OSError as exc:
        return None, _os_reason(exc)
    return root, None


def _os_reason(exc: OSError) -> str:
    # pytest creates its cache folder as a temporary folder renamed into place: name
    # the place (filename2), or the folder it could not write in, not the temporary.
    where = str(exc.filename2 or exc.filename or "")
    if Path(where).name.startswith(("pytest-cache-files-", ".probe-")):
        where = f"cannot write in {Path(where).parent}"
    return f"{where}: {exc.strerror}" if where and exc.strerror else str(exc)


def _key_hash(key: GraphKey) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


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
