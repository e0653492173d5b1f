"""The instance tracker: wraps the declared classes' constructors and counts live instances.

Only the declared classes are touched. A class whose module is already imported
is wrapped when the tracker is installed; the others when their module is
imported (see ``watching``). ``uninstall`` puts every original back and removes
the finder. Live instances are held by weak reference; instances of classes that
do not support weak references are counted by construction instead.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from types import FrameType, ModuleType
from typing import Any, Protocol

from pytest_ssot.installed import module_exists
from pytest_ssot.managers import ManagerSpec, ObjectPath
from pytest_ssot.model import Finding, Phase
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime import forking
from pytest_ssot.runtime.instances.counting import (
    PLAIN_KEYS,
    PRUNE_EVERY,
    Bucket,
    LiveRef,
    ManagerRule,
    gone,
    shown_others,
)
from pytest_ssot.runtime.instances.keys import MISSING, UNREADABLE, Binder, UnhashableKey, read_key
from pytest_ssot.runtime.instances.patching import (
    Pairs,
    Patch,
    TypeInfo,
    constructor_codes,
    make_init_wrapper,
    make_new_wrapper,
)
from pytest_ssot.runtime.instances.records import (
    KEY,
    REF,
    ClassRef,
    InstanceRecord,
    LiveInstance,
    Raw,
    by_seq,
)
from pytest_ssot.runtime.instances.report import (
    BYPASS,
    DUPLICATE,
    ManagerBreach,
    breach_finding,
    declaration_finding,
    declaration_fingerprint,
)
from pytest_ssot.runtime.instances.watching import DeclaredModuleFinder


class PhaseSource(Protocol):
    """Where the part of the run now executing is read (``hooks.phase.PhaseTracker``)."""

    @property
    def current(self) -> Phase: ...


class InstanceTracker:
    """Counts the live instances of the declared classes and reports broken rules.

    Holds one ``ManagerRule`` per declared manager (its counting windows and peaks),
    the wrappers it installs on the declared classes' constructors, and the records
    of what each test created. Made by ``ManagerChecks`` from the ``ManagerSpec``s;
    ``constructed`` runs on every construction and reports breaches as findings.
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
        self.active = False
        self.local = threading.local()
        self._lock = threading.RLock()
        self._patches: dict[type, Patch] = {}
        self._types: dict[int, TypeInfo] = {}
        """id(class) -> what the hot path needs about it (the class is not held)."""
        self._per_test: dict[str, list[Raw]] = {}
        self._keep: set[str] = set()
        self._seq = 0
        self._pruned_at = 0
        self._reported: set[str] = set()
        self._watcher: DeclaredModuleFinder | None = None
        self.restore_problems: list[str] = []

    # -- installing and restoring ---------------------------------------------------

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(m for rule in self.rules for m in rule.spec.modules)

    def install(self) -> None:
        """Start watching: wrap what is imported, watch imports of the rest."""
        if self.active or not self.rules:
            return
        self.active = True
        forking.stand_down_in_children(self)
        self._watcher = DeclaredModuleFinder(self.modules, self._module_loaded)
        sys.meta_path.insert(0, self._watcher)
        for name in sorted(self.modules):
            module = sys.modules.get(name)
            if module is not None:
                self._module_loaded(name, module)

    def uninstall(self) -> None:
        """Put every original constructor back and stop watching imports. Idempotent."""
        self.active = False
        forking.forget(self)
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            sys.meta_path[:] = [f for f in sys.meta_path if f is not watcher]
        with self._lock:
            patches = list(self._patches.values())
            self._patches.clear()
            self._types.clear()
        for patch in reversed(patches):
            current = patch.cls.__dict__.get(patch.attr)
            if current is not patch.installed:
                self.restore_problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} was replaced "
                    "during the run by something else; left as it is"
                )
                continue
            try:
                if patch.had_own:
                    setattr(patch.cls, patch.attr, patch.original)
                else:
                    delattr(patch.cls, patch.attr)
            except Exception as exc:  # put back all the others whatever happens to one
                self.restore_problems.append(
                    f"{patch.cls.__module__}.{patch.cls.__qualname__}.{patch.attr} could not be "
                    f"restored ({type(exc).__name__}: {exc})"
                )

    def forked(self) -> None:
        """In a child forked from the run: stop counting (its findings could not reach the
        parent) and take fresh locks (another thread may have held them at the fork)."""
        self.active = False
        self._lock = threading.RLock()
        self.local = threading.local()

    def is_wrapped(self, cls: type) -> bool:
        return cls in self._patches

    def _module_loaded(self, name: str, module: ModuleType) -> None:
        if not self.active:
            return  # stood down in a forked child
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module != name:
                    continue
                try:
                    self._resolve_and_wrap(rule, path, module)
                except Exception as exc:  # never break the import of the user's module
                    rule.unusable.add(path.text)
                    kind = type(exc).__name__
                    self._problem(rule, f"{path.text} could not be instrumented ({kind}: {exc})")

    def _resolve_and_wrap(self, rule: ManagerRule, path: ObjectPath, module: ModuleType) -> None:
        try:
            target = path.resolve(module)
        except AttributeError:
            rule.unusable.add(path.text)
            self._problem(rule, f"{path.text}: module {path.module} has no {path.qualname!r}")
            return
        if not isinstance(target, type):
            rule.unusable.add(path.text)
            self._problem(rule, f"{path.text} is not a class ({type(target).__name__})")
            return
        with self._lock:
            patch = self._patches.get(target)
            if (patch is not None and rule in patch.rule_set) or (
                patch is None and self._inherits_wrapper(target, rule)
            ):
                # The same class under another name (a legacy alias), or a subclass that
                # inherits a constructor already wrapped for this manager.
                rule.instrumented[path.text] = qualified(target)
                return
            binder: Binder | None = None
            key = rule.spec.key
            if key is not None:
                probe = patch or Patch.for_class(target)
                try:
                    binder = Binder.through(probe.signature_chain(), key.parameter, key.attributes)
                except (ValueError, TypeError) as exc:
                    rule.unusable.add(path.text)
                    self._problem(
                        rule, f"key {key.text!r}: {exc}; {path.text} is not watched", path.text
                    )
                    return
            if patch is None:
                patch = self._wrap(target)
            patch.add(rule, binder)
            rule.instrumented[path.text] = qualified(target)
            self._types.clear()

    def _inherits_wrapper(self, cls: type, rule: ManagerRule) -> bool:
        attr = Patch.for_class(cls).attr
        if attr in cls.__dict__:
            return False
        for base in cls.__mro__[1:]:
            if attr in base.__dict__:
                patch = self._patches.get(base)
                return (
                    patch is not None
                    and patch.installed is base.__dict__[attr]
                    and rule in patch.rule_set
                )
        return False

    def _wrap(self, cls: type) -> Patch:
        patch = Patch.for_class(cls)
        if patch.attr == "__new__":
            wrapper: Any = make_new_wrapper(self, patch)
        else:
            wrapper = make_init_wrapper(self, patch)
        target = patch.signature_target()
        if target is not None:
            functools.update_wrapper(wrapper, target)  # keeps inspect.signature(cls) right
        patch.installed = staticmethod(wrapper) if patch.attr == "__new__" else wrapper
        setattr(cls, patch.attr, patch.installed)  # TypeError for built-in and extension types
        for other in self._patches.values():
            if issubclass(cls, other.cls) or issubclass(other.cls, cls):
                other.alone = patch.alone = False
        self._patches[cls] = patch
        return patch

    # -- counting ---------------------------------------------------------------

    def _type_info(self, cls: type, obj: object) -> TypeInfo:
        types = self._types
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
            info = self._type_info(cls, obj)
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
        lock = self._lock
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
                        self._problem(rule, f"key {rule.key_text!r}: {note}")
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
                and not self._inside_factory(rule, frames, last)
            ):
                breaches = breaches or []
                breaches.append(ManagerBreach(BYPASS, rule, InstanceRecord._make(raw)))
        if breaches:
            for breach in breaches:
                self.report(breach_finding(breach))

    def _inside_factory(
        self, rule: ManagerRule, frames: tuple[Any, ...], rest: FrameType | None
    ) -> bool:
        if rule.unresolved_factories:
            rule.resolve_factories(lambda problem: self._problem(rule, problem))
        codes = rule.factory_ids
        if codes:
            for code in frames[::2]:
                if id(code) in codes:
                    return True
        if not frames:
            return True  # created by the interpreter itself: nothing to blame
        if rule.spec.allow_direct_in_tests and self.files.is_test_file(frames[0].co_filename):
            return True
        frame = rest.f_back if rest is not None else None  # beyond the frames kept
        while codes and frame is not None:
            if id(frame.f_code) in codes:
                return True
            frame = frame.f_back
        return False

    def _prune(self) -> None:
        self._pruned_at = self._seq
        for rule in self.rules:
            rule.prune()

    def keep_records(self, nodeid: str) -> None:
        """Keep every record the test makes, for the ``ssot_instances`` fixture."""
        with self._lock:
            self._keep.add(nodeid)

    def end_test(self, nodeid: str) -> None:
        """Forget the test's window: its instances never count against another test."""
        window = ("test", nodeid)
        with self._lock:
            for rule in self.rules:
                rule.forget(window)
            self._per_test.pop(nodeid, None)
            self._keep.discard(nodeid)
            if self._seq - self._pruned_at >= PRUNE_EVERY:
                self._prune()  # between tests, not on the construction path

    def records_for(self, nodeid: str) -> list[InstanceRecord]:
        """Every instance counted during the test so far, oldest first (see keep_records)."""
        with self._lock:
            raws = list(self._per_test.get(nodeid, ()))
        return [InstanceRecord._make(raw) for raw in raws]

    def live_instances(self, name: str) -> list[LiveInstance]:
        """The live instances of manager ``name`` with their keys, oldest first.

        Read from the tracker's weak references, under its lock, without touching the
        construction path. Instances counted by construction (no weak reference) are not
        included. ValueError for a manager that is not declared.
        """
        rule = self.rule(name)
        with self._lock:
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

    # -- problems and findings ------------------------------------------------------

    def _problem(
        self, rule: ManagerRule, problem: str, fingerprint_detail: str | None = None
    ) -> None:
        """A declaration that cannot be applied: reported once, as an error finding."""
        spec = rule.spec
        fingerprint = declaration_fingerprint(spec, fingerprint_detail or problem)
        with self._lock:
            if fingerprint in self._reported:
                return
            self._reported.add(fingerprint)
        self.report(declaration_finding(spec, problem, self.phases.current, fingerprint))

    def check_unimported(self) -> None:
        """At session end: a declared class whose module does not exist is an error."""
        for rule in self.rules:
            for path in rule.spec.classes:
                if path.module in sys.modules or path.text in rule.unusable:
                    continue
                if module_exists(path.module) is False:
                    self._problem(rule, f"{path.text}: there is no module named {path.module!r}")


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


_NOWHERE: dict[int, Raw] = {}
"""The home of the references of instances counted in no bucket (an unreadable key)."""


def _drop_type(types: dict[int, TypeInfo], key: int, ref: object) -> None:
    """A constructed class was collected: forget what was computed for it."""
    types.pop(key, None)
