"""The fixer's steps for one run: check, plan, ask every contract, apply, and what can go.

1. every contract is checked (results come from the checker, cached as usual);
2. the last hop of each violation of a ``forbidden``, ``layers`` or ``single_source``
   contract is an import to move; the planner finds each name's homes;
3. every contract is checked again on a graph with all candidate imports added: a
   candidate that shows up in a violation would break that contract and is dropped;
   the chosen imports are checked once more on their own;
4. the rewrites are applied (``--ssot-fix``) or shown (``--ssot-diff``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ssot.checking import StaticChecker
from pytest_ssot.contract_types._source_index import Resolver, SourceIndex
from pytest_ssot.expressions import ModuleExpression
from pytest_ssot.fileio import FileError, write_atomic
from pytest_ssot.fixing.apply import FileOutcome, fix_files
from pytest_ssot.fixing.homes import HomeFinder, ImportGraph
from pytest_ssot.fixing.plan import FIXABLE_TYPES, Edge, FixPlan, Planner, last_edge
from pytest_ssot.fixing.plan_store import KeptPlan, PlanStore, module_stats, plan_key
from pytest_ssot.model import ContractResult, ContractSpec, SsotError, Violation
from pytest_ssot.paths import display_path
from pytest_ssot.reporting.json_report import contract_roles
from pytest_ssot.result_cache import read_json_object, shown_fixes_data, stored_shown_fixes
from pytest_ssot.syspath import importable_from


def fixable_violation(spec: ContractSpec, violation: Violation) -> bool:
    """Whether the violation is an import a fix can move (by its contract type and kind)."""
    if last_edge(violation) is None:
        return False
    return violation.kind != "import" or spec.type in FIXABLE_TYPES


def planned_violation(spec: ContractSpec, violation: Violation) -> bool:
    """Whether the violation's import is one the fixer moves: a direct import (one hop).

    In a longer chain the last importer is not one the contract restrains; the chain
    shows the fix of its last hop only when that import is a violation of its own.
    """
    return fixable_violation(spec, violation) and len(violation.hops) == 1


def _expressions(values: Iterable[str]) -> list[ModuleExpression]:
    found = []
    for value in values:
        try:
            found.append(ModuleExpression.parse(value))
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class ShownFix:
    """One edge's fix as a failure shows it (``lines``) and the JSON report holds it."""

    shown: tuple[str, ...]
    report: Mapping[str, Any]

    def lines(self) -> list[str]:
        return list(self.shown)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)


@dataclass(frozen=True)
class ShownFixes:
    """What failures and reports show of a plan, stored between runs (``Fixer.shown``)."""

    edges: Mapping[Edge, ShownFix]

    def for_violation(self, violation: Violation) -> ShownFix | None:
        edge = last_edge(violation)
        return None if edge is None else self.edges.get(edge)


@dataclass
class FixRun:
    """What the fixer did in this run, for the summary and the report."""

    plan: FixPlan | None = None
    error: str | None = None
    files: Sequence[FileOutcome] = ()
    write: bool = False

    @property
    def changed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.diff and (f.written or not self.write)]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if f.skipped]


@dataclass
class Fixer:
    """Plans (once) and applies the fixes for one set of contracts."""

    checker: Callable[[], StaticChecker]
    specs: Sequence[ContractSpec]
    rootdir: Path
    _plan: FixPlan | None = field(default=None, init=False)
    _error: str | None = field(default=None, init=False)
    _shown: ShownFixes | None = field(default=None, init=False)

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> FixPlan | None:
        """The plan for the tree as it is now; None (and ``error``) when it cannot be made."""
        if self._plan is None and self._error is None:
            try:
                self._plan = self._make_plan()
            except SsotError as exc:
                self._error = str(exc)
            except ValueError as exc:  # root packages not found by the source index
                self._error = str(exc)
        return self._plan

    @property
    def error(self) -> str | None:
        return self._error

    def shown(self) -> ShownFixes | None:
        """What failures and the report show of the plan; None when there is no plan.

        Planning reads and follows every module of the root packages (where else each
        name is exported), seconds on a large package. What it shows depends on nothing
        but the contracts and the source files, so it is stored in the cache folder
        under the fingerprints of the results (``StaticChecker.sources_key``), and a run
        in which nothing changed reads it back instead of planning again.
        """
        if self._shown is not None:
            return self._shown
        checker = self.checker()
        self.results()  # every group checked (or read): their fingerprints are known
        key = checker.sources_key(self.specs)
        path = checker.cache_path("fixes", self.specs) if key is not None else None
        if path is not None and key is not None:
            stored = stored_shown_fixes(read_json_object(path), key)
            if stored is not None:
                self._shown = ShownFixes(
                    {
                        edge: ShownFix(tuple(lines), report)
                        for edge, (lines, report) in stored.items()
                    }
                )
                return self._shown
        with checker.source_facts():  # planning reads every module: keep what it learnt
            plan = self.plan()
        if plan is None:
            return None
        self._shown = ShownFixes(
            {edge: ShownFix(tuple(fix.lines()), fix.to_dict()) for edge, fix in plan.edges.items()}
        )
        if path is not None and key is not None:
            shown = {e: (list(f.shown), dict(f.report)) for e, f in self._shown.edges.items()}
            with contextlib.suppress(OSError, FileError):  # a read-only cache costs speed only
                write_atomic(path, json.dumps(shown_fixes_data(key, shown)))
        return self._shown

    def results(self) -> dict[str, ContractResult]:
        checker = self.checker()
        return {spec.id: checker.check(spec) for spec in self.specs}

    def _make_plan(self) -> FixPlan:
        results = self.results()
        broken = [r for r in results.values() if r.error is not None]
        if broken:
            # A fix must be allowed by every contract: one that cannot be checked vetoes all.
            first = broken[0]
            reason = (first.error or "").strip().splitlines()[0]
            raise SsotError(f"contract {first.spec.id!r} could not be checked: {reason}")
        edges: set[Edge] = set()
        for spec in self.specs:
            for violation in results[spec.id].violations:
                edge = last_edge(violation)
                if edge is not None and planned_violation(spec, violation):
                    edges.add(edge)
        if not edges:
            return FixPlan()
        roots = sorted({root for s in self.specs for root in s.session.root_packages})
        with importable_from(self.rootdir):
            index = SourceIndex(roots)
            index.package_dirs  # noqa: B018  found now, while the project is importable

        def modules() -> list[str]:
            return list(index.python_modules())

        finder = HomeFinder(Resolver(index), modules, self._canonical(), self._graph())
        planner = Planner(finder, index.module_file, lambda path: display_path(path, self.rootdir))
        store = self._plan_store(roots, index)
        kept = store.load() if store is not None else KeptPlan()
        kept.give(finder)
        requests = planner.collect(edges, kept.requests)
        candidates = planner.candidate_imports(requests)
        rejected = self._rejected(candidates, results) if candidates else {}
        plan = planner.finish(requests, rejected)
        chosen = {
            (edge.importer, move.home.module)
            for edge in plan.edges.values()
            for site in edge.sites
            for move in site.moves
            if move.home is not None
        }
        more = self._rejected(chosen, results) if chosen else {}
        if more:
            plan = planner.finish(requests, {**more, **rejected})
        if store is not None:
            store.save(requests, finder)
        return plan

    def _graph(self) -> ImportGraph | None:
        """The import graph, when this run built it (a cold run, an import changed): the
        search for homes then reads the importers of the object's binders, not every
        module that names it. Never built for this."""
        built = self.checker().built_imports(self.specs)
        return None if built is None else ImportGraph(*built)

    def _plan_store(self, roots: Sequence[str], index: SourceIndex) -> PlanStore | None:
        """Where this plan's statements and answers are kept between runs (None without a
        usable cache folder: the results' stat lines are what tells an answer still holds)."""
        checker = self.checker()
        states = checker.source_states(self.specs)
        path = checker.cache_path("plans", self.specs)
        if states is None or path is None:
            return None
        roles = sorted(
            json.dumps(contract_roles(spec.options), sort_keys=True) for spec in self.specs
        )
        key = plan_key(self.rootdir, roots, roles)
        return PlanStore(path, key, module_stats(states), index.module_file)

    def _canonical(self) -> Callable[[str], bool]:
        canonical: list[ModuleExpression] = []
        legacy: list[ModuleExpression] = []
        for spec in self.specs:
            roles = contract_roles(spec.options)
            canonical += _expressions(roles["canonical"])
            legacy += _expressions(roles["legacy"])

        def is_canonical(module: str) -> bool:
            return any(e.matches_package(module) for e in canonical) and not any(
                e.matches_package(module) for e in legacy
            )

        return is_canonical

    def _rejected(
        self, candidates: set[Edge], before: Mapping[str, ContractResult]
    ) -> dict[Edge, str]:
        """The candidate imports that would break a contract, with which one."""
        rejected: dict[Edge, str] = {}
        after = self.checker().check_with_imports(candidates)
        for spec in self.specs:
            result = after.get(spec.id)
            if result is None:
                continue
            if result.error is not None:
                for edge in candidates:
                    rejected.setdefault(edge, f"cannot be checked against contract {spec.id!r}")
                continue
            known = {v.fingerprint for v in before[spec.id].violations}
            for violation in result.violations:
                pairs = {(hop.importer, hop.imported) for hop in violation.hops}
                hits = pairs & candidates
                if not hits and not violation.hops and violation.fingerprint not in known:
                    hits = {
                        e for e in candidates if violation.importer in e or violation.imported in e
                    } or set(candidates)
                for edge in hits:
                    rejected.setdefault(edge, f"would break contract {spec.id!r}")
        return rejected

    # -- applying ------------------------------------------------------------------------

    def run(self, *, write: bool) -> FixRun:
        plan = self.plan()
        if plan is None:
            return FixRun(error=self.error, write=write)
        files = fix_files(plan.file_edits(), self.rootdir, write=write)
        return FixRun(plan=plan, files=files, write=write)

    # -- the end of the road -----------------------------------------------------------------

    def deletable(
        self, checker: StaticChecker, *, removed: Iterable[Edge] = (), loaded: Iterable[str] = ()
    ) -> list[str]:
        """Legacy modules (forbidden or legacy in some contract) that nothing outside the
        legacy set imports any more, statically (less ``removed``) or, per ``loaded``, at
        run time. Only the outermost module of a deletable package is listed."""
        gone = set(removed)
        runtime = set(loaded)
        canonical = self._canonical()
        found: set[str] = set()
        for spec in self.specs:
            if spec.type not in ("forbidden", "single_source"):
                continue
            expressions = _expressions(contract_roles(spec.options)["legacy"])
            key = spec.session.graph_key
            try:
                modules = checker.graph_modules(key)
            except SsotError:
                continue
            # Each contract's own legacy set: another contract's forbidden modules may
            # well be this one's canonical side.
            legacy = {
                m
                for m in modules
                if any(e.matches_package(m) for e in expressions) and not canonical(m)
            }
            for module in sorted(legacy):
                below = {m for m in modules if m.startswith(module + ".")}
                if not below <= legacy:
                    continue  # a descendant is not legacy: the package stays
                family = below | {module}
                outside = {
                    importer
                    for member in family
                    for importer in checker.module_importers(key, member)
                    if importer not in legacy and (importer, member) not in gone
                }
                used = any(r == m or r.startswith(m + ".") for r in runtime for m in family)
                if not outside and not used:
                    found.add(module)
        return sorted(m for m in found if not any(m.startswith(o + ".") for o in found))
