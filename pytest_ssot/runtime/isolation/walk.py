"""The shared-state walk: which mutable objects instances of different keys both reach.

Two passes. The first follows each instance's attributes (``__dict__``, ``__slots__``,
mutable class attributes), the items of the containers it meets and the attributes of
the project objects it meets, up to ``depth`` hops, and remembers for each mutable
object the first key that reached it: cheap, no path is built. The second runs only
for the objects that two keys reach, and only from the instances involved, to name
the attribute paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_ssot.runtime.isolation.kinds import (
    CONTAINER,
    OBJECT,
    SKIP,
    TRANSPARENT,
    Kinds,
    shown_key,
    slot_names,
)

MAX_ITEMS = 100
"""Items of one container followed (the first ones in iteration order)."""

Step = tuple[str, Any, "type | None"]
"""(path step such as '.queues' or "['alice']", the value, the class whose attribute it is)."""


@dataclass(frozen=True)
class Reach:
    """How one instance reaches a shared object."""

    path: str
    """From the instance: '._registry._queues'."""
    class_attribute_of: type | None = None
    """The last step reads a class attribute of this class (the classic ``x = {}``)."""
    attribute: str = ""
    """The name of that class attribute."""


@dataclass
class SharedObject:
    """A mutable object reached from instances of two or more keys (one walk's result)."""

    obj: Any
    kind: int
    instances: dict[Hashable, int]
    """key -> index (in the walked sequence) of the first instance of that key reaching it."""
    reaches: dict[int, Reach]
    """instance index -> how it reaches the object (filled by the second pass)."""


class Walker:
    """One walk over the live instances of one manager (built per check, not kept)."""

    def __init__(self, kinds: Kinds, depth: int, skip_ids: set[int]) -> None:
        self.kinds = kinds
        self.depth = depth
        self.skip_ids = skip_ids
        self._class_state: dict[type, tuple[tuple[str, Any, type], ...]] = {}
        self._slots: dict[type, tuple[str, ...]] = {}

    # -- what an object leads to ------------------------------------------------------

    def class_state(self, cls: type) -> tuple[tuple[str, Any, type], ...]:
        """The mutable class attributes an instance of ``cls`` sees: (name, value, owner)."""
        found = self._class_state.get(cls)
        if found is None:
            names: dict[str, tuple[str, Any, type]] = {}
            for klass in cls.__mro__:
                if klass is object:
                    continue
                for name, value in vars(klass).items():
                    if name in names or (name.startswith("__") and name.endswith("__")):
                        continue
                    names[name] = (name, value, klass)
            kinds = self.kinds
            found = tuple(
                entry for entry in names.values() if kinds.of(type(entry[1])) >= CONTAINER
            )
            self._class_state[cls] = found
        return found

    def slots(self, cls: type) -> tuple[str, ...]:
        found = self._slots.get(cls)
        if found is None:
            found = self._slots[cls] = slot_names(cls)
        return found

    def _values(self, obj: Any, kind: int, simple: dict[type, bool]) -> Iterable[Any]:
        """The values one hop from ``obj``; a plain ``__dict__`` is read without a call."""
        cls = type(obj)
        if kind != CONTAINER:
            plain_dict = simple.get(cls)
            if plain_dict is None:
                plain_dict = simple[cls] = self._simple(cls)
            if plain_dict:
                return obj.__dict__.values()  # type: ignore[no-any-return]
        return self.children(obj, kind)

    def _simple(self, cls: type) -> bool:
        return (
            not issubclass(cls, tuple | frozenset)
            and not self.slots(cls)
            and not self.class_state(cls)
            and _has_dict(cls)
        )

    def children(self, obj: Any, kind: int) -> Iterable[Any]:
        """The values one hop away from ``obj`` (no names: the first pass)."""
        if kind == CONTAINER:
            if isinstance(obj, dict):
                values: Iterable[Any] = obj.values()
            elif isinstance(obj, bytearray):
                return ()
            else:
                values = obj
            return values if len(obj) <= MAX_ITEMS else itertools.islice(values, MAX_ITEMS)
        if kind == TRANSPARENT and isinstance(obj, tuple | frozenset):
            return obj if len(obj) <= MAX_ITEMS else itertools.islice(obj, MAX_ITEMS)
        cls = type(obj)
        own: dict[str, Any] | None = getattr(obj, "__dict__", None)
        slots = self.slots(cls)
        shared = self.class_state(cls)
        if not slots and not shared:
            return own.values() if own is not None else ()
        found: list[Any] = list(own.values()) if own is not None else []
        for name in slots:
            value = getattr(obj, name, _ABSENT)
            if value is not _ABSENT:
                found.append(value)
        for name, value, _ in shared:
            if (own is None or name not in own) and name not in slots:
                found.append(value)
        return found

    def named_children(self, obj: Any, kind: int) -> list[Step]:
        """The values one hop away, with the path step that reaches each (the second pass)."""
        if kind == CONTAINER:
            if isinstance(obj, dict):
                items = itertools.islice(obj.items(), MAX_ITEMS)
                return [(f"[{shown_key(k)}]", v, None) for k, v in items]
            if isinstance(obj, bytearray):
                return []
            if isinstance(obj, set):
                return [("[*]", v, None) for v in itertools.islice(obj, MAX_ITEMS)]
            return [(f"[{i}]", v, None) for i, v in enumerate(itertools.islice(obj, MAX_ITEMS))]
        if kind == TRANSPARENT and isinstance(obj, tuple | frozenset):
            return [(f"[{i}]", v, None) for i, v in enumerate(itertools.islice(obj, MAX_ITEMS))]
        cls = type(obj)
        own: dict[str, Any] | None = getattr(obj, "__dict__", None)
        slots = self.slots(cls)
        steps: list[Step] = [(f".{n}", v, None) for n, v in own.items()] if own else []
        for name in slots:
            value = getattr(obj, name, _ABSENT)
            if value is not _ABSENT:
                steps.append((f".{name}", value, None))
        for name, value, owner in self.class_state(cls):
            if (own is None or name not in own) and name not in slots:
                steps.append((f".{name}", value, owner))
        return steps

    # -- the two passes -----------------------------------------------------------

    def shared(self, instances: Sequence[tuple[Any, Hashable]]) -> list[SharedObject]:  # noqa: C901, PLR0915  the hot loop, inlined on purpose (bench/bench_isolation.py)
        """The mutable objects that instances of different keys reach, with both paths."""
        # id -> (key, index) of the first instance that reached it. One lookup tells an
        # object to skip, one this instance has seen, one of the same key, a shared one.
        skip_mark: tuple[Hashable, int] = (_ABSENT, -1)
        owner: dict[int, tuple[Hashable, int]] = dict.fromkeys(self.skip_ids, skip_mark)
        found: dict[int, SharedObject] = {}
        cache = self.kinds.cache
        of = self.kinds.of
        depth = self.depth
        # Types known to be no state, as a set: most attribute values (strings, numbers,
        # None) are dropped by one comprehension before any other work.
        plain = {t for t, kind in cache.items() if kind == SKIP}
        # Per class: do its instances have a plain __dict__ (no slots, no mutable class
        # state)? Then their attributes are read without a call.
        simple: dict[type, bool] = {}
        for index, (root, key) in enumerate(instances):
            # Each level is a list of iterables: the values one hop further.
            level: list[Iterable[Any]] = [self._values(root, OBJECT, simple)]
            for hop in range(depth):
                last = hop == depth - 1
                following: list[Iterable[Any]] = []
                for values in level:
                    # A comprehension filters a long attribute list fastest; for the few items
                    # of the containers further on, its own call costs more than a plain loop.
                    if hop == 0:
                        values = [v for v in values if type(v) not in plain]
                    for child in values:
                        if type(child) in plain:
                            continue
                        kind = cache.get(type(child))
                        if kind is None:
                            kind = of(type(child))
                            if kind == SKIP:
                                plain.add(type(child))
                                continue
                        if kind >= CONTAINER:
                            cid = id(child)
                            first = owner.get(cid)
                            if first is None:
                                owner[cid] = (key, index)
                            elif first[1] == index or first is skip_mark or first[0] == key:
                                continue  # seen from here, not state, or the same key's
                            else:
                                entry = found.get(cid)
                                if entry is None:
                                    entry = found[cid] = SharedObject(
                                        child, kind, {first[0]: first[1]}, {}
                                    )
                                elif key in entry.instances:
                                    continue  # this key reached it before
                                entry.instances[key] = index
                        if last or (kind == CONTAINER and not child):
                            continue  # an empty container leads nowhere
                        # What the child leads to, read here without a call where possible.
                        ctype = type(child)
                        if ctype is dict:
                            following.append(
                                child.values()
                                if len(child) <= MAX_ITEMS
                                else itertools.islice(child.values(), MAX_ITEMS)
                            )
                        elif (ctype is list or ctype is tuple) and len(child) <= MAX_ITEMS:
                            following.append(child)
                        else:
                            following.append(self._values(child, kind, simple))
                level = following
                if not level:
                    break
        if not found:
            return []
        for index in sorted({i for entry in found.values() for i in entry.instances.values()}):
            wanted = {cid for cid, e in found.items() if index in e.instances.values()}
            for cid, reach in self.paths(instances[index][0], wanted).items():
                found[cid].reaches[index] = reach
        return list(found.values())

    def paths(self, root: Any, wanted: set[int]) -> dict[int, Reach]:
        """The shortest attribute path from ``root`` to each object in ``wanted``."""
        reached: dict[int, Reach] = {}
        seen: set[int] = set()
        level: list[tuple[Any, int, str]] = [(root, OBJECT, "")]
        for hop in range(self.depth):
            following: list[tuple[Any, int, str]] = []
            for parent, parent_kind, path in level:
                for step, child, owner in self.named_children(parent, parent_kind):
                    kind = self.kinds.of(type(child))
                    cid = id(child)
                    if kind == SKIP or cid in seen or cid in self.skip_ids:
                        continue
                    seen.add(cid)
                    here = path + step
                    if cid in wanted and cid not in reached:
                        reached[cid] = Reach(here, owner, step[1:] if owner else "")
                    following.append((child, kind, here))
            if len(reached) == len(wanted) or hop == self.depth - 1:
                break
            level = following
        return reached


_ABSENT: Any = object()


def _has_dict(cls: type) -> bool:
    return any("__dict__" in vars(klass) for klass in cls.__mro__)
