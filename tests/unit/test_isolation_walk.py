"""The shared-state walk and its helpers, without pytest runs."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import pytest

from pytest_ssot.managers import shared_ok_problem
from pytest_ssot.runtime.isolation.kinds import CONTAINER, OBJECT, SKIP, TRANSPARENT, Kinds
from pytest_ssot.runtime.isolation.report import SharedOk
from pytest_ssot.runtime.isolation.walk import MAX_ITEMS, Walker

HERE = __file__


@dataclass(frozen=True)
class Frozen:
    items: list[int]


@dataclass
class Thawed:
    items: list[int]


class Box:
    def __init__(self, value: object) -> None:
        self.value = value


def kinds() -> Kinds:
    return Kinds(lambda filename: filename == HERE)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("text", SKIP),
        (3, SKIP),
        (threading.Lock(), SKIP),
        (threading.Event(), SKIP),
        (len, SKIP),
        (Box, SKIP),
        ((1, 2), TRANSPARENT),
        (Frozen([]), TRANSPARENT),
        ({}, CONTAINER),
        (collections.defaultdict(list), CONTAINER),
        (collections.OrderedDict(), CONTAINER),
        (collections.deque(), CONTAINER),
        (bytearray(), CONTAINER),
        (Thawed([]), OBJECT),
        (Box(1), OBJECT),
        (pytest.Pytester, SKIP),
    ],
)
def test_kinds(value: object, kind: int) -> None:
    assert kinds().of(type(value)) == kind


def shared_paths(instances: list[tuple[object, str]], depth: int = 2) -> set[tuple[str, ...]]:
    walker = Walker(kinds(), depth, {id(o) for o, _ in instances})
    found = walker.shared(instances)
    return {tuple(sorted(r.path for r in s.reaches.values())) for s in found}


def test_shared_inside_a_tuple_and_a_frozen_dataclass_is_found() -> None:
    queue: list[int] = []
    a, b = Box((queue,)), Box(Frozen(queue))
    assert shared_paths([(a, "alice"), (b, "bob")]) == {(".value.items", ".value[0]")}


def test_same_key_and_immutables_are_not_reported() -> None:
    queue: list[int] = []
    assert shared_paths([(Box(queue), "alice"), (Box(queue), "alice")]) == set()
    assert shared_paths([(Box("x"), "alice"), (Box("x"), "bob")]) == set()


def test_depth_bounds_the_walk() -> None:
    inner: dict[str, int] = {}
    a, b = Box(Box(inner)), Box(Box(inner))
    assert shared_paths([(a, "a"), (b, "b")], depth=1) == set()
    assert shared_paths([(a, "a"), (b, "b")], depth=2) == {(".value.value", ".value.value")}


def test_container_items_beyond_the_bound_are_not_followed() -> None:
    inner: list[int] = []
    big_a: list[list[int]] = [[] for _ in range(MAX_ITEMS)] + [inner]
    big_b = [inner]
    assert shared_paths([(Box(big_a), "a"), (Box(big_b), "b")]) == set()


def test_cycles_end() -> None:
    a, b = Box(None), Box(None)
    a.value, b.value = b, a  # each reaches the other: roots are skipped, nothing shared
    assert shared_paths([(a, "a"), (b, "b")]) == set()


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("._registry", "._registry", True),
        ("._registry", "._registry._queues", True),
        ("._registry", "._registry['x']", True),
        ("._registry", "._registry_old", False),
        ("._*._queues", "._registry._queues", True),
        ("._*._queues", "._registry._other", False),
        (".a[*]", ".a['k']", True),
    ],
)
def test_shared_ok_patterns(pattern: str, path: str, matches: bool) -> None:
    assert (SharedOk([pattern]).match(path) is not None) == matches


@pytest.mark.parametrize("pattern", ["_registry", "", ".a b", "registry._x"])
def test_shared_ok_must_be_a_path(pattern: str) -> None:
    assert shared_ok_problem(pattern)


def test_asyncio_primitives_are_not_state_and_its_queue_is() -> None:
    import asyncio

    assert kinds().of(asyncio.Lock) == SKIP
    assert kinds().of(asyncio.Event) == SKIP
    assert kinds().of(asyncio.Queue) == OBJECT
