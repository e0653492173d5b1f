"""The real graph backend: import-linter and grimp, through ``adapter.py``, wired to the port.

Importing this module costs nothing: ``adapter.py`` (import-linter, grimp, Rich) is
imported on the first call that needs it, so a run whose results all come from the
cache never pays for it, and re-reading a few edited files (``rescan_imports``) needs
``adapter_scan.py`` (grimp alone) only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_ssot.model import ContractSpec, DynamicImport, GraphKey, RawResult, RedundantIgnore
from pytest_ssot.ports import Graph, GraphBackend, ModuleImports


class ImportLinterBackend:
    """``GraphBackend`` on import-linter and grimp. Its graphs are ``adapter.BuiltGraph``."""

    def build_graph(self, key: GraphKey, cache_dir: Path | None) -> Graph:
        from pytest_ssot.adapter import build_graph

        return build_graph(key, cache_dir)

    def with_imports(self, graph: Graph, imports: Iterable[tuple[str, str]]) -> Graph:
        from pytest_ssot.adapter import built, with_imports

        return with_imports(built(graph), imports)

    def with_extra_imports(self, graph: Graph, extra: Sequence[DynamicImport]) -> Graph:
        from pytest_ssot.adapter import built, with_extra_imports

        return with_extra_imports(built(graph), extra)

    def module_names(self, graph: Graph) -> set[str]:
        from pytest_ssot.adapter import built, module_names

        return module_names(built(graph))

    def importers_of(self, graph: Graph, module: str) -> set[str]:
        from pytest_ssot.adapter import built, importers_of

        return importers_of(built(graph), module)

    def import_lines(self, graph: Graph, importer: str, imported: str) -> list[str]:
        from pytest_ssot.adapter import built, import_lines

        return import_lines(built(graph), importer, imported)

    def direct_imports(self, graph: Graph) -> Iterable[tuple[str, set[str]]]:
        from pytest_ssot.adapter import built, direct_imports

        return direct_imports(built(graph))

    def instantiate(self, spec: ContractSpec) -> object:
        from pytest_ssot.adapter import instantiate

        return instantiate(spec)

    def check(self, contract: object, graph: Graph) -> RawResult:
        from pytest_ssot.adapter import built, check

        return check(contract, built(graph))

    def find_redundant_ignores(
        self,
        spec: ContractSpec,
        contract: object,
        graph: Graph,
        raw: RawResult,
        *,
        budget_s: float | None = None,
    ) -> tuple[tuple[RedundantIgnore, ...], tuple[str, ...]]:
        from pytest_ssot.adapter import built, find_redundant_ignores

        return find_redundant_ignores(spec, contract, built(graph), raw, budget_s=budget_s)

    def rescan_imports(
        self,
        key: GraphKey,
        packages: Sequence[tuple[str, Path, Iterable[str]]],
        targets: Iterable[str],
    ) -> ModuleImports:
        from pytest_ssot.adapter_scan import scan_module_imports

        return scan_module_imports(key, packages, targets)


def default_backend() -> GraphBackend:
    return ImportLinterBackend()
