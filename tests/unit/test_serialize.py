"""The model survives the trip through JSON: the result cache and the xdist wire both rely on it.

Every field of every value is drawn, and the trip goes through ``json.dumps`` and
``json.loads`` as it does on disk and between processes: a field left out of a
``*_to_dict`` (or read back under another name, or as another type) shows here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.model import (
    ERROR,
    WARNING,
    ContractResult,
    ContractSpec,
    Finding,
    GraphKey,
    GraphStats,
    Hop,
    Phase,
    RedundantIgnore,
    SessionOptions,
    Violation,
)
from pytest_ssot.serialize import (
    finding_from_dict,
    finding_to_dict,
    result_from_dict,
    result_to_dict,
    stats_from_dict,
    stats_to_dict,
)

SPEC = ContractSpec(
    id="layers",
    name="Layers",
    type="layers",
    options={"layers": ["a", "b"]},
    source_path=Path("pyproject.toml"),
    source_display="pyproject.toml",
    line=3,
    session=SessionOptions(raw={}, root_packages=("app",)),
)

# Small alphabets and short values: what can go wrong is a field lost or retyped on the
# way, which shows with any value; unicode is in to catch an encoding step.
text = st.text(alphabet='ab é\n"\\', max_size=6)
maybe_text = st.none() | text
module = st.sampled_from(["app", "app.core", "app.legacy.api", "lib_2"])
finite = st.floats(allow_nan=False, allow_infinity=False)
small = st.integers(min_value=0, max_value=10**9)
lines = st.lists(st.integers(min_value=1, max_value=10**6), max_size=3).map(tuple)

hops = st.builds(
    Hop,
    importer=module,
    imported=module,
    line_numbers=lines,
    importer_file=maybe_text,
    via=maybe_text,
)
violations = st.builds(
    Violation,
    kind=st.sampled_from(["import", "undeclared", "cycle", "definition"]),
    importer=module,
    imported=module,
    hops=st.lists(hops, max_size=2).map(tuple),
    heading=text,
    message=text,
    file=maybe_text,
    line=st.none() | small,
)
redundant = st.builds(
    RedundantIgnore,
    expression=text,
    reason=st.sampled_from(["shadowed", "no-effect"]),
    imports=st.lists(text, max_size=3).map(tuple),
    shadowed_by=st.lists(text, max_size=3).map(tuple),
)
results = st.builds(
    ContractResult,
    spec=st.just(SPEC),
    kept=st.booleans(),
    violations=st.lists(violations, max_size=3).map(tuple),
    warnings=st.lists(text, max_size=3).map(tuple),
    ignored_import_count=small,
    check_ms=finite,
    fallback_text=text,
    error=maybe_text,
    redundant_ignores=st.lists(redundant, max_size=2).map(tuple),
)
keys = st.builds(
    GraphKey,
    root_packages=st.lists(module, min_size=1, max_size=3).map(tuple),
    include_external_packages=st.booleans(),
    exclude_type_checking_imports=st.booleans(),
)
stats = st.builds(
    GraphStats,
    key=keys,
    modules=small,
    imports=small,
    build_ms=finite,
    from_cache=st.booleans(),
    dynamic_imports=st.none() | small,
    unresolved=st.lists(text, max_size=3).map(tuple),
    changed_files=small,
    dynamic_added=st.lists(text, max_size=3).map(tuple),
)
phases = st.builds(
    Phase,
    when=st.sampled_from(["startup", "collection", "setup", "call", "teardown", "finish", "scan"]),
    nodeid=text,
    fixture=maybe_text,
    fixture_scope=st.none() | st.sampled_from(["function", "module", "session"]),
)
findings = st.builds(
    Finding,
    check=text,
    rule=text,
    summary=text,
    details=text,
    phase=phases,
    fingerprint=text,
    severity=st.sampled_from([ERROR, WARNING]),
    file=maybe_text,
    line=st.none() | small,
    frozen=st.booleans(),
)


# A field lost on the way shows in the first few examples; 50 keep the unit suite fast.
# The machine may be busy: a slow example is not a failure of the round trip.
relaxed = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def through_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


@relaxed
@given(results)
def test_a_contract_result_round_trips(result: ContractResult) -> None:
    assert result_from_dict(through_json(result_to_dict(result)), SPEC) == result


@relaxed
@given(stats)
def test_graph_stats_round_trip(graph_stats: GraphStats) -> None:
    assert stats_from_dict(through_json(stats_to_dict(graph_stats))) == graph_stats


@relaxed
@given(findings)
def test_a_runtime_finding_round_trips(finding: Finding) -> None:
    back = finding_from_dict(through_json(finding_to_dict(finding)))
    assert back == finding
    # What the xdist controller does with it: the same phase decides the same test.
    assert back.phase.in_test == finding.phase.in_test
    assert back.phase.describe() == finding.phase.describe()


def test_the_result_names_its_contract_by_id_only() -> None:
    """The receiving side owns the spec: the dict carries the id, not the options."""
    data = result_to_dict(ContractResult(spec=SPEC, kept=True))
    assert data["id"] == "layers"
    assert "options" not in json.dumps(data)


def test_results_written_before_redundant_ignores_existed_still_read() -> None:
    """A cache file from before the field: read as no redundant ignores, not a KeyError."""
    data = result_to_dict(ContractResult(spec=SPEC, kept=True))
    del data["redundant_ignores"]
    assert result_from_dict(data, SPEC).redundant_ignores == ()
