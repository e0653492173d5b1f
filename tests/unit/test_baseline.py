"""The baseline on its own: compare, update (the ratchet), prune, orphans, the file format.

The pytester tests in tests/test_baseline.py run these through pytest; here each rule
is one call, and hypothesis checks the ratchet's promise over many states: without
``allow_growth`` an update never adds a fingerprint, and it keeps exactly what was
known and still occurs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.baseline import Baseline, BaselineError
from pytest_ssot.model import Fingerprint, Violation


def violation(importer: str, imported: str = "app.legacy", kind: str = "import") -> Violation:
    return Violation(kind=kind, importer=importer, imported=imported)


A = violation("app.a")
B = violation("app.b")
C = violation("app.c")


def baseline(**entries: set[str]) -> Baseline:
    return Baseline(path=Path("baseline.json"), entries=dict(entries), exists=True)


# -- compare ----------------------------------------------------------------------


def test_compare_splits_new_from_frozen_and_lists_what_was_fixed() -> None:
    known = baseline(layers={A.fingerprint, B.fingerprint})
    comparison = known.compare("layers", [B, C])
    assert comparison.new == (C,)
    assert comparison.frozen == (B,)
    assert comparison.fixed == (Fingerprint.parse(A.fingerprint),)


def test_compare_is_per_contract_and_ignores_line_numbers() -> None:
    known = baseline(layers={A.fingerprint})
    assert known.compare("other", [A]).new == (A,)  # another contract's entry hides nothing
    moved = Violation("import", "app.a", "app.legacy", heading="moved", line=99)
    assert known.compare("layers", [moved]).frozen == (moved,)


def test_a_violation_of_another_kind_is_new() -> None:
    known = baseline(layers={A.fingerprint})
    assert known.compare("layers", [violation("app.a", kind="cycle")]).new != ()


# -- update and prune ------------------------------------------------------------------


def test_prune_drops_fixed_entries_and_refuses_new_ones() -> None:
    """--ssot-baseline-prune is an update without growth."""
    known = baseline(layers={A.fingerprint, B.fingerprint})
    after, refused = known.updated(
        {"layers": {B.fingerprint, C.fingerprint}},
        checked=["layers"],
        known_keys=["layers"],
        allow_growth=False,
    )
    assert after.entries == {"layers": {B.fingerprint}}
    assert refused == {"layers": {C.fingerprint}}


def test_update_with_growth_freezes_todays_violations() -> None:
    after, refused = baseline().updated(
        {"layers": {A.fingerprint}}, checked=["layers"], known_keys=["layers"], allow_growth=True
    )
    assert after.entries == {"layers": {A.fingerprint}}
    assert refused == {}
    assert after.exists


def test_update_keeps_entries_of_contracts_this_run_did_not_check() -> None:
    known = baseline(layers={A.fingerprint}, independence={B.fingerprint})
    after, _ = known.updated(
        {}, checked=["independence"], known_keys=["layers", "independence"], allow_growth=False
    )
    assert after.entries == {"layers": {A.fingerprint}}


def test_update_drops_entries_of_contracts_that_no_longer_exist() -> None:
    known = baseline(layers={A.fingerprint}, renamed={B.fingerprint})
    after, _ = known.updated(
        {"layers": {A.fingerprint}}, checked=["layers"], known_keys=["layers"], allow_growth=False
    )
    assert after.entries == {"layers": {A.fingerprint}}


def test_a_partial_key_may_gain_entries_but_loses_none() -> None:
    """Runtime findings of a run that did not run every test: absence proves nothing."""
    known = baseline(**{"runtime:managers": {A.fingerprint}})
    after, refused = known.updated(
        {"runtime:managers": {B.fingerprint}},
        checked=[],
        known_keys=["runtime:managers"],
        allow_growth=True,
        partial=["runtime:managers"],
    )
    assert after.entries == {"runtime:managers": {A.fingerprint, B.fingerprint}}
    assert refused == {}


def test_an_emptied_contract_leaves_no_empty_entry() -> None:
    after, _ = baseline(layers={A.fingerprint}).updated(
        {}, checked=["layers"], known_keys=["layers"], allow_growth=False
    )
    assert after.entries == {}
    assert json.loads(after.dumps())["violations"] == {}


fingerprints = st.sets(st.sampled_from([violation(f"app.m{i}").fingerprint for i in range(6)]))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=fingerprints, now=fingerprints, growth=st.booleans())
def test_the_ratchet_keeps_what_still_occurs_and_grows_only_when_allowed(
    old: set[str], now: set[str], growth: bool
) -> None:
    after, refused = baseline(layers=old).updated(
        {"layers": now}, checked=["layers"], known_keys=["layers"], allow_growth=growth
    )
    kept = after.entries.get("layers", set())
    assert kept == (now if growth else old & now)
    assert refused.get("layers", set()) == (set() if growth else now - old)


# -- orphans ----------------------------------------------------------------------------


def test_orphans_are_non_empty_entries_of_unknown_contracts() -> None:
    known = baseline(layers={A.fingerprint}, gone={B.fingerprint}, empty=set())
    assert known.orphaned(["layers"]) == {"gone": {B.fingerprint}}
    assert known.orphaned(["layers", "gone"]) == {}


def test_size_counts_every_fingerprint() -> None:
    assert baseline(layers={A.fingerprint, B.fingerprint}, x={C.fingerprint}).size == 3


# -- the file ---------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    Baseline(path, {"layers": {B.fingerprint, A.fingerprint}, "e": set()}, True).save()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["violations"] == {"layers": sorted([A.fingerprint, B.fingerprint])}
    loaded = Baseline.load(path, "baseline.json")
    assert loaded.exists
    assert loaded.entries == {"layers": {A.fingerprint, B.fingerprint}}
    assert loaded.contains("layers", A.fingerprint)
    assert not loaded.contains("other", A.fingerprint)


def test_a_missing_file_is_an_empty_baseline(tmp_path: Path) -> None:
    missing = Baseline.load(tmp_path / "nope.json", "nope.json")
    assert (missing.exists, missing.entries) == (False, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"baseline b\.json is not valid JSON \(line 1, column 2"),
        ("[]", "is not a JSON object"),
        ('{"format": "other"}', "is not a pytest-ssot baseline"),
        ('{"format": "pytest-ssot-baseline", "version": 2}', "has version 2"),
        ('{"format": "pytest-ssot-baseline", "version": true}', "has version True"),
        ('{"format": "pytest-ssot-baseline", "version": 1}', "has no 'violations' object"),
        (
            '{"format": "pytest-ssot-baseline", "version": 1, "violations": {"x": [""]}}',
            "malformed entry for 'x'",
        ),
    ],
)
def test_a_broken_file_is_an_error_that_says_what_to_do(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError, match=message) as caught:
        Baseline.load(path, "b.json")
    assert "pytest --ssot" in str(caught.value)
    assert path.read_text(encoding="utf-8") == text  # never overwritten
