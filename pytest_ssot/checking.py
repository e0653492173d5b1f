"""Static checking: build each import graph once, check each contract on its own copy.

One graph per distinct (root packages, include_external_packages,
exclude_type_checking_imports), built lazily when the first contract that needs
it runs. A contract that cannot be checked becomes a result with an error, so
one bad contract never hides the others.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import pytest_ssot.adapter as adapter
from pytest_ssot.model import (
    ContractError,
    ContractResult,
    ContractSpec,
    GraphError,
    GraphKey,
    GraphStats,
    Hop,
    SsotError,
    Violation,
)
from pytest_ssot.sources import display_path


class StaticChecker:
    def __init__(self, rootdir: Path, cache_root: Path | None) -> None:
        self.rootdir = rootdir
        self.cache_root = cache_root
        self._graphs: dict[GraphKey, adapter.BuiltGraph | GraphError] = {}

    # -- graphs ---------------------------------------------------------------

    def cache_dir_for(self, key: GraphKey) -> Path | None:
        """A cache folder per option set: grimp's cache must not be shared between them."""
        if self.cache_root is None:
            return None
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        return self.cache_root / f"grimp-{digest}"

    def graph(self, key: GraphKey) -> adapter.BuiltGraph:
        cached = self._graphs.get(key)
        if cached is None:
            try:
                with adapter.importable_from(self.rootdir):
                    cached = adapter.build_graph(key, self.cache_dir_for(key))
            except GraphError as exc:
                cached = GraphError(self._relative(str(exc)))
            self._graphs[key] = cached
        if isinstance(cached, GraphError):
            raise cached
        return cached

    def graph_stats(self) -> list[GraphStats]:
        return [
            GraphStats(key=g.key, modules=g.modules, imports=g.imports, build_ms=g.build_ms)
            for g in self._graphs.values()
            if isinstance(g, adapter.BuiltGraph)
        ]

    # -- contracts ------------------------------------------------------------

    def check(self, spec: ContractSpec) -> ContractResult:
        started = time.perf_counter()
        try:
            with adapter.importable_from(self.rootdir):
                contract = adapter.instantiate(spec)
            graph = self.graph(spec.session.graph_key)
            raw = adapter.check(contract, graph)
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
            warnings=raw.warnings,
            ignored_import_count=raw.ignored_import_count,
            check_ms=raw.check_ms,
            fallback_text=raw.fallback_text,
        )

    def validate(self, spec: ContractSpec) -> None:
        """Raise ContractError now if the contract's type or options are wrong."""
        with adapter.importable_from(self.rootdir):
            adapter.instantiate(spec)

    # -- helpers --------------------------------------------------------------

    def _locate(self, violation: Violation, graph: adapter.BuiltGraph) -> Violation:
        def locate(hop: Hop) -> Hop:
            path = graph.module_file(hop.importer)
            if path is None:
                return hop
            return replace(hop, importer_file=display_path(path, self.rootdir))

        file = violation.file
        if file is None and not violation.hops:
            path = graph.module_file(violation.importer)
            file = display_path(path, self.rootdir) if path is not None else None
        elif file is not None and Path(file).is_absolute():
            file = display_path(Path(file), self.rootdir)
        return replace(violation, hops=tuple(locate(h) for h in violation.hops), file=file)

    def _relative(self, message: str) -> str:
        # grimp and find_spec speak in absolute paths; users read rootdir-relative ones.
        root = str(self.rootdir)
        return message.replace(root + "/", "").replace(root, ".")


__all__ = ["ContractError", "StaticChecker"]
