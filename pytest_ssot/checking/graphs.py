"""The import graphs of a run: one per option set, built once, plus modules loaded by name."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_ssot.checking.cache_files import CacheFiles
from pytest_ssot.model import DynamicImport, GraphError, GraphKey, GraphStats
from pytest_ssot.paths import display_path
from pytest_ssot.ports import Graph, GraphBackend
from pytest_ssot.syspath import importable_from

if TYPE_CHECKING:
    from pytest_ssot.dynamic_imports import ScanResult


class GraphBuilder:
    """Builds each ``GraphKey``'s graph once through the backend (with grimp's cache in the
    cache folder), remembers a build that failed, and adds the modules the root packages
    load by name when a contract asks for them (scanned once per graph)."""

    def __init__(self, rootdir: Path, backend: GraphBackend, files: CacheFiles) -> None:
        self.rootdir = rootdir
        self.backend = backend
        self.files = files
        self._graphs: dict[GraphKey, Graph | GraphError] = {}
        self._dynamic: dict[GraphKey, tuple[Graph, ScanResult]] = {}

    def graph(self, key: GraphKey) -> Graph:
        """``key``'s graph; raises ``GraphError`` (rootdir-relative) when it cannot be built."""
        cached = self._graphs.get(key)
        if cached is None:
            try:
                with importable_from(self.rootdir):
                    try:
                        cached = self.backend.build_graph(key, self.files.grimp_dir(key))
                    except OSError:
                        # grimp could not write its cache (made read-only meanwhile).
                        cached = self.backend.build_graph(key, None)
            except GraphError as exc:
                cached = GraphError(self.relative(str(exc)))
            self._graphs[key] = cached
        if isinstance(cached, GraphError):
            raise cached
        return cached

    def built(self, key: GraphKey) -> Graph | None:
        """``key``'s graph if it was built in this run, without building it."""
        graph = self._graphs.get(key)
        return None if graph is None or isinstance(graph, GraphError) else graph

    def stats(self, graph: Graph) -> GraphStats:
        scanned = self._dynamic.get(graph.key)
        return GraphStats(
            key=graph.key,
            modules=graph.modules,
            imports=graph.imports,
            build_ms=graph.build_ms,
            dynamic_imports=None if scanned is None else len(scanned[1].imports),
            unresolved=() if scanned is None else self._unresolved(graph, scanned[1]),
            dynamic_added=() if scanned is None else self._added(graph, scanned[1]),
        )

    def dynamic_graph(self, graph: Graph) -> Graph:
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

    def loaded_by_name(self, graph: Graph) -> dict[tuple[str, str], list[DynamicImport]]:
        """The imports of ``graph`` that only a call loading a module by name makes."""
        known = self._dynamic.get(graph.key)
        if known is None or known[0] is not graph:
            return {}
        pairs: dict[tuple[str, str], list[DynamicImport]] = {}
        for found in known[1].imports:
            pairs.setdefault((found.importer, found.imported), []).append(found)
        return pairs

    def relative(self, message: str) -> str:
        # grimp and find_spec speak in absolute paths; users read rootdir-relative ones.
        root = str(self.rootdir)
        return message.replace(root + "/", "").replace(root, ".")

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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
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
