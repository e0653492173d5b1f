"""The instance tracker's construction path, driven directly (no pytest run around it).

The end-to-end behaviour is in tests/test_runtime_managers.py; these pin down the
branches of the hot path that are written for speed (bench/bench_construction.py).
"""

from __future__ import annotations

import sys
import textwrap
import tomllib
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_ssot.managers import parse_managers
from pytest_ssot.model import Finding, Phase
from pytest_ssot.paths import ProjectFiles
from pytest_ssot.runtime.hooks.phase import PhaseTracker
from pytest_ssot.runtime.instances.report import BYPASS, DUPLICATE
from pytest_ssot.runtime.instances.tracker import InstanceTracker

MODULE = "ssot_tracker_unit_app"

SOURCE = '''
class Ctx:
    def __init__(self, user_id):
        self.user_id = user_id


class BadHash:
    def __hash__(self):
        raise RuntimeError("no hash")

    def __repr__(self):
        return "BadHash()"


class Base:
    def __init__(self, user_context, label="m"):
        self.user_context = user_context
        self.label = label


class Keyed(Base):
    """No constructor of its own: the wrapper calls Base.__init__."""


class Made:
    def __init__(self, user_context):
        self.user_context = user_context


def get_made(user_context):
    return level1(user_context)


def level1(user_context):
    return level2(user_context)


def level2(user_context):
    return level3(user_context)


def level3(user_context):
    return level4(user_context)


def level4(user_context):
    return Made(user_context)


def make_keyed(user_context):
    return helper(user_context)


def helper(user_context):
    return Keyed(user_context, label="made")
'''

DECLARATIONS = f"""
[[tool.ssot.managers]]
name = "keyed"
classes = ["{MODULE}:Keyed"]
key = "user_context.user_id"

[[tool.ssot.managers]]
name = "made"
classes = ["{MODULE}:Made"]
key = "user_context.user_id"
factories = ["{MODULE}:get_made"]
allow_direct_in_tests = false
"""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[ModuleType, InstanceTracker, list[Finding]]]:
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    specs = parse_managers(tomllib.loads(DECLARATIONS), "unit.toml", DECLARATIONS)
    phases = PhaseTracker()
    phases._set(Phase("call", "test_unit.py::test_x"))
    findings: list[Finding] = []
    tracker = InstanceTracker(specs, phases, findings.append, ProjectFiles(tmp_path))
    sys.path.insert(0, str(tmp_path))
    try:
        tracker.install()
        module = __import__(MODULE)
        yield module, tracker, findings
    finally:
        tracker.uninstall()
        sys.path.remove(str(tmp_path))
        sys.modules.pop(MODULE, None)


def test_an_inherited_constructor_is_called_with_every_argument(app: Any) -> None:
    module, tracker, findings = app
    assert tracker.is_wrapped(module.Keyed)
    made = module.Keyed(module.Ctx("alice"), label="x")
    assert (made.user_context.user_id, made.label) == ("alice", "x")
    assert tracker.rule("keyed").created == 1
    assert findings == []


def test_unhashable_keys_count_together_by_their_repr(app: Any) -> None:
    module, _tracker, findings = app
    first = module.Keyed(module.Ctx(["a"]))
    other = module.Keyed(module.Ctx(["b"]))
    assert findings == []
    second = module.Keyed(module.Ctx(["a"]))
    assert [f.check for f in findings] == [DUPLICATE]
    assert "2 live instances for user_context.user_id=['a']" in findings[0].summary
    assert first is not second is not other


def test_a_key_whose_hash_raises_is_compared_by_its_repr(app: Any) -> None:
    module, _tracker, findings = app
    keep = [module.Keyed(module.Ctx(module.BadHash())) for _ in range(2)]
    assert [f.check for f in findings] == [DUPLICATE]
    assert "user_context.user_id=BadHash()" in findings[0].summary
    assert len(keep) == 2


def test_the_creation_stack_keeps_four_frames_innermost_first(app: Any) -> None:
    module, tracker, _findings = app
    tracker.keep_records("test_unit.py::test_x")
    made = module.make_keyed(module.Ctx("bob"))
    (record,) = tracker.records_for("test_unit.py::test_x")
    assert record.instance() is made
    functions = [site.function for site in record.stack()]
    # helper constructs; make_keyed calls it; this test is outside the rootdir (not shown).
    assert functions == ["helper", "make_keyed"]
    assert record.site is not None and record.site.file == f"{MODULE}.py"
    assert record.site.source() == 'return Keyed(user_context, label="made")'
    assert len(record.frames) == 8  # four (code, offset) pairs


def test_a_factory_further_out_than_the_frames_kept_is_still_found(app: Any) -> None:
    module, _tracker, findings = app
    made = module.get_made(module.Ctx("carol"))  # five frames between the factory and Made
    assert findings == []
    direct = module.level1(module.Ctx("dave"))  # the same path, without the factory
    assert [f.check for f in findings] == [BYPASS]
    assert "in level4, bypassing ssot_tracker_unit_app:get_made" in findings[0].summary
    assert made is not direct


def test_peaks_and_counts_per_key_and_class(app: Any) -> None:
    module, tracker, findings = app
    keep = [module.Keyed(module.Ctx("alice")), module.Keyed(module.Ctx("alice"))]
    module.Keyed(module.Ctx("bob"))  # collected at once
    module.Keyed(module.Ctx("bob"))  # and so is this one: never two live
    rule = tracker.rule("keyed")
    assert rule.peak == {"alice": 2, "bob": 1}
    assert rule.created == 4 and rule.created_by_class == {f"{module.__name__}:Keyed": 4}
    assert [f.check for f in findings] == [DUPLICATE]
    assert len(keep) == 2


def test_live_instances_lists_the_live_ones_with_their_keys_and_holds_none(app: Any) -> None:
    module, tracker, _ = app
    alice = module.Keyed(module.Ctx("alice"))
    bob = module.Keyed(module.Ctx("bob"))
    gone = module.Keyed(module.Ctx("carol"))
    del gone
    live = tracker.live_instances("keyed")
    assert [(entry.instance, entry.key) for entry in live] == [(alice, "alice"), (bob, "bob")]
    assert live[0].record.manager == "keyed" and live[0].record.key == "alice"
    del live
    ref = weakref.ref(bob)
    del bob
    assert ref() is None
    assert [entry.key for entry in tracker.live_instances("keyed")] == ["alice"]
    with pytest.raises(ValueError, match="no manager named 'nope'"):
        tracker.live_instances("nope")


def test_counting_follows_collection_without_scanning(app: Any) -> None:
    module, tracker, findings = app
    for _ in range(1000):
        module.Keyed(module.Ctx("alice"))  # each collected at once
    (buckets,) = [b for w, b in tracker.rule("keyed").windows.items() if w[0] == "test"]
    assert len(buckets["alice"].live) == 0  # removed by the weak reference's callback
    kept = [module.Keyed(module.Ctx("bob")) for _ in range(3)]
    assert [f.summary for f in findings] == [
        "keyed: 2 live instances for user_context.user_id='bob', at most 1 allowed",
        "keyed: 3 live instances for user_context.user_id='bob', at most 1 allowed",
    ]
    del kept[1:]
    assert len(buckets["bob"].live) == 1
    kept[0].__init__(module.Ctx("bob"))  # initialised again: not a new instance
    assert len(findings) == 2
    another = module.Keyed(module.Ctx("bob"))
    assert findings[-1].summary.startswith("keyed: 2 live instances")
    assert tracker.rule("keyed").peak == {"alice": 1, "bob": 3}
    assert another is not kept[0]
