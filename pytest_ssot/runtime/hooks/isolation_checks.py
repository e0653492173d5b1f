"""The pytest side of the isolation checks: when they run, the opt-out marker, xdist.

Shared state is checked once per test, right after the test's call phase: the
instances of every key are alive then, before fixtures tear them down. A sharing is
reported in the first test where instances of two keys reach the same object (the
test where the second key's instance appeared, or began to share), and once per run
for that pair of keys and paths. Nothing is walked while fewer than two keys are live.

``must_not_outlive = "test"`` is checked after the test's teardown: the instances the
test created that are still alive (after a garbage collection, run only if one is)
are reported with the chain of referrers that keeps them alive.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import itertools
import sys
import types
from collections.abc import Callable, Generator, Iterable
from typing import Any

import pytest

from pytest_ssot.findings import FindingsReporter
from pytest_ssot.managers import ManagerSpec
from pytest_ssot.model import Phase
from pytest_ssot.paths import display_path
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.runtime.instances.counting import ManagerRule
from pytest_ssot.runtime.instances.records import LiveInstance
from pytest_ssot.runtime.instances.tracker import InstanceTracker
from pytest_ssot.runtime.isolation.kinds import CONTAINER, OBJECT, Kinds
from pytest_ssot.runtime.isolation.referrers import referrer_chain
from pytest_ssot.runtime.isolation.report import (
    OUTLIVED,
    SHARED,
    UNMATCHED_SHARED_OK,
    SharedOk,
    SharedPair,
    Where,
    describe_where,
    fold_nested,
    outlived_finding,
    shared_finding,
    unmatched_finding,
)
from pytest_ssot.runtime.isolation.walk import Walker

ALLOW_MARKER = "pytest_ssot_allow_shared_state"
_UNKNOWN = Where("")
PLUGIN_NAME = "ssot-isolation"


class IsolationChecks:
    """pytest hook object: shared state between keys, instances outliving their test."""

    def __init__(
        self,
        config: pytest.Config,
        phases: PhaseTracker,
        findings: FindingsReporter,
        tracker: InstanceTracker,
        complete: Callable[[pytest.Session], bool],
    ) -> None:
        self.config = config
        self.phases = phases
        self.findings = findings
        self.tracker = tracker
        self.complete = complete
        self.files = tracker.files
        self.kinds = Kinds(self.files.is_project)
        self._shown = functools.partial(
            display_path, rootdir=self.files.rootdir, outside="as-given"
        )
        self.shared_rules = [
            r for r in tracker.rules if r.spec.key is not None and r.spec.shared_state
        ]
        self.outlive_rules = [r for r in tracker.rules if r.spec.must_not_outlive == "test"]
        self.shared_ok = {r.spec.name: SharedOk(r.spec.shared_ok) for r in self.shared_rules}
        self._reported: set[tuple[str, ...]] = set()
        self.matched: dict[str, set[str]] = {}
        """Per manager: the shared_ok entries that excused something."""
        self.checked: set[str] = set()
        """The managers whose instances of two keys were walked at least once."""
        self.walks = 0
        self.skipped = 0
        """Walks given up (an object raised while it was read)."""
        self._where: dict[tuple[str, str, str, bool], Where] = {}
        self.instances_walked = 0

    @property
    def checks_on(self) -> set[str]:
        """The checks of this object that can report a finding in this run."""
        if self.config.getoption("ssot_only", False):
            return set()  # no test runs
        on = set()
        if self.shared_rules:
            on.add(SHARED)
            if any(rule.spec.shared_ok for rule in self.shared_rules):
                on.add(UNMATCHED_SHARED_OK)
        if self.outlive_rules:
            on.add(OUTLIVED)
        return on

    # -- shared state -----------------------------------------------------------

    def shared_now(self, name: str | None = None) -> list[SharedPair]:
        """Every sharing between keys right now, excused ones left out (nothing reported)."""
        pairs: list[SharedPair] = []
        for rule in self.shared_rules:
            if name is None or rule.spec.name == name:
                pairs.extend(map(self._described, self._check_rule(rule, count=False)))
        return pairs

    def _check_rule(self, rule: ManagerRule, *, count: bool = True) -> list[SharedPair]:
        spec = rule.spec
        live = [li for li in self.tracker.live_instances(spec.name) if li.key is not None]
        keys = {li.key for li in live}
        if len(keys) < 2:
            return []
        if count:
            self.walks += 1
            self.instances_walked += len(live)
            self.checked.add(spec.name)
        skip = {id(li.instance) for li in live} | factory_cache_ids(spec)
        walker = Walker(self.kinds, spec.shared_depth, skip)
        found = walker.shared([(li.instance, li.key) for li in live])
        pairs: list[SharedPair] = []
        ok = self.shared_ok[spec.name]
        for shared in found:
            by_key = sorted(shared.instances.items(), key=lambda kv: kv[1])
            for (key_a, a), (key_b, b) in itertools.combinations(by_key, 2):
                reach_a, reach_b = shared.reaches.get(a), shared.reaches.get(b)
                if reach_a is None or reach_b is None:
                    continue
                excused_a, excused_b = ok.match(reach_a.path), ok.match(reach_b.path)
                if excused_a is not None and excused_b is not None:
                    if count:
                        self.matched.setdefault(spec.name, set()).update((excused_a, excused_b))
                    continue
                pairs.append(
                    SharedPair(
                        spec.name,
                        _type_name(type(shared.obj), shared.kind),
                        _UNKNOWN,
                        key_a,
                        key_b,
                        reach_a,
                        reach_b,
                        live[a].record,
                        live[b].record,
                        obj_type=type(shared.obj),
                        is_object=shared.kind == OBJECT,
                    )
                )
        del live, found
        return fold_nested(pairs)

    def _described(self, pair: SharedPair) -> SharedPair:
        """The pair with where its object comes from (read from the source: only for reports)."""
        reach = pair.reach_a if pair.reach_a.class_attribute_of is not None else pair.reach_b
        cls = reach.class_attribute_of or pair.obj_type
        cache_key = (cls.__module__, cls.__qualname__, reach.attribute, pair.is_object)
        where = self._where.get(cache_key)
        if where is None:
            where = describe_where(pair.obj_type, reach, self.files, pair.is_object)
            self._where[cache_key] = where
        return dataclasses.replace(pair, where=where)

    def check_shared(self) -> None:
        phase = self.phases.current
        for rule in self.shared_rules:
            try:
                pairs = self._check_rule(rule)
            except Exception:
                # A container resized by another thread during the walk, a user's object
                # misbehaving: this test's instances go unchecked, the run goes on.
                self.skipped += 1
                continue
            for pair in pairs:
                if pair.identity in self._reported:
                    continue
                self._reported.add(pair.identity)
                self.findings.record(shared_finding(rule.spec, self._described(pair), phase))

    # -- outliving the test -------------------------------------------------------

    def check_outlived(self, item: pytest.Item) -> None:
        phase = self.phases.current
        nodeid = item.nodeid
        collected = False
        for rule in self.outlive_rules:
            spec = rule.spec
            survivors = [
                li for li in self.tracker.live_instances(spec.name) if _made_in(li, nodeid)
            ]
            if not survivors:
                continue
            records = [li.record for li in survivors]
            del survivors
            if not collected:
                gc.collect()  # only when something created in the test is still alive
                collected = True
            funcargs = getattr(item, "funcargs", None)
            for record in records:
                obj = record.instance()
                if obj is None:
                    continue
                ignore: list[Any] = [records]
                if isinstance(funcargs, dict):
                    ignore.append(funcargs)  # pytest drops the fixture values after this
                chain = referrer_chain(obj, ignore, self._shown)
                del obj
                if chain is not None:
                    self.findings.record(outlived_finding(spec, record, chain, phase))

    # -- hooks ----------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.findings.allow_marked(item, ALLOW_MARKER, (SHARED, OUTLIVED), self.tracker.rule)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            if self.shared_rules:
                self.check_shared()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            if self.outlive_rules:
                self.check_outlived(item)

    def check_shared_ok(self, session: pytest.Session) -> None:
        """At session end, on the controller (with every worker's matches merged): the
        ``shared_ok`` entries that excused nothing. Called by the session, in its order."""
        if not self.complete(session):
            return  # a partial run cannot tell an unused entry from an unvisited one
        phase = Phase("finish")
        for rule in self.shared_rules:
            spec = rule.spec
            if not spec.shared_ok or spec.name not in self.checked:
                continue  # never two keys alive at once: nothing could match
            unmatched = [p for p in spec.shared_ok if p not in self.matched.get(spec.name, ())]
            if unmatched:
                self.findings.record(unmatched_finding(spec, unmatched, phase))

    # -- pytest-xdist ---------------------------------------------------------------

    def summary_state(self) -> dict[str, Any]:
        return {
            "checked": sorted(self.checked),
            "matched": {name: sorted(found) for name, found in self.matched.items()},
            "walks": self.walks,
            "instances_walked": self.instances_walked,
        }

    def merge_state(self, state: dict[str, Any]) -> None:
        self.checked.update(state.get("checked", ()))
        for name, found in state.get("matched", {}).items():
            self.matched.setdefault(name, set()).update(found)
        self.walks += int(state.get("walks", 0))
        self.instances_walked += int(state.get("instances_walked", 0))


def _made_in(live: LiveInstance, nodeid: str) -> bool:
    """Created by the test itself or a function-scoped fixture of it."""
    phase = live.record.phase
    return phase.in_test and phase.nodeid == nodeid and phase.fixture_scope in (None, "function")


def _type_name(cls: type, kind: int) -> str:
    if kind == CONTAINER and cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}" if kind == OBJECT else cls.__qualname__


def factory_cache_ids(spec: ManagerSpec) -> set[int]:
    """The declared factories' own caches: containers among their modules' globals and
    their closures. Where the factory keeps its instances is not state the instances share.
    """
    found: set[int] = set()
    for path in spec.factories:
        module = sys.modules.get(path.module)
        if module is None:
            continue
        values: list[Iterable[Any]] = [vars(module).values()]
        try:
            target = path.resolve(module)
        except AttributeError:
            target = None
        func = getattr(target, "__wrapped__", target)
        closure = getattr(func, "__closure__", None)
        if isinstance(closure, tuple):
            values.append(c.cell_contents for c in closure if _filled(c))
        for value in itertools.chain.from_iterable(values):
            if isinstance(value, dict | list | set):
                found.add(id(value))
    return found


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True
