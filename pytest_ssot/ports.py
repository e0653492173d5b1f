"""The ports: what the static checker needs from an import-graph library, as protocols.

``checking/`` is written against ``GraphBackend`` alone. ``graph_backend.py`` wires in
the real one (import-linter and grimp, through ``adapter.py`` and ``adapter_scan.py``,
imported on first use); the unit tests wire in a fake that builds graphs from a few
files. Nothing here imports a library: the protocols speak the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pytest_ssot.model import (
    ContractSpec,
    DynamicImport,
    GraphKey,
    RawResult,
    RedundantIgnore,
)

ModuleImports = dict[str, dict[str, tuple[int, ...]]]
"""Per module, the modules it imports directly and on which lines: {importer: {imported: lines}}."""


class Graph(Protocol):
    """An import graph a backend built, as the checker sees it: opaque but for these."""

    @property
    def key(self) -> GraphKey: ...

    @property
    def modules(self) -> int: ...

    @property
    def imports(self) -> int: ...

    @property
    def build_ms(self) -> float: ...

    def module_file(self, module: str) -> Path | None:
        """The source file of a module of the graph; None for an external or unknown one."""
        ...


class GraphBackend(Protocol):
    """Builds import graphs and checks contracts on them.

    Errors are ours: ``GraphError`` when a graph cannot be built, ``ContractError`` when a
    contract cannot be instantiated or checked, each with a message for the user. A
    graph passed in is always one this backend built (or derived with ``with_*``).
    """

    def build_graph(self, key: GraphKey, cache_dir: Path | None) -> Graph:
        """The graph of ``key``'s root packages; ``cache_dir`` for the library's own cache.

        Raises OSError when that cache cannot be written (the checker then builds without).
        """
        ...

    def with_imports(self, graph: Graph, imports: Iterable[tuple[str, str]]) -> Graph:
        """A copy with more direct imports; those between modules it does not hold left out."""
        ...

    def with_extra_imports(self, graph: Graph, extra: Sequence[DynamicImport]) -> Graph:
        """A copy with the imports of modules loaded by name, each with its line."""
        ...

    def module_names(self, graph: Graph) -> set[str]: ...

    def importers_of(self, graph: Graph, module: str) -> set[str]:
        """The modules that import ``module`` directly (empty when the graph lacks it)."""
        ...

    def import_lines(self, graph: Graph, importer: str, imported: str) -> list[str]:
        """The source lines of ``importer``'s imports of ``imported`` (empty when unknown)."""
        ...

    def direct_imports(self, graph: Graph) -> Iterable[tuple[str, set[str]]]:
        """Each module of the root packages with the modules it imports directly."""
        ...

    def instantiate(self, spec: ContractSpec) -> object:
        """The contract object for ``spec``, its options validated."""
        ...

    def check(self, contract: object, graph: Graph) -> RawResult:
        """Check one contract (from ``instantiate``) on its own copy of ``graph``."""
        ...

    def find_redundant_ignores(
        self,
        spec: ContractSpec,
        contract: object,
        graph: Graph,
        raw: RawResult,
        *,
        budget_s: float | None = None,
    ) -> tuple[tuple[RedundantIgnore, ...], tuple[str, ...]]:
        """The contract's ``ignore_imports`` entries that no longer matter, and those the
        search had no time to try within ``budget_s`` seconds (None: no limit)."""
        ...

    def rescan_imports(
        self,
        key: GraphKey,
        packages: Sequence[tuple[str, Path, Iterable[str]]],
        targets: Iterable[str],
    ) -> ModuleImports:
        """Re-read the imports of a few modules as a build would, without building.

        ``packages`` are the root packages' folders with every module in them. Raises
        GraphError when a file cannot be read or parsed.
        """
        ...
