"""Counting: one declared manager's runtime state, its windows and buckets of live instances.

Counting is O(1) per construction and per collection, whatever the number of
live instances: each bucket keeps its live records in a dict keyed by the
instance's id, and a weak reference with a callback removes a record when its
instance is collected (ids are reused only after that callback ran). Nothing
here holds an instance or a class strongly.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from collections.abc import Callable, Hashable
from types import CodeType
from typing import Any, Protocol

from pytest_ssot.managers import PROCESS, ManagerSpec, ObjectPath
from pytest_ssot.model import Phase
from pytest_ssot.runtime.instances.keys import UnhashableKey
from pytest_ssot.runtime.instances.records import SEQ, Raw
from pytest_ssot.runtime.instances.sites import codes_of

PROCESS_WINDOW: tuple[str, ...] = ("process",)
SHARED_WINDOW: tuple[str, ...] = ("shared",)
PRUNE_EVERY = 4096
"""Instances created between two prunings of empty buckets in the long-lived windows."""
PLAIN_KEYS = (str, int, float, bytes, bool, type(None), UnhashableKey)
"""Key types kept as they are in the peaks; any other key is kept as its repr (an
UnhashableKey), so that no user object is held for the summary."""


class PhaseSource(Protocol):
    """Where the part of the run now executing is read (``hooks.phase.PhaseTracker``)."""

    @property
    def current(self) -> Phase: ...


class LiveRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference that drops its record from its bucket when the instance goes."""

    __slots__ = ("home", "oid")
    home: dict[int, Raw]
    oid: int


def gone(ref: LiveRef) -> None:
    """The callback of every LiveRef: O(1), no lock (a dict pop is atomic)."""
    ref.home.pop(ref.oid, None)


SHOWN_ENDS = 3
"""Records taken from each end of a bucket for a duplicate finding (it shows the two oldest
and the two newest other instances)."""


def _snapshot(live: dict[int, Raw], count: int | None, *, newest: bool = False) -> list[Raw]:
    """Up to ``count`` records from one end of ``live`` (None: all). A weak reference's
    callback may remove a record while we read (a collection triggered by an allocation):
    then read again."""
    while True:
        try:
            values = reversed(live.values()) if newest else iter(live.values())
            return list(values if count is None else itertools.islice(values, count))
        except RuntimeError:  # changed size during iteration
            continue


def shown_others(raw: Raw, bucket: Bucket, shared: Bucket | None) -> list[Raw]:
    """The other instances a duplicate finding shows, oldest first: all of them when there
    are at most five, else the two oldest and the two newest (without reading the rest)."""
    found: dict[int, Raw] = {}
    for source in (bucket, shared):
        if source is not None:
            for record in source.ends():
                if record is not raw:
                    found[record[SEQ]] = record
    ordered = [found[seq] for seq in sorted(found)]
    total = bucket.count() + (shared.count() if shared is not None else 0) - 1
    if total <= 5:
        return ordered
    return [*ordered[:2], *ordered[-2:]]


class Bucket:
    """The instances counted together: one key in one window."""

    __slots__ = ("live", "peak_key", "strong")

    def __init__(self, peak_key: Hashable) -> None:
        self.live: dict[int, Raw] = {}
        """id(instance) -> record, for the weakly referenced ones (removed when collected)."""
        self.strong: list[Raw] = []
        """Counted by construction (no weak reference possible): never removed."""
        self.peak_key = peak_key
        """The key as the peaks keep it (see ``ManagerRule.peak``)."""

    def count(self) -> int:
        return len(self.live) + len(self.strong)

    def live_records(self) -> list[Raw]:
        """The weakly referenced records, oldest first."""
        return _snapshot(self.live, None)

    def ends(self) -> list[Raw]:
        """The oldest and the newest few records (all of them when there are few), in
        O(1): records are kept in construction order."""
        return [
            *_snapshot(self.live, SHOWN_ENDS),
            *_snapshot(self.live, SHOWN_ENDS, newest=True),
            *self.strong[:SHOWN_ENDS],
            *self.strong[-SHOWN_ENDS:],
        ]

    def close(self) -> None:
        """Break the record -> reference -> bucket cycle of a bucket that is dropped."""
        self.live.clear()


WindowCache = tuple[
    Phase | None,
    tuple[str, ...],
    dict[Hashable, Bucket],
    dict[Hashable, Bucket] | None,
    str | None,
]
"""(phase, window, its buckets, the shared buckets it also counts against or None, and the
origin of constructions outside tests, None in a test)."""


class ManagerRule:
    """The runtime state of one declared manager."""

    def __init__(self, spec: ManagerSpec) -> None:
        self.spec = spec
        self.windows: dict[tuple[str, ...], dict[Hashable, Bucket]] = {}
        self.created_in_tests: dict[str, int] = {}
        """Class path (``module:qualname``) -> instances created in tests (function scope)."""
        self.created_outside: dict[tuple[str, str], int] = {}
        """(origin, class path) -> instances created outside tests: at import time, during
        collection, by wider fixtures. Under pytest-xdist every worker goes through the same
        origins, so the controller keeps the highest count per origin instead of the sum."""
        self.peak: dict[Hashable, int] = {}
        """The most live instances seen at once per key (keys of other types as their repr)."""
        self.instrumented: dict[str, str] = {}
        """class path -> qualified name of the class object it resolved to."""
        self.untrackable: set[str] = set()
        """Paths of the classes whose instances are counted by construction."""
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

        self.cached: WindowCache = (None, SHARED_WINDOW, {}, None, None)
        """The window of the last phase that constructed an instance (see ``enter``)."""

    @property
    def created_by_class(self) -> dict[str, int]:
        """Class path -> instances counted, alive or not."""
        found = dict(self.created_in_tests)
        for (_, path), count in self.created_outside.items():
            found[path] = found.get(path, 0) + count
        return found

    @property
    def created(self) -> int:
        """How many instances were counted, alive or not."""
        return sum(self.created_by_class.values())

    def enter(self, phase: Phase) -> WindowCache:
        """The window a new instance is counted in, its buckets, the buckets it also
        counts against, and its origin (under the lock).

        Cached for the phase: phases change rarely, constructions may be many.
        """
        window = self._window_for(phase)
        buckets = self.windows.setdefault(window, {})
        # A test's instances count together with those shared by every test.
        shared = self.windows.setdefault(SHARED_WINDOW, {}) if window[0] == "test" else None
        self.cached = (phase, window, buckets, shared, origin_of(phase))
        return self.cached

    def forget(self, window: tuple[str, ...]) -> None:
        buckets = self.windows.pop(window, None)
        if buckets:
            for bucket in buckets.values():
                bucket.close()
        self.cached = (None, SHARED_WINDOW, {}, None, None)

    def prune(self) -> None:
        """Drop the empty buckets of the long-lived windows (between tests)."""
        for window in (PROCESS_WINDOW, SHARED_WINDOW):
            buckets = self.windows.get(window)
            if not buckets:
                continue
            for key in [k for k, b in buckets.items() if not b.live and not b.strong]:
                del buckets[key]

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


def origin_of(phase: Phase) -> str | None:
    """Where a construction outside a test comes from, the same in every xdist worker; None
    for a test and its function-scoped fixtures (each test runs in one worker only)."""
    if phase.in_test and phase.fixture_scope in (None, "function"):
        return None
    if phase.fixture is not None:
        nodeid = phase.nodeid
        parts = nodeid.split("::")
        node = {
            "session": "",
            "package": parts[0].rpartition("/")[0],
            "module": parts[0],
            "class": "::".join(parts[:2]),
        }.get(phase.fixture_scope or "", nodeid)
        return f"fixture {phase.fixture} ({phase.fixture_scope}) {node}"
    if phase.when == "collection":
        return f"collection {phase.nodeid}"
    return phase.when


def class_names(paths: Any) -> dict[str, str]:
    """How to show each class path: its qualname, or ``module:qualname`` where two share
    a qualname."""
    paths = list(paths)
    by_name: dict[str, int] = {}
    for path in paths:
        name = path.partition(":")[2]
        by_name[name] = by_name.get(name, 0) + 1
    return {p: p if by_name[p.partition(":")[2]] > 1 else p.partition(":")[2] for p in paths}
