"""The referrer search behind ``must_not_outlive``: what it finds and how it is bounded."""

from __future__ import annotations

import itertools
import time

import pytest

from pytest_ssot.runtime.isolation import referrers
from pytest_ssot.runtime.isolation.referrers import lookup_budget, referrer_chain


class Held:
    pass


class Registry:
    kept: list[Held] = []


def test_finds_a_class_attribute_root() -> None:
    obj = Held()
    Registry.kept.append(obj)
    try:
        chain = referrer_chain(obj)
    finally:
        Registry.kept.clear()
    assert chain is not None
    assert chain.root.startswith(f"class {__name__}.Registry")
    assert chain.path.endswith(".kept[0]")


def test_the_answer_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded CI machine once lost this chain to a 2-second deadline; the bound is
    # work (objects scanned), so a clock that runs very fast changes nothing.
    ticks = itertools.count(step=1_000)
    monkeypatch.setattr(time, "monotonic", lambda: float(next(ticks)))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    obj = Held()
    Registry.kept.append(obj)
    try:
        chain = referrer_chain(obj)
    finally:
        Registry.kept.clear()
    assert chain is not None
    assert chain.path.endswith(".kept[0]")


def test_the_lookup_budget_shrinks_with_the_heap() -> None:
    assert lookup_budget(1_000) == referrers.MAX_LOOKUPS
    assert lookup_budget(100_000) == 200
    assert lookup_budget(1_000_000) == 20
    assert lookup_budget(10**9) == 1  # one lookup always: a direct root is still found
    assert lookup_budget(0) == referrers.MAX_LOOKUPS


def test_no_root_within_the_bounds_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(referrers, "MAX_LOOKUPS", 5)  # each lookup scans the whole heap
    obj = Held()
    holder = [obj]  # a local list: no long-lived root refers to it
    assert referrer_chain(obj, ignore=[]) is None
    del holder
