"""The results kept between runs: served when nothing they depend on changed, re-lined after
edits that kept every file's imports, written after a check, and the fixer's what-if answers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_ssot.checking.cache_files import CacheFiles
from pytest_ssot.checking.options import CheckOptions
from pytest_ssot.checking.source_state import group_state, modules_by_folder
from pytest_ssot.fileio import FileError, write_atomic
from pytest_ssot.model import ContractResult, ContractSpec, GraphError, GraphKey, GraphStats
from pytest_ssot.ports import Graph, GraphBackend
from pytest_ssot.result_cache import (
    SourceState,
    checks_data,
    checks_key,
    find_edit,
    graph_identity,
    grimp_may_be_stale,
    import_digest,
    index_data,
    read_json_object,
    remap_lines,
    results_data,
    stored_checks,
    stored_results,
)
from pytest_ssot.serialize import result_to_dict


class ResultStore:
    """The result cache of each ``GraphKey``: its ``SourceState`` in this run, the results and
    their graph's identity on disk, the index that says how each file looked, and the
    answers to the fixer's questions. Every write is atomic; a write that fails costs speed only.
    """

    def __init__(
        self, rootdir: Path, backend: GraphBackend, files: CacheFiles, options: CheckOptions
    ) -> None:
        self.rootdir = rootdir
        self.backend = backend
        self.files = files
        self.options = options
        self._graph_ids: dict[GraphKey, tuple[str, str]] = {}
        """Per group with stored results: its header and its graph's identity."""
        self._states: dict[GraphKey, SourceState] = {}

    def state(self, key: GraphKey, group: Sequence[ContractSpec]) -> SourceState | None:
        """What the group's results depend on (None without a results cache), remembered."""
        if not self.files.use_results:
            return None
        state = group_state(self.rootdir, key, group, self.options)
        if state is not None:
            self._states[key] = state
        return state

    def states(self, specs: Sequence[ContractSpec]) -> list[SourceState] | None:
        """The ``SourceState`` of each group of ``specs`` in this run; None if one is unknown."""
        found = []
        for key in sorted({spec.session.graph_key for spec in specs}):
            state = self._states.get(key)
            if state is None or not self.files.use_results:
                return None
            found.append(state)
        return found

    def sources_key(self, specs: Sequence[ContractSpec]) -> str | None:
        """One digest of everything the checked groups of ``specs`` depend on: their
        contracts, versions and source files. None when one is not known (no cache)."""
        parts = []
        for key in sorted({spec.session.graph_key for spec in specs}):
            state = self._states.get(key)
            if state is None or not self.files.use_results:
                return None
            parts.append(f"{key!r}\0{state.header}\0{state.fingerprint}")
        parts += sorted(spec.id for spec in specs)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    # -- the fixer's questions ---------------------------------------------------------

    def answers(
        self, key: GraphKey, group: Sequence[ContractSpec], extra: Sequence[tuple[str, str]]
    ) -> dict[str, ContractResult] | None:
        """The stored answer to "these contracts with ``extra`` imports added", if any."""
        question = self._question(key, extra)
        if question is None:
            return None
        return stored_checks(read_json_object(self.files.checks(key)), question, group)

    def store_answers(
        self, key: GraphKey, extra: Sequence[tuple[str, str]], answers: Iterable[ContractResult]
    ) -> None:
        question = self._question(key, extra)
        if question is None:
            return
        path = self.files.checks(key)
        data = checks_data(read_json_object(path), question, (result_to_dict(r) for r in answers))
        with contextlib.suppress(OSError, FileError):  # costs speed only
            write_atomic(path, json.dumps(data))

    def _question(self, key: GraphKey, extra: Sequence[tuple[str, str]]) -> str | None:
        known = self._graph_ids.get(key) if self.files.use_results else None
        return None if known is None else checks_key(known[0], known[1], extra)

    # -- the results ---------------------------------------------------------------------

    def reuse(
        self, key: GraphKey, group: Sequence[ContractSpec], state: SourceState
    ) -> tuple[dict[str, ContractResult], GraphStats, int] | None:
        """The stored results, their stats and how many files changed, if they still stand."""
        data = read_json_object(self.files.results(key))
        if data is None or data.get("header") != state.header:
            return None
        stored = stored_results(data, group)
        if stored is None:
            return None
        results, stats = stored
        graph_id = data.get("graph_id")
        changed = 0
        if data.get("fingerprint") != state.fingerprint:
            edited = self._edited(key, group, state, str(data.get("fingerprint")), results)
            if edited is None:
                return None
            results, changed = edited
            with contextlib.suppress(OSError, FileError):  # a read-only cache costs speed only
                write_atomic(
                    self.files.results(key),
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
        return results, stats, changed

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
        if not self.options.graph_only(group):
            return None
        index = read_json_object(self.files.index(key))
        edit = find_edit(index, state, fingerprint) if index is not None else None
        if edit is None:
            return None
        try:
            lines = self.backend.rescan_imports(
                key, modules_by_folder(state, edit.digests), edit.changed
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
            write_atomic(self.files.index(key), json.dumps(index))
        return remapped, len(edit.changed)

    def drop_stale_grimp_cache(self, key: GraphKey, state: SourceState) -> None:
        """Delete grimp's cache when it may hold imports that no longer hold.

        grimp trusts a file's modification time alone; an edit that keeps it (a tool
        restoring times, two writes within the clock's resolution) would be served
        its old imports. And it keeps imports as resolved against the modules of the
        day, so a module added or removed can change what an unchanged file imports.
        The index says how each file looked when grimp last read it.
        """
        cache_dir = self.files.grimp_dir(key)
        if cache_dir is None or not cache_dir.exists():
            return
        index = read_json_object(self.files.index(key))
        if index is None or index.get("header") != state.header or grimp_may_be_stale(index, state):
            with contextlib.suppress(OSError, FileError):
                shutil.rmtree(cache_dir)

    def write(
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
        if self.options.graph_only(group):
            digests = {m: import_digest(i) for m, i in self.backend.direct_imports(graph)}
            graph_id = graph_identity(digests)
        # A read-only cache, or a results path that is not a regular file, only costs speed.
        with contextlib.suppress(OSError, FileError):
            write_atomic(self.files.index(key), json.dumps(index_data(state, digests)))
        with contextlib.suppress(OSError, FileError):
            if any(r.error for r in results.values()):
                self.files.results(key).unlink(missing_ok=True)
            else:
                data = results_data(
                    state.fingerprint,
                    state.header,
                    stats,
                    (result_to_dict(r) for r in results.values()),
                    graph_id,
                )
                write_atomic(self.files.results(key), json.dumps(data))
                self._graph_ids[key] = (state.header, graph_id)
