"""Generated baselines and history files, fed to real runs: never a crash, never damage.

Whatever the files hold, a run ends with a clear message and a meaningful exit
code: never an INTERNALERROR, never a traceback; a baseline that cannot be used
is a usage error and stays as it was; a history file keeps every line it had.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import WriteFiles
from tests.test_files_we_write import ARGS, BASELINE, PROJECT

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FINGERPRINTS = ["import: pkg.a -> pkg.b", "import: pkg.b -> pkg.c", "import: x -> y"]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(FINGERPRINTS),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
versions = st.one_of(st.just(1), st.just(True), st.just(1.0), st.just("1"), st.just(2), json_leaf)
keys = st.sampled_from(["a", "b", "runtime:a", "gone", ""])


@st.composite
def baselines(draw: st.DrawFn) -> str:
    """Baseline texts from valid to hostile."""
    kind = draw(st.sampled_from(["valid", "near", "any", "text", "deep"]))
    if kind == "text":
        return draw(st.text(max_size=40))
    if kind == "deep":
        depth = draw(st.integers(50, 5_000))
        return '{"format": "pytest-ssot-baseline", "version": 1, "violations": ' + (
            "[" * depth + "]" * depth + "}"
        )
    if kind == "any":
        return json.dumps(draw(json_value))
    violations: Any = draw(
        st.dictionaries(keys, st.lists(st.sampled_from(FINGERPRINTS), max_size=3), max_size=4)
    )
    data: dict[str, Any] = {
        "format": "pytest-ssot-baseline",
        "version": 1,
        "violations": violations,
    }
    if kind == "near":
        field = draw(st.sampled_from(["format", "version", "violations"]))
        data[field] = draw(versions if field == "version" else json_value)
    return json.dumps(data)


def record(draw: st.DrawFn, version: Any) -> dict[str, Any]:
    counts = st.one_of(st.integers(0, 9), json_leaf)
    return {
        "format": "pytest-ssot-history",
        "version": version,
        "created": draw(st.one_of(st.just("2026-01-01T00:00:00+00:00"), json_leaf)),
        "totals": draw(st.dictionaries(st.sampled_from(["violations", "new"]), counts)),
        "contracts": draw(
            st.dictionaries(
                st.sampled_from(["a", "b"]),
                st.one_of(st.dictionaries(st.sampled_from(["violations", "new"]), counts), counts),
                max_size=2,
            )
        ),
    }


@st.composite
def history_lines(draw: st.DrawFn) -> list[str]:
    """History files: our records, newer ones, odd ones and junk; at least one record of ours."""
    line = st.one_of(
        st.builds(json.dumps, st.builds(dict)),
        st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zl", "Zp", "Cc"]), max_size=30),
        json_value.map(json.dumps),
        st.just("[" * 3000 + "]" * 3000),
    )
    lines = draw(st.lists(line, max_size=4))
    ours = json.dumps(record(draw, draw(versions)))
    lines.insert(draw(st.integers(0, len(lines))), ours)
    return [text for text in lines if text.strip() and "\r" not in text and "\n" not in text]


def checked(result: pytest.RunResult) -> str:
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text, text
    assert "Traceback" not in text, text
    assert "RecursionError" not in text, text
    return text


@EXAMPLES
@given(content=baselines(), update=st.booleans())
def test_generated_baselines_never_crash_and_stay_untouched_when_refused(
    pytester: pytest.Pytester, write: WriteFiles, content: str, update: bool
) -> None:
    root = write(PROJECT)
    path = root / ".ssot-baseline.json"
    # Bytes, not text: read_text would turn a lone "\r" into "\n" and hide a change.
    path.write_bytes(content.encode("utf-8"))
    extra = ("--ssot-baseline-update",) if update else ()
    result = pytester.runpytest(*ARGS, BASELINE, *extra)
    text = checked(result)
    if result.ret == pytest.ExitCode.USAGE_ERROR:
        assert "pytest-ssot: " in text and ".ssot-baseline.json" in text
        assert path.read_bytes() == content.encode("utf-8")
        return
    # The file was usable: contracts a and b were checked, and either freeze them or fail.
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), text
    frozen = json.loads(path.read_text(encoding="utf-8"))["violations"]
    both = "import: pkg.a -> pkg.b" in frozen.get("a", [])
    both = both and "import: pkg.b -> pkg.c" in frozen.get("b", [])
    assert (result.ret == pytest.ExitCode.OK) == (update or both), text


@EXAMPLES
@given(lines=history_lines())
def test_generated_history_files_never_crash_and_keep_their_lines(
    pytester: pytest.Pytester, write: WriteFiles, lines: list[str]
) -> None:
    root = write(PROJECT)
    path = root / ".ssot-history.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = pytester.runpytest(
        *ARGS, "-o", "ssot_history=.ssot-history.jsonl", "--ssot-html=ssot.html"
    )
    checked(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a and b are broken
    after = path.read_text(encoding="utf-8").splitlines()
    assert after[:-1] == lines  # every line kept, in order
    assert json.loads(after[-1])["totals"]["broken"] == 2
    assert Path(root / "ssot.html").is_file()
