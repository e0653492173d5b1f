"""Each contract checked on its graph or on a copy with imports added; violations located."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pytest_ssot.checking.graphs import GraphBuilder, collector_paused
from pytest_ssot.checking.options import CheckOptions
from pytest_ssot.model import (
    ContractResult,
    ContractSpec,
    GraphError,
    GraphKey,
    Hop,
    RedundantIgnore,
    SsotError,
    Violation,
)
from pytest_ssot.paths import display_path
from pytest_ssot.ports import Graph
from pytest_ssot.syspath import importable_from


class ContractChecker:
    """Checks one contract at a time: each in its own ``try`` (an error is its result, never
    another contract's), with the search for ignores that no longer matter, and with every
    file it names made rootdir-relative."""

    def __init__(self, rootdir: Path, graphs: GraphBuilder, options: CheckOptions) -> None:
        self.rootdir = rootdir
        self.graphs = graphs
        self.backend = graphs.backend
        self.options = options
        self._shown: dict[GraphKey, dict[str, str | None]] = {}

    def check(self, spec: ContractSpec) -> ContractResult:
        started = time.perf_counter()
        backend = self.backend
        try:
            with importable_from(self.rootdir):
                contract = backend.instantiate(spec)
            graph = self.graphs.graph(spec.session.graph_key)
            if self.options.dynamic_imports(spec):
                graph = self.graphs.dynamic_graph(graph)
            raw = backend.check(contract, graph)
            redundant: tuple[RedundantIgnore, ...] = ()
            unchecked: tuple[str, ...] = ()
            if self.options.finds_redundant(spec):
                with importable_from(self.rootdir):
                    redundant, unchecked = backend.find_redundant_ignores(
                        spec, contract, graph, raw, budget_s=self.options.redundant_budget
                    )
        except SsotError as exc:
            return ContractResult(
                spec=spec,
                kept=False,
                error=self.graphs.relative(str(exc)),
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

    def check_with_imports(
        self, key: GraphKey, group: Sequence[ContractSpec], extra: Sequence[tuple[str, str]]
    ) -> dict[str, ContractResult]:
        """Each contract of the group checked on a copy of ``key``'s graph with ``extra`` added."""
        backend = self.backend
        results: dict[str, ContractResult] = {}
        with collector_paused():
            graph: Graph | GraphError
            try:
                graph = backend.with_imports(self.graphs.graph(key), extra)
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

    def _unchecked_warnings(self, unchecked: tuple[str, ...]) -> tuple[str, ...]:
        if not unchecked:
            return ()
        shown = ", ".join(f"'{e}'" for e in unchecked[:5])
        more = f" and {len(unchecked) - 5} more" if len(unchecked) > 5 else ""
        return (
            f"the search for ignore_imports entries that no longer matter stopped after "
            f"{self.options.redundant_budget:g} s (ssot_redundant_ignores_budget); "
            f"{len(unchecked)} entr{'y was' if len(unchecked) == 1 else 'ies were'} not "
            f"checked: {shown}{more}. Raise the budget (0: no limit), or set "
            "ssot_redundant_ignores_per_contract to off for this contract",
        )

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

        loaded = self.graphs.loaded_by_name(graph)

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
