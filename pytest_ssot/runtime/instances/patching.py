"""Patching constructors: the ``__init__``/``__new__`` wrappers put on the declared classes.

Wrapping replaces ``__init__`` on the declared class itself (or ``__new__`` for a
class that is built in ``__new__`` alone), so subclasses inherit the wrapper. A
per-thread guard keyed by the object makes a ``super().__init__`` chain count
once. The wrappers hand every construction to a ``Constructed`` receiver
(``constructions.Constructions``); what they replaced is kept in a ``Patch`` so it can be put back.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import Any, Protocol

from pytest_ssot.runtime.instances.counting import ManagerRule
from pytest_ssot.runtime.instances.keys import Binder
from pytest_ssot.runtime.instances.records import ClassRef
from pytest_ssot.runtime.instances.sites import codes_of

Pairs = tuple[tuple[ManagerRule, "Binder | None"], ...]
"""The (manager, key binder) pairs one construction counts for."""


class Constructed(Protocol):
    """What the wrappers report to (``constructions.Constructions``)."""

    active: bool
    local: threading.local

    def constructed(
        self, obj: object, pairs: Pairs, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None: ...


class Patch:
    """One wrapped class: what was there before, what we put there, for which managers."""

    def __init__(self, cls: type, attr: str, original: Any, had_own: bool) -> None:
        self.cls = cls
        self.attr = attr
        self.original = original
        self.had_own = had_own
        self.installed: Any = None
        self.rules: tuple[ManagerRule, ...] = ()
        self.rule_set: frozenset[ManagerRule] = frozenset()
        self.pairs: tuple[tuple[ManagerRule, Binder | None], ...] = ()
        self.alone = True
        """No other wrapped class is a base or a subclass of this one: no wrapper can run
        inside this one's for the same object, so the per-thread guard is not needed."""

    @classmethod
    def for_class(cls, klass: type) -> Patch:
        """What wrapping ``klass`` would replace: ``__init__``, or ``__new__`` for a class
        that is built in ``__new__`` alone."""
        resolved: Any = klass  # looked up through the MRO, as type.__call__ does
        uses_new = resolved.__init__ is object.__init__ and resolved.__new__ is not object.__new__
        attr = "__new__" if uses_new else "__init__"
        return cls(klass, attr, klass.__dict__.get(attr), attr in klass.__dict__)

    def signature_target(self) -> Any:
        """The constructor function whose parameters the wrapper receives."""
        if self.had_own:
            entry = self.original
        else:
            entry = None
            for base in self.cls.__mro__[1:]:
                if self.attr in base.__dict__:
                    entry = base.__dict__[self.attr]
                    break
        if isinstance(entry, staticmethod | classmethod):
            entry = entry.__func__
        return entry

    def signature_chain(self) -> list[Any]:
        """The constructor functions along the MRO, from the one the wrapper receives on."""
        chain = []
        for klass in self.cls.__mro__:
            entry = klass.__dict__.get(self.attr)
            if entry is None:
                continue
            if klass is self.cls and self.had_own:
                entry = self.original  # not our wrapper, if it is installed already
            if isinstance(entry, staticmethod | classmethod):
                entry = entry.__func__
            chain.append(entry)
        return chain

    def add(self, rule: ManagerRule, binder: Binder | None) -> None:
        self.rules = (*self.rules, rule)
        self.rule_set = frozenset(self.rules)
        self.pairs = (*self.pairs, (rule, binder))


def original_init(patch: Patch) -> Callable[..., Any]:
    owner: type = patch.cls
    original = patch.original
    if patch.had_own:
        if isinstance(original, FunctionType):
            return original

        def call_descriptor(self: Any, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # not in the user's traceback (pytest hides it)
            return original.__get__(self, type(self))(*args, **kwargs)

        return call_descriptor

    def call_next(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # not in the user's traceback (pytest hides it)
        # Looked up at each call: a base class may be wrapped (or restored) later.
        return super(owner, self).__init__(*args, **kwargs)  # type: ignore[arg-type]

    return call_next


def original_new(patch: Patch) -> Callable[..., Any]:
    owner: type = patch.cls
    original = patch.original
    if patch.had_own:
        func = original.__func__ if isinstance(original, staticmethod) else original
        return typing.cast(Callable[..., Any], func)

    def call_next(klass: type, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # not in the user's traceback (pytest hides it)
        following: Any = super(owner, klass).__new__  # type: ignore[arg-type]
        if following is object.__new__:
            return object.__new__(klass)
        return following(klass, *args, **kwargs)

    return call_next


def busy_in(local: threading.local, name: str) -> dict[int, frozenset[ManagerRule]]:
    """This thread's constructions in progress, by object (or class, for ``__new__``)."""
    found: dict[int, frozenset[ManagerRule]] | None = getattr(local, name, None)
    if found is None:
        found = {}
        setattr(local, name, found)
    return found


def call_claimed(
    busy: dict[int, frozenset[ManagerRule]],
    guard: int,
    patch: Patch,
    call: Callable[..., Any],
    first: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Pairs, Any]:
    """Run a wrapped constructor that may sit inside another one for the same object (a
    ``super().__init__`` chain through several wrapped classes): the outermost counts for
    its managers, an inner one only for managers no outer one counts. Returns the
    (manager, key binder) pairs this constructor counts for, and what ``call`` returned."""
    __tracebackhide__ = True
    claimed = busy.get(guard)
    if claimed is None:
        busy[guard] = patch.rule_set
        try:
            return patch.pairs, call(first, *args, **kwargs)
        finally:
            busy.pop(guard, None)
    mine = tuple(pair for pair in patch.pairs if pair[0] not in claimed)
    if mine:
        busy[guard] = claimed | patch.rule_set
    return mine, call(first, *args, **kwargs)


def make_init_wrapper(tracker: Constructed, patch: Patch) -> Callable[..., None]:
    call = original_init(patch)
    local = tracker.local
    owner: type = patch.cls
    inherited = not patch.had_own

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True  # not in the user's traceback (pytest hides it)
        if patch.alone:
            if inherited:  # call_next without its frame (the common case must be cheap)
                super(owner, self).__init__(*args, **kwargs)  # type: ignore[arg-type]
            else:
                call(self, *args, **kwargs)
            if tracker.active:
                tracker.constructed(self, patch.pairs, args, kwargs)
            return
        if not tracker.active:
            call(self, *args, **kwargs)
            return
        busy = busy_in(local, "init")
        mine, _ = call_claimed(busy, id(self), patch, call, self, args, kwargs)
        if mine:
            tracker.constructed(self, mine, args, kwargs)

    return __init__


def make_new_wrapper(tracker: Constructed, patch: Patch) -> Callable[..., Any]:
    call = original_new(patch)
    local = tracker.local

    def __new__(klass: type, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # not in the user's traceback (pytest hides it)
        if patch.alone:
            obj = call(klass, *args, **kwargs)
            if tracker.active and isinstance(obj, patch.cls):
                tracker.constructed(obj, patch.pairs, args, kwargs)
            return obj
        if not tracker.active:
            return call(klass, *args, **kwargs)
        busy = busy_in(local, "new")
        mine, obj = call_claimed(busy, id(klass), patch, call, klass, args, kwargs)
        if mine and isinstance(obj, patch.cls):
            tracker.constructed(obj, mine, args, kwargs)
        return obj

    return __new__


def wrapper_codes() -> frozenset[CodeType]:
    """The code objects of our own wrapper frames, skipped when finding the creation site."""
    makers = (original_init, original_new, make_init_wrapper, make_new_wrapper)
    nested = {
        const for make in makers for const in make.__code__.co_consts if isinstance(const, CodeType)
    }
    return frozenset({*nested, call_claimed.__code__})


OWN_CODES = wrapper_codes()
SKIPPED_CODES = frozenset(
    codes_of(vars(typing._BaseGenericAlias).get("__call__"))
    if hasattr(typing, "_BaseGenericAlias")
    else ()
)
"""typing's ``Box[int](...)`` calls the class from here: not the creation site either."""


class TypeInfo:
    """What the hot path needs to know about one constructed class, computed once."""

    __slots__ = ("codes", "kind", "skip", "weakrefable")

    def __init__(self, codes: frozenset[CodeType], weakrefable: bool, kind: ClassRef) -> None:
        self.codes = codes  # kept alive, so that their ids stay theirs
        self.skip = frozenset(id(code) for code in codes)
        self.weakrefable = weakrefable
        self.kind = kind
        """The class, weakly held, and its names."""


def constructor_codes(cls: type) -> frozenset[CodeType]:
    codes: set[CodeType] = set(OWN_CODES | SKIPPED_CODES)
    for klass in cls.__mro__:
        for attr in ("__init__", "__new__"):
            entry = klass.__dict__.get(attr)
            if entry is not None:
                codes |= codes_of(entry)
    return frozenset(codes)
