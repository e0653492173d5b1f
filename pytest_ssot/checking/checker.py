"""``StaticChecker``: what the session, the items and the fixer ask of static checking."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from pytest_ssot.checking.cache_files import CacheFiles
from pytest_ssot.checking.contracts import ContractChecker
from pytest_ssot.checking.graphs import GraphBuilder, collector_paused
from pytest_ssot.checking.options import CheckOptions
from pytest_ssot.checking.stored import ResultStore
from pytest_ssot.graph_backend import default_backend
from pytest_ssot.model import ContractResult, ContractSpec, GraphKey, GraphStats
from pytest_ssot.ports import GraphBackend
from pytest_ssot.result_cache import SourceState


class StaticChecker:
    """Checks the import contracts: builds each import graph once and checks every contract on it.

    Holds the contracts of the run and, per ``GraphKey``, their ``GraphStats`` and results,
    read from and written to the result cache under ``cache_root`` when nothing they
    depend on changed. Made by the session (one per run, and a fresh one after
    ``--ssot-fix`` wrote files); contract items ask it for their ``ContractResult``, the
    fixer for what-if checks with imports moved. The work is done by its parts: the
    graphs (``GraphBuilder``), the checks (``ContractChecker``), the stored results
    (``ResultStore``) and the cache folder's files (``CacheFiles``).
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
        self.specs = list(specs)
        self.backend = backend if backend is not None else default_backend()
        """Builds the graphs and checks the contracts; import-linter and grimp by default
        (imported on first use: a run served from the cache never imports them)."""
        self.options = CheckOptions(redundant_ignores, dynamic_imports, redundant_budget)
        self.redundant_ignores = redundant_ignores
        """warn, error or off per contract: whether to look for ignores that no longer matter."""
        self.files = CacheFiles(cache_root, use_results_cache)
        self.graphs = GraphBuilder(rootdir, self.backend, self.files)
        self.contracts = ContractChecker(rootdir, self.graphs, self.options)
        self.store = ResultStore(rootdir, self.backend, self.files, self.options)
        self._stats: dict[GraphKey, GraphStats] = {}
        self._results: dict[str, ContractResult] = {}

    @property
    def cache_root(self) -> Path | None:
        """The cache folder; None when there is none, or it stopped being writable."""
        return self.files.root

    def check(self, spec: ContractSpec) -> ContractResult:
        """The result for one contract; checks its whole graph group on first use."""
        if spec.id not in self._results:
            key = spec.session.graph_key
            group = self._group(key)
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
            group = self._group(key)
            stored = self.store.answers(key, group, extra)
            if stored is not None:
                results.update(stored)
                continue
            answers = self.contracts.check_with_imports(key, group, extra)
            results.update(answers)
            if not any(r.error for r in answers.values()):
                self.store.store_answers(key, extra, answers.values())
        return results

    def sources_key(self, specs: Sequence[ContractSpec]) -> str | None:
        """One digest of everything the checked groups of ``specs`` depend on: their
        contracts, versions and source files. None when one is not known (no cache)."""
        return self.store.sources_key(specs)

    def source_states(self, specs: Sequence[ContractSpec]) -> list[SourceState] | None:
        """The source files (with their stat lines) the checked groups of ``specs`` were
        checked against in this run; None when one is not known (no cache)."""
        return self.store.states(specs)

    def built_imports(
        self, specs: Sequence[ContractSpec]
    ) -> tuple[set[str], Callable[[str], set[str]], Callable[[str, str], list[str]]] | None:
        """The modules of the graphs of ``specs``, who imports a module directly, and the
        source lines of one module's imports of another, when every one of those graphs
        was built in this run (None otherwise: never built here)."""
        graphs = []
        for key in sorted({spec.session.graph_key for spec in specs}):
            graph = self.graphs.built(key)
            if graph is None:
                return None
            graphs.append(graph)
        backend = self.backend
        modules = {m for graph in graphs for m in backend.module_names(graph)}

        def importers(module: str) -> set[str]:
            return {m for graph in graphs for m in backend.importers_of(graph, module)}

        def lines(importer: str, imported: str) -> list[str]:
            return [
                line for graph in graphs for line in backend.import_lines(graph, importer, imported)
            ]

        return modules, importers, lines

    def cache_path(self, kind: str, specs: Sequence[ContractSpec]) -> Path | None:
        """A file of the cache folder for something derived from ``specs``' results."""
        return self.files.derived(kind, specs)

    def source_facts(self) -> contextlib.AbstractContextManager[None]:
        """What the SSOT contract types and the fixer read from each file, kept between runs."""
        return self.files.source_facts()

    def module_importers(self, key: GraphKey, module: str) -> set[str]:
        """The modules of ``key``'s graph that directly import ``module`` (empty if unknown)."""
        return self.backend.importers_of(self.graphs.graph(key), module)

    def graph_modules(self, key: GraphKey) -> set[str]:
        return self.backend.module_names(self.graphs.graph(key))

    def cache_dir_for(self, key: GraphKey) -> Path | None:
        """A grimp cache folder per option set: grimp's cache must not be shared between them."""
        return self.files.grimp_dir(key)

    def _group(self, key: GraphKey) -> list[ContractSpec]:
        return [s for s in self.specs if s.session.graph_key == key]

    def _check_group(self, key: GraphKey, group: list[ContractSpec]) -> None:
        with self.files.locked(key):
            started = time.perf_counter()
            state = self.store.state(key, group)
            if state is not None:
                stored = self.store.reuse(key, group, state)
                if stored is not None:
                    results, stats, changed = stored
                    elapsed = (time.perf_counter() - started) * 1000
                    self._stats[key] = replace(
                        stats, build_ms=elapsed, from_cache=True, changed_files=changed
                    )
                    self._results.update(results)
                    return
                self.store.drop_stale_grimp_cache(key, state)
            with self._facts(group), collector_paused():
                results = {spec.id: self.contracts.check(spec) for spec in group}
            self._results.update(results)
            graph = self.graphs.built(key)
            if graph is not None:
                self._stats[key] = self.graphs.stats(graph)
                if state is not None:
                    self.store.write(key, state, results, self._stats[key], graph, group)

    def _facts(self, group: Sequence[ContractSpec]) -> contextlib.AbstractContextManager[None]:
        if self.options.graph_only(group):
            return contextlib.nullcontext()
        return self.files.source_facts()
