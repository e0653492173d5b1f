"""A graph backend for unit tests: graphs read from a few files with ``ast``, one contract type.

It stands in for import-linter and grimp behind ``pytest_ssot.ports.GraphBackend``, so the
checker, its result cache and everything above them run in milliseconds. The graph is
real enough to edit: each build reads the files under the root packages' folders
(absolute ``import`` and ``from ... import`` statements, with their lines), and
``rescan_imports`` re-reads a few of them as a build would. The one contract type is
``forbidden`` (``source_modules`` may not reach ``forbidden_modules``, the shortest
chain reported per pair); other types are unknown, as in import-linter. Every call is
counted in ``calls``, so a test can say a cached run built no graph.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_ssot.model import (
    ContractError,
    ContractSpec,
    DynamicImport,
    GraphError,
    GraphKey,
    Hop,
    RawResult,
    RedundantIgnore,
    Violation,
)
from pytest_ssot.ports import Graph, ModuleImports


@dataclass
class FakeGraph:
    key: GraphKey
    edges: ModuleImports
    """{importer: {imported: lines}}."""
    files: dict[str, Path]
    build_ms: float = 1.0

    @property
    def modules(self) -> int:
        return len(self.edges)

    @property
    def imports(self) -> int:
        return sum(len(targets) for targets in self.edges.values())

    def module_file(self, module: str) -> Path | None:
        return self.files.get(module)


@dataclass
class FakeBackend:
    calls: Counter[str] = field(default_factory=Counter)
    build_error: str | None = None
    """When set, every build raises GraphError with this message."""
    cache_unwritable: bool = False
    """When set, a build with a cache folder raises OSError (as grimp does on a read-only one)."""
    rescan_error: bool = False

    # -- graphs ---------------------------------------------------------------

    def build_graph(self, key: GraphKey, cache_dir: Path | None) -> Graph:
        self.calls["build_graph"] += 1
        if self.cache_unwritable and cache_dir is not None:
            raise PermissionError(13, "Permission denied", str(cache_dir))
        if self.build_error is not None:
            raise GraphError(self.build_error)
        files: dict[str, Path] = {}
        for root in key.root_packages:
            files.update(_package_files(root))
        known = set(files)
        edges = {module: _read_imports(path, known) for module, path in files.items()}
        return FakeGraph(key, edges, files)

    def with_imports(self, graph: Graph, imports: Iterable[tuple[str, str]]) -> Graph:
        self.calls["with_imports"] += 1
        fake = _fake(graph)
        edges = {m: dict(t) for m, t in fake.edges.items()}
        for importer, imported in imports:
            if importer in edges and imported in edges:
                edges[importer].setdefault(imported, ())
        return FakeGraph(fake.key, edges, fake.files, 0.0)

    def with_extra_imports(self, graph: Graph, extra: Sequence[DynamicImport]) -> Graph:
        self.calls["with_extra_imports"] += 1
        fake = _fake(graph)
        edges = {m: dict(t) for m, t in fake.edges.items()}
        for found in extra:
            lines = edges.setdefault(found.importer, {}).get(found.imported, ())
            edges[found.importer][found.imported] = tuple(sorted({*lines, found.line}))
            edges.setdefault(found.imported, {})
        return FakeGraph(fake.key, edges, fake.files, fake.build_ms)

    def module_names(self, graph: Graph) -> set[str]:
        return set(_fake(graph).edges)

    def importers_of(self, graph: Graph, module: str) -> set[str]:
        return {m for m, targets in _fake(graph).edges.items() if module in targets}

    def import_lines(self, graph: Graph, importer: str, imported: str) -> list[str]:
        return []

    def direct_imports(self, graph: Graph) -> Iterable[tuple[str, set[str]]]:
        self.calls["direct_imports"] += 1
        return [(m, set(targets)) for m, targets in _fake(graph).edges.items()]

    def rescan_imports(
        self,
        key: GraphKey,
        packages: Sequence[tuple[str, Path, Iterable[str]]],
        targets: Iterable[str],
    ) -> ModuleImports:
        self.calls["rescan_imports"] += 1
        if self.rescan_error:
            raise GraphError("cannot re-read")
        files: dict[str, Path] = {}
        known: set[str] = set()
        for root, folder, modules in packages:
            names = list(modules)
            known.update(names)
            files.update(_package_files(root, folder))
        return {t: _read_imports(files[t], known) for t in targets}

    # -- contracts ------------------------------------------------------------

    def instantiate(self, spec: ContractSpec) -> object:
        self.calls["instantiate"] += 1
        if spec.type != "forbidden":
            raise ContractError(f"unknown contract type {spec.type!r}. Known types: forbidden.")
        if not spec.options.get("source_modules") or not spec.options.get("forbidden_modules"):
            raise ContractError("invalid options for a forbidden contract: name both ends")
        return spec

    def check(self, contract: object, graph: Graph) -> RawResult:
        self.calls["check"] += 1
        assert isinstance(contract, ContractSpec)
        edges = _fake(graph).edges
        ignored = {
            tuple(part.strip() for part in str(entry).split("->"))
            for entry in contract.options.get("ignore_imports", ())
        }
        violations = []
        for source in contract.options["source_modules"]:
            for forbidden in contract.options["forbidden_modules"]:
                chain = _shortest_chain(edges, str(source), str(forbidden), ignored)
                if chain is not None:
                    hops = tuple(Hop(a, b, edges[a][b]) for a, b in itertools.pairwise(chain))
                    heading = f"{source} is not allowed to import {forbidden}"
                    violations.append(Violation("import", source, forbidden, hops, heading))
        return RawResult(
            kept=not violations,
            violations=tuple(violations),
            warnings=(),
            ignored_import_count=len(ignored),
            fallback_text="",
            check_ms=0.5,
        )

    def find_redundant_ignores(
        self,
        spec: ContractSpec,
        contract: object,
        graph: Graph,
        raw: RawResult,
        *,
        budget_s: float | None = None,
    ) -> tuple[tuple[RedundantIgnore, ...], tuple[str, ...]]:
        """Entries whose import no longer exists count as having no effect (no budget)."""
        self.calls["find_redundant_ignores"] += 1
        edges = _fake(graph).edges
        found = []
        for entry in spec.options.get("ignore_imports", ()):
            importer, _, imported = (part.strip() for part in str(entry).partition("->"))
            if imported not in edges.get(importer, {}):
                found.append(RedundantIgnore(str(entry), "no-effect"))
        return tuple(found), ()


def _fake(graph: Graph) -> FakeGraph:
    assert isinstance(graph, FakeGraph), graph
    return graph


def _package_files(root: str, folder: Path | None = None) -> dict[str, Path]:
    if folder is None:
        spec = importlib.util.find_spec(root)  # the checker put the rootdir on sys.path
        if spec is None or not spec.submodule_search_locations:
            raise GraphError(f"root package {root!r} cannot be found on sys.path.")
        folder = Path(next(iter(spec.submodule_search_locations)))
    files = {}
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join([root, *parts])] = path
    return files


def _read_imports(path: Path, known: set[str]) -> dict[str, tuple[int, ...]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise GraphError(f"{path}:{exc.lineno}: does not parse") from None
    found: dict[str, set[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # ``from pkg import name``: the submodule when there is one, else the package.
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [n for n in names if n in known] or [node.module]
        else:
            continue
        for name in names:
            if name in known:
                found.setdefault(name, set()).add(node.lineno)
    return {name: tuple(sorted(lines)) for name, lines in found.items()}


def _shortest_chain(
    edges: ModuleImports, source: str, target: str, ignored: set[tuple[str, ...]]
) -> list[str] | None:
    previous: dict[str, str | None] = {source: None}
    queue = deque([source])
    while queue:
        module = queue.popleft()
        if module == target:
            chain = [module]
            while (step := previous[chain[-1]]) is not None:
                chain.append(step)
            return chain[::-1]
        for imported in sorted(edges.get(module, {})):
            if imported not in previous and (module, imported) not in ignored:
                previous[imported] = module
                queue.append(imported)
    return None
