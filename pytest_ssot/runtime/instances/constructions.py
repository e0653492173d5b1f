"""Counting constructions: the hot path every construction of a declared class runs.

``Constructions`` is what the wrappers (``patching``) report to: for each
construction it finds the creation site, reads the key, counts the instance in
its window's bucket under one lock (O(1), see ``counting``) and reports
duplicates and factory bypasses. It also keeps the records of the tests that ask
for them and closes a test's window when the test ends. It holds no instance and
no class strongly.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from collections.abc import Callable, Hashable
from types import FrameType
from typing import Any

from pytest_ssot.model import Finding
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime.instances.counting import (
    PLAIN_KEYS,
    PRUNE_EVERY,
    Bucket,
    LiveRef,
    ManagerRule,
    PhaseSource,
    gone,
    shown_others,
)
from pytest_ssot.runtime.instances.keys import MISSING, UNREADABLE, UnhashableKey, read_key
from pytest_ssot.runtime.instances.patching import Pairs, TypeInfo, constructor_codes
from pytest_ssot.runtime.instances.records import ClassRef, InstanceRecord, Raw
from pytest_ssot.runtime.instances.report import (
    BYPASS,
    DUPLICATE,
    DeclarationProblems,
    ManagerBreach,
    breach_finding,
)


class Constructions:
    """Counts each construction of a declared class and reports the rules it breaks."""

    def __init__(
        self,
        rules: list[ManagerRule],
        phases: PhaseSource,
        report: Callable[[Finding], None],
        files: ProjectFiles,
        problems: DeclarationProblems,
    ) -> None:
        self.rules = rules
        self.phases = phases
        self.report = report
        self.files = files
        self.problems = problems
        self.active = False
        self.local = threading.local()
        self.lock = threading.RLock()
        self._types: dict[int, TypeInfo] = {}
        """id(class) -> what the hot path needs about it (the class is not held)."""
        self._per_test: dict[str, list[Raw]] = {}
        self._keep: set[str] = set()
        self._seq = 0
        self._pruned_at = 0

    def forked(self) -> None:
        """In a forked child: stop counting and take fresh locks."""
        self.active = False
        self.lock = threading.RLock()
        self.local = threading.local()

    def forget_types(self) -> None:
        """A class was wrapped or put back: what was computed per class is stale."""
        self._types.clear()

    def constructed(  # noqa: C901, PLR0915  the hot path, inlined on purpose (see below)
        self,
        obj: object,
        pairs: Pairs,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        # The hot path: runs for every construction of a managed class, so it is
        # written for the interpreter (inlined, unrolled) rather than for reading.
        # bench/bench_construction.py measures it; tests/test_runtime_managers.py and
        # tests/unit/test_instance_tracker.py cover its branches.
        __tracebackhide__ = True
        cls = type(obj)
        info = self._types.get(id(cls))
        if info is None:
            info = _type_info(self._types, cls, obj)
        skip = info.skip
        frame: FrameType | None = sys._getframe(2)
        # The class's own constructors (a subclass's __init__ calling super().__init__,
        # our wrappers, typing's Generic alias) are not the creation site.
        while frame is not None and id(frame.f_code) in skip:
            frame = frame.f_back
        # The innermost MAX_FRAMES (4) frames as (code, offset) pairs, unrolled: a loop
        # with list appends costs twice as much. ``last`` is the outermost one kept.
        last = frame
        frames: tuple[Any, ...] = ()
        if frame is not None:
            f1 = frame.f_back
            if f1 is None:
                frames = (frame.f_code, frame.f_lasti)
            else:
                f2 = f1.f_back
                if f2 is None:
                    frames = (frame.f_code, frame.f_lasti, f1.f_code, f1.f_lasti)
                    last = f1
                else:
                    last = f2.f_back
                    if last is None:
                        last = f2
                        frames = (
                            frame.f_code,
                            frame.f_lasti,
                            f1.f_code,
                            f1.f_lasti,
                            f2.f_code,
                            f2.f_lasti,
                        )
                    else:
                        frames = (
                            frame.f_code,
                            frame.f_lasti,
                            f1.f_code,
                            f1.f_lasti,
                            f2.f_code,
                            f2.f_lasti,
                            last.f_code,
                            last.f_lasti,
                        )
            del f1
        phase = self.phases.current
        weakrefable = info.weakrefable
        kind = info.kind
        path = kind.path
        oid = id(obj)
        lock = self.lock
        breaches: list[ManagerBreach] | None = None
        for rule, binder in pairs:
            key: Hashable = None
            note: str | None = None
            if binder is not None:
                # read_key's common case, inlined: an argument and an attribute path
                # (an unhashable key is wrapped when it is looked up, below).
                position, name, keyword, default, getter = binder.fast
                if position < len(args):
                    key = args[position]
                else:
                    key = kwargs.get(name, default) if keyword else default
                if getter is not None:
                    try:
                        key = getter(key)
                    except Exception:
                        key = None
                if key is None or key is MISSING:
                    key, note = read_key(binder, args, kwargs)
                    if key is UNREADABLE:
                        self.problems(rule, f"key {rule.key_text!r}: {note}")
            # acquire/release rather than "with": half the cost on this path.
            lock.acquire()
            try:
                cached = rule.cached
                if cached[0] is not phase:
                    cached = rule.enter(phase)
                _, window, buckets, shared_buckets, origin = cached
                if key is UNREADABLE:
                    # Unreadable keys are never counted together (nor against anything):
                    # the declaration finding says why.
                    bucket = None
                    count = 1
                    shared = None
                else:
                    try:
                        bucket = buckets.get(key)
                    except Exception:  # not hashable: compared by its repr
                        key = UnhashableKey(key)
                        bucket = buckets.get(key)
                    if bucket is None:
                        pkey = key if type(key) in PLAIN_KEYS else UnhashableKey(key)
                        bucket = buckets[key] = Bucket(pkey)
                        if pkey not in rule.peak:
                            rule.peak[pkey] = 1  # so the common count of 1 need not look
                    live = bucket.live
                    if oid in live:
                        continue  # initialised again (a singleton), not new
                    count = len(live) + len(bucket.strong) + 1
                    shared = None
                    if shared_buckets is not None:
                        shared = shared_buckets.get(key)
                        if shared is not None:
                            if oid in shared.live:
                                continue
                            count += len(shared.live) + len(shared.strong)
                self._seq = seq = self._seq + 1
                if weakrefable:
                    ref: LiveRef | None = LiveRef(obj, gone)
                else:
                    ref = None
                raw = (rule.name, kind, key, note, phase, frames, ref, seq, window, self.files)
                if ref is not None:
                    ref.oid = oid
                    if bucket is not None:
                        ref.home = live = bucket.live
                        live[oid] = raw
                    else:
                        ref.home = _NOWHERE
                elif bucket is not None:
                    bucket.strong.append(raw)
                if ref is None:
                    rule.untrackable.add(path)
                if self._keep and phase.nodeid in self._keep and phase.in_test:
                    self._per_test.setdefault(phase.nodeid, []).append(raw)
                if origin is None:
                    by_class = rule.created_in_tests
                    by_class[path] = by_class.get(path, 0) + 1
                else:
                    outside = rule.created_outside
                    where = (origin, path)
                    outside[where] = outside.get(where, 0) + 1
                if count > 1 and bucket is not None and count > rule.peak[bucket.peak_key]:
                    rule.peak[bucket.peak_key] = count
                if count > rule.max and bucket is not None:
                    others = shown_others(raw, bucket, shared)
                    breaches = breaches or []
                    breaches.append(
                        ManagerBreach(
                            DUPLICATE,
                            rule,
                            InstanceRecord._make(raw),
                            tuple(map(InstanceRecord._make, others)),
                            total=count,
                        )
                    )
            finally:
                lock.release()
            if (
                rule.factories
                and not (frames and id(frames[0]) in rule.factory_ids)
                and not inside_factory(rule, frames, last, self.files, self.problems)
            ):
                breaches = breaches or []
                breaches.append(ManagerBreach(BYPASS, rule, InstanceRecord._make(raw)))
        if breaches:
            for breach in breaches:
                self.report(breach_finding(breach))

    def _prune(self) -> None:
        self._pruned_at = self._seq
        for rule in self.rules:
            rule.prune()

    def keep_records(self, nodeid: str) -> None:
        """Keep every record the test makes, for the ``ssot_instances`` fixture."""
        with self.lock:
            self._keep.add(nodeid)

    def end_test(self, nodeid: str) -> None:
        """Forget the test's window: its instances never count against another test."""
        window = ("test", nodeid)
        with self.lock:
            for rule in self.rules:
                rule.forget(window)
            self._per_test.pop(nodeid, None)
            self._keep.discard(nodeid)
            if self._seq - self._pruned_at >= PRUNE_EVERY:
                self._prune()  # between tests, not on the construction path

    def records_for(self, nodeid: str) -> list[InstanceRecord]:
        """Every instance counted during the test so far, oldest first (see keep_records)."""
        with self.lock:
            raws = list(self._per_test.get(nodeid, ()))
        return [InstanceRecord._make(raw) for raw in raws]


def inside_factory(
    rule: ManagerRule,
    frames: tuple[Any, ...],
    rest: FrameType | None,
    files: ProjectFiles,
    problem: Callable[[ManagerRule, str], None],
) -> bool:
    """Whether the construction ran inside one of the rule's factories (or needs none)."""
    if rule.unresolved_factories:
        rule.resolve_factories(lambda text: problem(rule, text))
    codes = rule.factory_ids
    if codes:
        for code in frames[::2]:
            if id(code) in codes:
                return True
    if not frames:
        return True  # created by the interpreter itself: nothing to blame
    if rule.spec.allow_direct_in_tests and files.is_test_file(frames[0].co_filename):
        return True
    frame = rest.f_back if rest is not None else None  # beyond the frames kept
    while codes and frame is not None:
        if id(frame.f_code) in codes:
            return True
        frame = frame.f_back
    return False


_NOWHERE: dict[int, Raw] = {}
"""The home of the references of instances counted in no bucket (an unreadable key)."""


def _type_info(types: dict[int, TypeInfo], cls: type, obj: object) -> TypeInfo:
    """What the hot path needs about ``cls``, computed on its first construction."""
    info = types.get(id(cls))
    if info is None:
        try:
            weakref.ref(obj)
            weakrefable = True
        except TypeError:
            weakrefable = False
        # Keyed by id, not by the class: the entry goes when the class is collected
        # (a class made at run time, such as each mock's own subclass).
        kind = ClassRef(cls, functools.partial(_drop_type, types, id(cls)))
        info = TypeInfo(constructor_codes(cls), weakrefable, kind)
        types[id(cls)] = info
    return info


def _drop_type(types: dict[int, TypeInfo], key: int, ref: object) -> None:
    """A constructed class was collected: forget what was computed for it."""
    types.pop(key, None)
