"""The instance tracker: wraps the declared classes' constructors and counts live instances.

Only the declared classes are touched. A class whose module is already imported
is wrapped when the tracker is installed; the others when their module is
imported (see ``watching``). ``uninstall`` puts every original back and removes
the finder. Live instances are held by weak reference; instances of classes that
do not support weak references are counted by construction instead.

``InstanceTracker`` ties the parts together and is what the hook objects use:
``Wrappers`` (``wrapping``) installs and restores the wrappers, ``Constructions``
(``constructions``) counts what they report, ``DeclarationProblems`` (``report``)
reports a declaration that cannot be applied, once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from types import ModuleType

from pytest_ssot.managers import ManagerSpec, declaration_problem
from pytest_ssot.model import Finding
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime import forking
from pytest_ssot.runtime.instances.constructions import Constructions
from pytest_ssot.runtime.instances.counting import ManagerRule, PhaseSource
from pytest_ssot.runtime.instances.records import KEY, REF, InstanceRecord, LiveInstance, by_seq
from pytest_ssot.runtime.instances.report import DeclarationProblems
from pytest_ssot.runtime.instances.watching import DeclaredModuleFinder
from pytest_ssot.runtime.instances.wrapping import Wrappers

__all__ = ["InstanceTracker", "PhaseSource"]


class InstanceTracker:
    """Counts the live instances of the declared classes and reports broken rules.

    Holds one ``ManagerRule`` per declared manager (its counting windows and peaks) and
    the parts that do the work: ``wrappers`` (the wrappers installed on the declared
    classes' constructors), ``counter`` (``Constructions.constructed`` runs on every
    construction, reports breaches as findings and keeps what each test created) and
    ``problems`` (declarations that cannot be applied). Made by ``ManagerChecks`` from
    the ``ManagerSpec``s.
    """

    def __init__(
        self,
        specs: Iterable[ManagerSpec],
        phases: PhaseSource,
        report: Callable[[Finding], None],
        files: ProjectFiles,
    ) -> None:
        self.rules = [ManagerRule(spec) for spec in specs]
        self.phases = phases
        self.report = report
        self.files = files
        self.problems = DeclarationProblems(phases, report)
        self.counter = Constructions(self.rules, phases, report, files, self.problems)
        self.wrappers = Wrappers(self.counter, self.problems)
        self._watcher: DeclaredModuleFinder | None = None
        self.restore_problems: list[str] = []

    @property
    def active(self) -> bool:
        return self.counter.active

    @property
    def _lock(self) -> threading.RLock:
        """The lock the counting and the wrapping share (the fork test holds it)."""
        return self.counter.lock

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(m for rule in self.rules for m in rule.spec.modules)

    # -- installing and restoring ---------------------------------------------------

    def install(self) -> None:
        """Start watching: wrap what is imported, watch imports of the rest."""
        if self.counter.active or not self.rules:
            return
        self.counter.active = True
        forking.stand_down_in_children(self)
        self._watcher = DeclaredModuleFinder(self.modules, self._module_loaded)
        sys.meta_path.insert(0, self._watcher)
        for name in sorted(self.modules):
            module = sys.modules.get(name)
            if module is not None:
                self._module_loaded(name, module)

    def uninstall(self) -> None:
        """Put every original constructor back and stop watching imports. Idempotent."""
        self.counter.active = False
        forking.forget(self)
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            sys.meta_path[:] = [f for f in sys.meta_path if f is not watcher]
        self.restore_problems.extend(self.wrappers.restore())

    def forked(self) -> None:
        """In a child forked from the run: stop counting (its findings could not reach the
        parent) and take fresh locks (another thread may have held them at the fork)."""
        self.counter.forked()
        self.problems.forked()

    def is_wrapped(self, cls: type) -> bool:
        return self.wrappers.is_wrapped(cls)

    def _module_loaded(self, name: str, module: ModuleType) -> None:
        if not self.counter.active:
            return  # stood down in a forked child
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module != name:
                    continue
                try:
                    self.wrappers.wrap(rule, path, module)
                except Exception as exc:  # never break the import of the user's module
                    rule.unusable.add(path.text)
                    kind = type(exc).__name__
                    self.problems(rule, f"{path.text} could not be instrumented ({kind}: {exc})")

    # -- what the hook objects read ---------------------------------------------------

    def keep_records(self, nodeid: str) -> None:
        """Keep every record the test makes, for the ``ssot_instances`` fixture."""
        self.counter.keep_records(nodeid)

    def end_test(self, nodeid: str) -> None:
        """Forget the test's window: its instances never count against another test."""
        self.counter.end_test(nodeid)

    def records_for(self, nodeid: str) -> list[InstanceRecord]:
        """Every instance counted during the test so far, oldest first (see keep_records)."""
        return self.counter.records_for(nodeid)

    def live_instances(self, name: str) -> list[LiveInstance]:
        """The live instances of manager ``name`` with their keys, oldest first.

        Read from the tracker's weak references, under its lock, without touching the
        construction path. Instances counted by construction (no weak reference) are not
        included. ValueError for a manager that is not declared.
        """
        rule = self.rule(name)
        with self.counter.lock:
            raws = [
                raw
                for buckets in rule.windows.values()
                for b in buckets.values()
                for raw in b.live_records()
            ]
        found: dict[int, LiveInstance] = {}
        for raw in sorted(raws, key=by_seq):
            obj = raw[REF]()
            if obj is not None and id(obj) not in found:
                found[id(obj)] = LiveInstance(obj, raw[KEY], InstanceRecord._make(raw))
        return list(found.values())

    def rule(self, name: str) -> ManagerRule:
        for rule in self.rules:
            if rule.spec.name == name:
                return rule
        declared = ", ".join(repr(r.spec.name) for r in self.rules) or "none"
        raise ValueError(f"no manager named {name!r} is declared (declared: {declared})")

    def check_unimported(self) -> None:
        """At session end, for the modules no test imported: a declared class whose module
        does not exist, or whose module surely does not define it, is an error."""
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module in sys.modules or path.text in rule.unusable:
                    continue
                problem = declaration_problem(path, self.files.rootdir)
                if problem is not None:
                    self.problems(rule, problem)
