"""Which objects are state: the classification behind the shared-state walk.

Decided once per type and cached: the walk asks for every value it meets.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import logging
import queue
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

SKIP = 0
"""Not state and not followed: immutables, functions, classes, modules, locks, loggers."""
TRANSPARENT = 1
"""Not state itself, but may hold state: followed (tuples, frozensets, frozen dataclasses)."""
CONTAINER = 2
"""State: a mutable container. Its items are followed."""
OBJECT = 3
"""State: an object of a project class (or a queue). Its attributes are followed."""

_IMMUTABLE: tuple[type, ...] = (
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    type(None),
    range,
    slice,
    type(Ellipsis),
    type(NotImplemented),
    memoryview,
)
_CALLABLE: tuple[type, ...] = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ModuleType,
    types.CodeType,
    type,
    property,
    staticmethod,
    classmethod,
)
EXCLUDED: tuple[type, ...] = (
    type(threading.Lock()),
    type(threading.RLock()),
    threading.Condition,
    threading.Event,
    threading.Semaphore,
    threading.Barrier,
    logging.Logger,
    logging.LoggerAdapter,
    logging.Handler,
    logging.Filterer,
)
"""Synchronisation primitives and loggers: shared on purpose, not a user's state (asyncio's
are added when asyncio is imported: see ``_asyncio_types``; importing it costs tens of ms)."""
_CONTAINERS: tuple[type, ...] = (dict, list, set, bytearray, collections.deque)
_ASYNCIO_EXCLUDED = ("Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore")


def _asyncio_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """asyncio's (primitives, queues) if asyncio is imported; none of its objects exist before."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return (), ()
    excluded = tuple(getattr(asyncio, name) for name in _ASYNCIO_EXCLUDED if hasattr(asyncio, name))
    queue_type = getattr(asyncio, "Queue", None)
    return excluded, ((queue_type,) if isinstance(queue_type, type) else ())


class Kinds:
    """The kind of each type met (SKIP, TRANSPARENT, CONTAINER or OBJECT), cached."""

    def __init__(self, is_project_file: Callable[[str], bool]) -> None:
        self._is_project_file = is_project_file
        self.cache: dict[type, int] = {t: SKIP for t in (*_IMMUTABLE, *_CALLABLE)}
        self.cache.update({tuple: TRANSPARENT, frozenset: TRANSPARENT})
        self.cache.update({t: CONTAINER for t in _CONTAINERS})

    def of(self, cls: type) -> int:
        kind = self.cache.get(cls)
        if kind is None:
            kind = self.cache[cls] = self._classify(cls)
        return kind

    def _classify(self, cls: type) -> int:
        async_excluded, async_queues = _asyncio_types()
        if issubclass(cls, EXCLUDED + async_excluded) or issubclass(cls, _IMMUTABLE + _CALLABLE):
            return SKIP
        if issubclass(cls, enum.Enum | types.GenericAlias):
            return SKIP
        if issubclass(cls, tuple | frozenset):
            return TRANSPARENT
        if issubclass(cls, _CONTAINERS):
            return CONTAINER
        if issubclass(cls, (queue.Queue, *async_queues)):
            return OBJECT
        if not self._project_class(cls):
            return SKIP
        params = getattr(cls, "__dataclass_params__", None)
        if dataclasses.is_dataclass(cls) and getattr(params, "frozen", False):
            return TRANSPARENT
        return OBJECT

    def _project_class(self, cls: type) -> bool:
        module = sys.modules.get(cls.__module__)
        filename = getattr(module, "__file__", None)
        return isinstance(filename, str) and self._is_project_file(filename)


def slot_names(cls: type) -> tuple[str, ...]:
    """Every ``__slots__`` name of a class and its bases (without __dict__ and __weakref__)."""
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"  # name mangling
            if name not in names:
                names.append(name)
    return tuple(names)


def shown_key(key: Any) -> str:
    """A container key as a path of references shows it: its repr, cut at 40 characters."""
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."
