"""The chain of referrers that keeps an object alive, found backwards from it, bounded.

Used after a test's teardown and a garbage collection: an instance that should be gone
but is not. The search goes from the object to what refers to it, breadth first, until
it meets a root that outlives tests: a module's globals, a class attribute, a closure
cell. Frames are never followed (a test's locals, a traceback kept for the report, our
own frames): they go away on their own. Bounded in depth and in work: each
``gc.get_referrers`` call scans the whole heap, so the number of calls allowed shrinks
as the heap grows (``MAX_SCANNED``). The bound counts work, not seconds, so the same
heap gives the same answer on an idle laptop and on a loaded CI machine.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pytest_ssot.runtime.isolation.kinds import shown_key

MAX_DEPTH = 6
"""Referrers followed from the object before the search gives up."""
MAX_LOOKUPS = 200
"""``gc.get_referrers`` calls per search, at most."""
MAX_SCANNED = 20_000_000
"""Objects scanned per search, at most (calls times the objects gc tracks): about 200
calls on a heap of 100,000 objects, 20 on a heap of a million (about a second)."""


@dataclass(frozen=True)
class Link:
    """One step of a chain, from a referrer to what it refers to."""

    text: str
    """The step: "module wsapp.registry, global _managers", "['alice']", ".cache"."""
    holder: str
    """The type of the object holding the reference: 'dict', 'module', 'class', 'cell'."""


@dataclass(frozen=True)
class Chain:
    """Root first, the object last."""

    links: tuple[Link, ...]
    root: str
    """The root in one phrase: 'module wsapp.registry', 'class Cache (wsapp/cache.py:3)'."""
    path: str
    """The chain as an expression: "wsapp.registry._managers['alice']"."""


def referrer_chain(
    obj: Any, ignore: Iterable[Any] = (), display: Callable[[str], str] = str
) -> Chain | None:
    """The shortest chain from a long-lived root to ``obj``, or None within the bounds."""
    modules = {id(vars(m)): name for name, m in list(sys.modules.items()) if m is not None}
    ignored = {id(o) for o in ignore}
    allowed = lookup_budget(len(gc.get_objects()))
    lookups = 0
    # Each entry: (object, the chain from it down to obj as (holder, child) pairs).
    level: list[tuple[Any, tuple[tuple[Any, Any], ...]]] = [(obj, ())]
    seen = {id(obj)}
    frame = sys._getframe()
    ignored.update({id(level), id(seen), id(frame)})
    try:
        for _ in range(MAX_DEPTH):
            following: list[tuple[Any, tuple[tuple[Any, Any], ...]]] = []
            ignored.add(id(following))
            for target, below in level:
                if lookups >= allowed:
                    return None
                lookups += 1
                for holder in gc.get_referrers(target):
                    hid = id(holder)
                    if hid in seen or hid in ignored or isinstance(holder, _NEVER):
                        continue
                    seen.add(hid)
                    chain = ((holder, target), *below)
                    root = _root(holder, modules, display)
                    if root is not None:
                        return _describe(chain, root, modules)
                    following.append((holder, chain))
            level = following
            if not level:
                return None
        return None
    finally:
        del frame, level


def lookup_budget(heap_objects: int) -> int:
    """How many ``gc.get_referrers`` calls one search may make on a heap of this size."""
    return max(1, min(MAX_LOOKUPS, MAX_SCANNED // max(heap_objects, 1)))


_NEVER = (types.FrameType, types.TracebackType, types.CoroutineType, types.GeneratorType)


def _root(holder: Any, modules: dict[int, str], display: Callable[[str], str]) -> str | None:
    if isinstance(holder, dict) and id(holder) in modules:
        return f"module {modules[id(holder)]}"
    if isinstance(holder, type):
        return f"class {holder.__module__}.{holder.__qualname__}{_class_site(holder, display)}"
    if isinstance(holder, types.CellType):
        found = _closure_of(holder)
        if found is None:
            return "a closure"
        function, variable = found
        code = function.__code__
        return (
            f"closure variable {variable!r} of {function.__qualname__} "
            f"({display(code.co_filename)}:{code.co_firstlineno})"
        )
    return None


def _closure_of(cell: types.CellType) -> tuple[types.FunctionType, str] | None:
    """The function whose closure holds ``cell``, and the variable's name."""
    for closure in gc.get_referrers(cell):
        if not isinstance(closure, tuple):
            continue
        for function in gc.get_referrers(closure):
            if isinstance(function, types.FunctionType) and function.__closure__ is closure:
                index = closure.index(cell)
                return function, function.__code__.co_freevars[index]
    return None


def _class_site(cls: type, display: Callable[[str], str]) -> str:
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    line = getattr(cls, "__firstlineno__", None)  # Python 3.13+
    if line is None:
        import inspect

        try:
            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            line = None
    if not filename:
        return ""
    return f" ({display(filename)}:{line})" if line else f" ({display(filename)})"


def _step(holder: Any, child: Any, modules: dict[int, str]) -> Link:
    kind = type(holder).__name__
    if isinstance(holder, dict):
        return _dict_step(holder, child, kind, id(holder) in modules)
    if isinstance(holder, list | tuple):
        index = next((i for i, value in enumerate(holder) if value is child), None)
        return Link("[?]" if index is None else f"[{index}]", kind)
    if isinstance(holder, set | frozenset):
        return Link("[*]", kind)
    if isinstance(holder, types.CellType):
        return Link("", "cell")
    if isinstance(holder, type):
        name = next((n for n, value in vars(holder).items() if value is child), None)
        return Link(".?" if name is None else f".{name}", "class")
    return _attribute_step(holder, child, kind)


def _dict_step(holder: dict[Any, Any], child: Any, kind: str, is_module: bool) -> Link:
    for key, value in holder.items():
        if value is child:
            return Link(f".{key}", "module") if is_module else Link(f"[{shown_key(key)}]", kind)
        if key is child:
            return Link(f"[key {shown_key(key)}]", kind)
    return Link("[?]", kind)


def _attribute_step(holder: Any, child: Any, kind: str) -> Link:
    own = getattr(holder, "__dict__", None)
    if isinstance(own, dict):
        if own is child:
            return Link(".__dict__", kind)
        for name, value in own.items():
            if value is child:
                return Link(f".{name}", kind)
    for name in getattr(type(holder), "__slots__", ()) or ():
        if getattr(holder, name, None) is child:
            return Link(f".{name}", kind)
    return Link(f" (held by a {kind})", kind)


def _describe(chain: tuple[tuple[Any, Any], ...], root: str, modules: dict[int, str]) -> Chain:
    steps = list(chain)
    if len(steps) > 1 and isinstance(steps[0][0], type) and isinstance(steps[0][1], dict):
        # class -> its namespace dict -> value: one class attribute step.
        cls, (_, value) = steps[0][0], steps[1]
        steps = [(cls, value), *steps[2:]]
    links = tuple(_step(holder, child, modules) for holder, child in steps)
    first_holder = chain[0][0]
    if isinstance(first_holder, dict) and id(first_holder) in modules:
        start = modules[id(first_holder)]
    elif isinstance(first_holder, type):
        start = first_holder.__qualname__
    else:
        found = _closure_of(first_holder)
        start = f"<closure of {found[0].__qualname__}>.{found[1]}" if found else "<closure>"
    # An instance's __dict__ step reads better folded into the attribute that follows it.
    path = start + "".join(link.text for link in links if link.text != ".__dict__")
    return Chain(links, root, path)
