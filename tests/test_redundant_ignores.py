"""ignore_imports entries that still match imports but no longer change anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WriteFiles
from tests.sarif_check import read_sarif

pytestmark = pytest.mark.library_surface

IGNORES = [
    "pkg.a -> pkg.legacy",  # needed: a imports legacy directly
    "pkg.c -> pkg.legacy",  # written for b -> c -> legacy; b no longer imports c
    "pkg.s -> pkg.x",  # these two cut the same chain s -> x -> legacy:
    "pkg.x -> pkg.legacy",  # one of them may go, not both
]


def project(write: WriteFiles, ignores: list[str], extra: str = "") -> Path:
    listed = ", ".join(f'"{i}"' for i in ignores)
    return write(
        {
            "pyproject.toml": f"""
            [tool.pytest.ini_options]
            pythonpath = ["."]
            {extra}
            [tool.importlinter]
            root_package = "pkg"
            [[tool.importlinter.contracts]]
            id = "no-legacy"
            name = "App modules do not import pkg.legacy"
            type = "forbidden"
            source_modules = ["pkg.a", "pkg.b", "pkg.s"]
            forbidden_modules = ["pkg.legacy"]
            ignore_imports = [{listed}]
            """,
            "pkg/__init__.py": "",
            "pkg/legacy.py": "",
            "pkg/a.py": "import pkg.legacy\n",
            "pkg/b.py": "# used to import pkg.c\n",
            "pkg/c.py": "import pkg.legacy\n",
            "pkg/s.py": "import pkg.x\n",
            "pkg/x.py": "import pkg.legacy\n",
        }
    )


# The suite runs with filterwarnings = error; the inner runs show our warnings instead.
SHOW = ("-W", "always::pytest_ssot.items.PytestSsotWarning")


def warned(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stdout.lines if "no longer matters" in line]


def test_redundant_ignore_next_to_needed_ones_warns(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, IGNORES)
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    lines = warned(result)
    assert any("'pkg.c -> pkg.legacy' no longer matters" in line for line in lines), lines
    assert any("'pkg.s -> pkg.x' no longer matters" in line for line in lines), lines
    assert not any("'pkg.a -> pkg.legacy'" in line for line in lines), lines
    # Of two entries that cut the same chain, only one is reported.
    assert not any("'pkg.x -> pkg.legacy'" in line for line in lines), lines
    assert "removing it adds no violation (it ignores pkg.c -> pkg.legacy)" in "\n".join(lines)


def test_error_mode_fails_and_the_reported_entries_can_go_together(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, IGNORES, 'ssot_redundant_ignores = "error"')
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*Contract 'no-legacy' (pyproject.toml:*) ignores imports it no longer needs to "
            "(ssot_redundant_ignores = error):",
            "*'pkg.c -> pkg.legacy' no longer matters*",
            "*'pkg.s -> pkg.x' no longer matters*",
            "Remove these entries from ignore_imports*",
        ]
    )
    # Removing exactly what was reported keeps the contract kept and reports nothing more.
    project(
        write, ["pkg.a -> pkg.legacy", "pkg.x -> pkg.legacy"], 'ssot_redundant_ignores = "error"'
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert not warned(result)
    # ... and removing one more entry breaks it: the remaining ones are needed.
    project(write, ["pkg.a -> pkg.legacy"])
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*pkg.s -> pkg.x -> pkg.legacy*"])


def test_shadowed_entry(pytester: pytest.Pytester, write: WriteFiles) -> None:
    project(write, ["pkg.a -> pkg.legacy", "pkg.a -> pkg.*", "pkg.x -> pkg.legacy"])
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    lines = warned(result)
    assert len(lines) == 1, lines
    assert (
        "'pkg.a -> pkg.*' no longer matters: every import it matches is also ignored by "
        "'pkg.a -> pkg.legacy'; remove it"
    ) in lines[0]


def test_off_and_per_contract(pytester: pytest.Pytester, write: WriteFiles) -> None:
    project(write, IGNORES, 'ssot_redundant_ignores = "off"')
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.OK and not warned(result)
    project(
        write,
        IGNORES,
        'ssot_redundant_ignores = "off"\n'
        'ssot_redundant_ignores_per_contract = ["no-legacy: error"]',
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", *SHOW)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    project(write, IGNORES, 'ssot_redundant_ignores = "loud"')
    result = pytester.runpytest("--ssot", "--ssot-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot_redundant_ignores must be warn, error or off*"])
    project(write, IGNORES, 'ssot_redundant_ignores_per_contract = ["nope: error"]')
    result = pytester.runpytest("--ssot", "--ssot-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot_redundant_ignores_per_contract names unknown*nope*"])


def test_reused_results_and_the_json_report_keep_them(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    project(write, IGNORES)
    first = pytester.runpytest("--ssot", "--ssot-only", "--ssot-report=r.json", *SHOW)
    second = pytester.runpytest(
        "--ssot", "--ssot-only", "--ssot-report=r.json", "--ssot-sarif=s.sarif", *SHOW
    )
    assert "reused" in second.stdout.str() or "cached" in second.stdout.str()
    assert warned(first) == warned(second) and len(warned(second)) == 2
    report = json.loads(Path("r.json").read_text())
    contract = report["contracts"][0]
    assert contract["redundant_ignores"] == [
        {
            "expression": "pkg.c -> pkg.legacy",
            "reason": "no-effect",
            "imports": ["pkg.c -> pkg.legacy"],
            "shadowed_by": [],
        },
        {
            "expression": "pkg.s -> pkg.x",
            "reason": "no-effect",
            "imports": ["pkg.s -> pkg.x"],
            "shadowed_by": [],
        },
    ]
    log = read_sarif("s.sarif")
    flagged = {r["properties"]["fingerprint"]: r for r in log["runs"][0]["results"]}
    assert set(flagged) == {
        "redundant-ignore: pkg.c -> pkg.legacy",
        "redundant-ignore: pkg.s -> pkg.x",
    }
    entry = flagged["redundant-ignore: pkg.s -> pkg.x"]
    assert entry["level"] == "warning" and entry["ruleId"] == "no-legacy"
    place = entry["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "pyproject.toml"
    jsonschema = pytest.importorskip("jsonschema")
    from pytest_ssot.reporting.json_report import SCHEMA_FILE

    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))


def test_search_fingerprints_are_the_violations_fingerprints() -> None:
    """The search reads fingerprints from the chains' ends only: the same set as the
    violations the contract's item reports (else an entry could be misjudged)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pytest_ssot.adapter import _fingerprints_of, read_violations

    module = st.sampled_from(["a", "a.b", "c", "d.e", "f"])
    link = st.fixed_dictionaries(
        {"importer": module, "imported": module, "line_numbers": st.lists(st.integers(-1, 9))}
    )
    links = st.lists(link, min_size=1, max_size=4)
    route = st.fixed_dictionaries(
        {"chain": links},
        optional={"extra_firsts": st.lists(link, max_size=2), "extra_lasts": st.lists(link)},
    )
    group = st.fixed_dictionaries(
        {
            "upstream_module": module,
            "downstream_module": module,
            "chains": st.lists(links | route, max_size=3),
        }
    )
    dependency = st.fixed_dictionaries(
        {"importer": module, "imported": module, "routes": st.lists(route, max_size=3)}
    )
    metadata = st.fixed_dictionaries({"invalid_chains": st.lists(group, max_size=3)}) | (
        st.fixed_dictionaries(
            {"invalid_dependencies": st.lists(dependency, max_size=3)},
            optional={"undeclared_modules": st.lists(module, max_size=2)},
        )
    )

    @settings(max_examples=300, deadline=None)
    @given(metadata)
    def same(found: dict[str, object]) -> None:
        expected = {v.fingerprint for v in read_violations(found)}
        assert set(_fingerprints_of(None, found)) == expected

    same()


def test_a_search_out_of_time_says_what_it_did_not_check(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    """ssot_redundant_ignores_budget bounds the search; what it did not try is named, never
    dropped, and what it did report is still right."""
    # A budget that runs out at once: only the first trial (all entries back together) runs,
    # which breaks the contract (pkg.a -> pkg.legacy is needed), so every entry is left.
    project(write, IGNORES, 'ssot_redundant_ignores_budget = "1e-9"')
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-report=r.json", *SHOW)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert not warned(result)
    result.stdout.fnmatch_lines(
        [
            "*contract 'no-legacy': the search for ignore_imports entries that no longer "
            "matter stopped after 1e-09 s (ssot_redundant_ignores_budget); 4 entries were not "
            "checked: 'pkg.a -> pkg.legacy', 'pkg.c -> pkg.legacy', 'pkg.s -> pkg.x', "
            "'pkg.x -> pkg.legacy'. Raise the budget (0: no limit)*"
        ]
    )
    contract = json.loads(Path("r.json").read_text())["contracts"][0]
    assert contract["redundant_ignores"] == []
    assert contract["redundant_ignores_unchecked"] == sorted(IGNORES)
    jsonschema = pytest.importorskip("jsonschema")
    from pytest_ssot.reporting.json_report import SCHEMA_FILE

    jsonschema.validate(json.loads(Path("r.json").read_text()), json.loads(SCHEMA_FILE.read_text()))

    # Raising the budget (0: no limit) searches again, although nothing else changed.
    project(write, IGNORES, 'ssot_redundant_ignores_budget = "0"')
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-report=r.json", *SHOW)
    lines = warned(result)
    assert len(lines) == 2 and "stopped after" not in result.stdout.str(), lines
    contract = json.loads(Path("r.json").read_text())["contracts"][0]
    assert [r["expression"] for r in contract["redundant_ignores"]] == [
        "pkg.c -> pkg.legacy",
        "pkg.s -> pkg.x",
    ]
    assert contract["redundant_ignores_unchecked"] == []

    project(write, IGNORES, 'ssot_redundant_ignores_budget = "soon"')
    result = pytester.runpytest("--ssot", "--ssot-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot_redundant_ignores_budget must be a number of seconds*"])


def test_budget_cut_keeps_every_reported_entry_right(tmp_path: Path) -> None:
    """Whatever the budget, an entry reported is one the unbounded search reports too, and
    every entry is reported, needed or unchecked (checked on a small graph, many budgets)."""
    from pytest_ssot import adapter
    from pytest_ssot.model import ContractSpec, GraphKey, SessionOptions

    files = {
        "pkg/__init__.py": "",
        "pkg/legacy.py": "",
        "pkg/a.py": "import pkg.legacy\n",
        "pkg/b.py": "",
        "pkg/c.py": "import pkg.legacy\n",
        "pkg/d.py": "import pkg.c\n",
        "pkg/s.py": "import pkg.x\n",
        "pkg/x.py": "import pkg.legacy\n",
        "pkg/y.py": "import pkg.legacy\n",
    }
    root = tmp_path
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    ignores = [*IGNORES, "pkg.d -> pkg.c", "pkg.y -> pkg.legacy"]
    session = SessionOptions(raw={"root_packages": ["pkg"]}, root_packages=("pkg",))
    spec = ContractSpec(
        id="no-legacy",
        name="no legacy",
        type="forbidden",
        options={
            "source_modules": ["pkg.a", "pkg.b", "pkg.s", "pkg.d"],
            "forbidden_modules": ["pkg.legacy"],
            "ignore_imports": ignores,
        },
        source_path=root / "c.toml",
        source_display="c.toml",
        line=1,
        session=session,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        graph = adapter.build_graph(GraphKey(("pkg",)), None)
        contract = adapter.instantiate(spec)
        raw = adapter.check(contract, graph)
        full, none_left = adapter.find_redundant_ignores(spec, contract, graph, raw)
        assert not none_left
        found_all = {r.expression for r in full}
        assert found_all  # the project has entries that no longer matter, and needed ones
        assert found_all != set(ignores)
        ticks = iter(range(10_000))
        patch.setattr(adapter, "_clock", lambda: next(ticks))  # one tick per look at it
        partial = 0
        for budget in range(12):
            found, unchecked = adapter.find_redundant_ignores(
                spec, contract, graph, raw, budget_s=budget
            )
            names = {r.expression for r in found}
            assert names <= found_all, budget  # nothing reported that should not be
            assert found_all - names <= set(unchecked), budget  # nothing lost silently
            assert not names & set(unchecked), budget
            partial += bool(names and unchecked)
        assert partial  # some budgets cut the search half-way
