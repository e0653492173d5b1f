"""Counting: one declared manager's runtime state, its windows and buckets of live instances."""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from types import CodeType

from pytest_ssot.runtime.instances.records import REF, Raw
from pytest_ssot.runtime.instances.sites import codes_of
from pytest_ssot.runtime.managers import PROCESS, ManagerSpec, ObjectPath
from pytest_ssot.runtime.phase import Phase

PROCESS_WINDOW: tuple[str, ...] = ("process",)
SHARED_WINDOW: tuple[str, ...] = ("shared",)
PRUNE_EVERY = 4096
"""Instances created between two prunings of the process-wide and shared windows."""


class Rule:
    """The runtime state of one declared manager."""

    def __init__(self, spec: ManagerSpec) -> None:
        self.spec = spec
        self.windows: dict[tuple[str, ...], dict[Hashable, Bucket]] = {}
        self.created_by_class: dict[type, int] = {}
        self.peak: dict[Hashable, int] = {}
        self.instrumented: dict[str, str] = {}
        """class path -> qualified name of the class object it resolved to."""
        self.untrackable: set[type] = set()
        self.unusable: set[str] = set()
        """Declared class paths that cannot be watched (reported as declaration problems)."""
        # Compared by id (a code object's hash is recomputed at each lookup); the
        # list keeps them alive so that no id is reused.
        self._factory_codes: list[CodeType] = []
        self.factory_ids: set[int] = set()
        self.unresolved_factories = list(spec.factories)
        self.key_text = spec.key.text if spec.key else ""
        self.name = spec.name
        self.max = spec.max
        self.factories = bool(spec.factories)

        self.cached: WindowCache = (None, SHARED_WINDOW, {}, None)
        """The window of the last phase that constructed an instance (see ``enter``)."""

    @property
    def created(self) -> int:
        """How many instances were counted, alive or not."""
        return sum(self.created_by_class.values())

    def enter(self, phase: Phase) -> WindowCache:
        """The window a new instance is counted in, its buckets, and the buckets it
        also counts against (under the lock).

        Cached for the phase: phases change rarely, constructions may be many.
        """
        window = self._window_for(phase)
        buckets = self.windows.setdefault(window, {})
        # A test's instances count together with those shared by every test.
        shared = self.windows.setdefault(SHARED_WINDOW, {}) if window[0] == "test" else None
        self.cached = (phase, window, buckets, shared)
        return self.cached

    def forget(self, window: tuple[str, ...]) -> None:
        self.windows.pop(window, None)
        self.cached = (None, SHARED_WINDOW, {}, None)

    def _window_for(self, phase: Phase) -> tuple[str, ...]:
        if self.spec.scope == PROCESS:
            return PROCESS_WINDOW
        if phase.in_test and phase.fixture_scope in (None, "function"):
            return ("test", phase.nodeid)
        # Import time, collection, and fixtures wider than a test: shared by every test.
        return SHARED_WINDOW

    def resolve_factories(self, problem: Callable[[str], None]) -> None:
        """Find the code objects of the factories whose modules are imported by now.

        A factory whose module is not imported yet cannot be running: it is looked
        up again at the next construction.
        """
        still: list[ObjectPath] = []
        for path in self.unresolved_factories:
            module = sys.modules.get(path.module)
            if module is None:
                still.append(path)
                continue
            try:
                target = path.resolve(module)
            except AttributeError:
                problem(f"factory {path.text}: module {path.module} has no {path.qualname!r}")
                continue
            codes = codes_of(target)
            if not codes:
                problem(f"factory {path.text} is not a Python function")
                continue
            self._factory_codes.extend(codes)
            self.factory_ids.update(id(code) for code in codes)
        self.unresolved_factories = still


WindowCache = tuple[
    Phase | None, tuple[str, ...], dict[Hashable, "Bucket"], dict[Hashable, "Bucket"] | None
]
"""(phase, window, its buckets, the shared buckets it also counts against, or None)."""


class Bucket:
    """The instances counted together: one key in one window."""

    __slots__ = ("strong", "weak")

    def __init__(self) -> None:
        self.weak: list[Raw] = []
        """Weakly referenced: pruned when collected."""
        self.strong: list[Raw] = []
        """Counted by construction (no weak reference possible): never pruned."""

    def prune(self, obj: object = None) -> int:
        """How many are alive; -1 if ``obj`` is one of them (counted already)."""
        if self.weak:
            live = []
            for raw in self.weak:
                found = raw[REF]()
                if found is None:
                    continue
                if found is obj:
                    return -1
                live.append(raw)
            self.weak = live
        return len(self.weak) + len(self.strong)

    def live_records(self) -> list[Raw]:
        """The weakly referenced records (some may have been collected since)."""
        return list(self.weak)

    def records(self) -> list[Raw]:
        return [*self.weak, *self.strong]
