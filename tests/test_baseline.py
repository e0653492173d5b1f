"""The migration ratchet, the JSON report, GitHub annotations and JUnit properties."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_ssot.reporting.json_report import SCHEMA_FILE
from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

jsonschema = pytest.importorskip("jsonschema")

ARGS = ("--ssot", "--ssot-only", "--ssot-baseline=.ssot-baseline.json")


def freeze(pytester: pytest.Pytester) -> dict[str, list[str]]:
    result = pytester.runpytest(*ARGS, "--ssot-baseline-update")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    data = json.loads(Path(".ssot-baseline.json").read_text())
    violations: dict[str, list[str]] = data["violations"]
    return violations


def test_update_freezes_todays_violations(pytester: pytest.Pytester, example: Path) -> None:
    violations = freeze(pytester)
    assert violations == {
        "no-legacy-websocket": [
            "import: wsapp.app -> wsapp.websocket",
            "import: wsapp.app -> wsapp.websocket.connection_handler",
            "import: wsapp.app -> wsapp.websocket.connection_manager",
            "import: wsapp.routes.admin -> wsapp.websocket.connection_manager",
            "import: wsapp.routes.chat -> wsapp.websocket.connection_handler",
            "import: wsapp.routes.health -> wsapp.websocket",
            "import: wsapp.services.notifier -> wsapp.websocket",
        ],
        "no-shims-in-app": ["import: wsapp.routes.status -> wsapp.websocket_core.manager"],
    }
    text = Path(".ssot-baseline.json").read_text()
    assert text.endswith("}\n") and '"version": 1' in text
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "contracts: 2 kept, 0 broken, 2 broken only by frozen violations",
            "  FROZEN ../../contracts/websocket.toml::no-legacy-websocket (7 violations, 7 frozen)",
            "migration progress against the baseline .ssot-baseline.json:",
            "  no-legacy-websocket * 7 * 0 * 0",
            "  total * 8 * 0 * 0",
        ]
    )


def test_new_violation_fails_marked_new(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    (example / "wsapp/routes/rooms.py").write_text(
        '"""A new route written against the old API."""\n\n'
        "from wsapp.websocket.connection_handler import connection_scope\n"
    )
    result = pytester.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Contract 'no-legacy-websocket' is BROKEN: *",
            "wsapp.routes is not allowed to import wsapp.websocket (1 chain):",
            "  NEW 1. wsapp.routes.rooms -> wsapp.websocket.connection_handler",
            "      wsapp/routes/rooms.py:3  from wsapp.websocket.connection_handler import "
            "connection_scope",
            "(7 frozen violations of this contract are in the baseline and not shown.)",
        ]
    )
    result.stdout.fnmatch_lines(["  no-legacy-websocket * 7 * 0 * 1"])
    # Only the new import is listed; the frozen chains are not.
    assert "wsapp/routes/chat.py:4" not in result.stdout.str()


def test_moving_an_import_keeps_it_frozen(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    chat = example / "wsapp/routes/chat.py"
    chat.write_text('"""Moved down by a new docstring line."""\n\n\n' + chat.read_text())
    pytester.runpytest(*ARGS).assert_outcomes(passed=4)


def test_fixed_violation_passes_and_strict_mode_demands_a_prune(
    pytester: pytest.Pytester, example: Path
) -> None:
    freeze(pytester)
    status = example / "wsapp/routes/status.py"
    status.write_text(
        status.read_text().replace(
            "from wsapp.websocket_core.manager import WebSocketManager",
            "from wsapp.websocket_core.unified_manager import WebSocketManager",
        )
    )
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "  no-shims-in-app * 0 * 1 * 0",
            "  1 baseline entries no longer occur: shrink the file with "
            "pytest --ssot --ssot-baseline-prune",
        ]
    )
    strict = pytester.runpytest(*ARGS, "--ssot-baseline-strict")
    strict.assert_outcomes(passed=3, failed=1)
    strict.stdout.fnmatch_lines(
        [
            "Contract 'no-shims-in-app' is kept apart from frozen violations, but the baseline "
            "lists violations that no longer occur (strict mode).",
            "Fixed since the baseline (remove these entries, strict mode fails until you do):",
            "    import: wsapp.routes.status -> wsapp.websocket_core.manager",
        ]
    )
    before = Path(".ssot-baseline.json").read_text()
    pytester.runpytest(*ARGS, "--ssot-baseline-prune").assert_outcomes(passed=4)
    after = json.loads(Path(".ssot-baseline.json").read_text())
    assert "no-shims-in-app" not in after["violations"]
    assert len(after["violations"]["no-legacy-websocket"]) == 7
    assert before != Path(".ssot-baseline.json").read_text()
    pytester.runpytest(*ARGS, "--ssot-baseline-strict").assert_outcomes(passed=4)


def test_prune_never_adds(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    (example / "wsapp/routes/rooms.py").write_text("import wsapp.websocket\n")
    result = pytester.runpytest(*ARGS, "--ssot-baseline-prune")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = json.loads(Path(".ssot-baseline.json").read_text())
    assert (
        "import: wsapp.routes.rooms -> wsapp.websocket"
        not in data["violations"]["no-legacy-websocket"]
    )


def test_no_growth_refuses_to_add(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    before = Path(".ssot-baseline.json").read_text()
    (example / "wsapp/routes/rooms.py").write_text("import wsapp.websocket\n")
    result = pytester.runpytest(
        *ARGS, "--ssot-baseline-update", "-o", "ssot_baseline_no_growth=true"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "  REFUSED to add 1 new violation(s) of 'no-legacy-websocket' to the baseline "
            "(ssot_baseline_no_growth = true): fix them instead",
            "    import: wsapp.routes.rooms -> wsapp.websocket",
        ]
    )
    assert Path(".ssot-baseline.json").read_text() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON (line 1, column 2: *"),
        ('{"format": "pytest-ssot-baseline", "version": 99, "violations": {}}', "has version 99*"),
        ('{"format": "pytest-ssot-baseline", "version": true}', "has version True*"),
        ('{"format": "pytest-ssot-baseline", "version": 1.0}', "has version 1.0*"),
        ('{"format": "something-else", "version": 1}', "is not a pytest-ssot baseline*"),
        (
            '{"format": "pytest-ssot-baseline", "version": 1, "violations": {"x": [1]}}',
            "has a malformed entry for 'x'*",
        ),
    ],
)
def test_broken_baseline_is_a_clear_error_and_stays_untouched(
    pytester: pytest.Pytester, example: Path, content: str, message: str
) -> None:
    Path(".ssot-baseline.json").write_text(content)
    for extra in ((), ("--ssot-baseline-update",)):
        result = pytester.runpytest(*ARGS, *extra)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*pytest-ssot: baseline .ssot-baseline.json {message}"])
        assert Path(".ssot-baseline.json").read_text() == content


def test_baseline_never_hides_another_contracts_violation(
    pytester: pytest.Pytester, example: Path
) -> None:
    Path(".ssot-baseline.json").write_text(
        json.dumps(
            {
                "format": "pytest-ssot-baseline",
                "version": 1,
                "violations": {
                    "app-layers": ["import: wsapp.routes.status -> wsapp.websocket_core.manager"]
                },
            }
        )
    )
    result = pytester.runpytest(*ARGS, "-k", "no-shims-in-app")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(["  NEW 1. wsapp.routes.status -> wsapp.websocket_core.manager"])


def test_orphaned_entries_are_reported_and_dropped(
    pytester: pytest.Pytester, example: Path
) -> None:
    freeze(pytester)
    data = json.loads(Path(".ssot-baseline.json").read_text())
    data["violations"]["renamed-contract"] = ["import: a -> b"]
    Path(".ssot-baseline.json").write_text(json.dumps(data))
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "  the baseline lists 1 violation(s) of contract 'renamed-contract', which no longer "
            "exists (renamed or deleted); --ssot-baseline-prune drops them"
        ]
    )
    assert pytester.runpytest(*ARGS, "--ssot-baseline-strict").ret == pytest.ExitCode.TESTS_FAILED
    pytester.runpytest(*ARGS, "--ssot-baseline-prune").assert_outcomes(passed=4)
    assert (
        "renamed-contract" not in json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    )


def test_deselected_contracts_keep_their_entries_on_update(
    pytester: pytest.Pytester, example: Path
) -> None:
    before = freeze(pytester)
    pytester.runpytest(*ARGS, "--ssot-baseline-update", "-k", "app-layers")
    assert json.loads(Path(".ssot-baseline.json").read_text())["violations"] == before


def test_update_needs_a_baseline_path(pytester: pytest.Pytester, example: Path) -> None:
    result = pytester.runpytest("--ssot", "--ssot-baseline-update")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*need a baseline file: set the ini key 'ssot_baseline'*"])


def test_json_report_matches_its_schema(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    (example / "wsapp/routes/rooms.py").write_text("import wsapp.websocket\n")
    result = pytester.runpytest(*ARGS, "--ssot-report=report.json")
    result.stdout.fnmatch_lines(["report written to report.json"])
    report = json.loads(Path("report.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    assert report["summary"] == {
        "contracts": 4,
        "kept": 2,
        "broken": 2,
        "error": 0,
        "passed": 3,
        "violations": 9,
        "new": 1,
        "frozen": 8,
        "fixed": 0,
        "runtime_findings": report["summary"]["runtime_findings"],
    }
    legacy = next(c for c in report["contracts"] if c["id"] == "no-legacy-websocket")
    assert legacy["passed"] is False
    assert legacy["source"] == "../../contracts/websocket.toml" and legacy["line"] == 13
    new = [v for v in legacy["violations"] if v["status"] == "new"]
    assert new == [
        {
            "fingerprint": "import: wsapp.routes.rooms -> wsapp.websocket",
            "kind": "import",
            "status": "new",
            "importer": "wsapp.routes.rooms",
            "imported": "wsapp.websocket",
            "heading": "wsapp.routes is not allowed to import wsapp.websocket",
            "message": "",
            "file": "wsapp/routes/rooms.py",
            "line": 1,
            # The bare module import uses no name of it: --ssot-fix cannot move anything.
            "fix": {
                "fixable": False,
                "importer": "wsapp.routes.rooms",
                "module": "wsapp.websocket",
                "file": "wsapp/routes/rooms.py",
                "statements": [
                    {
                        "line": 1,
                        "old": "import wsapp.websocket",
                        "new": [],
                        "problems": ["no name is used through wsapp.websocket: nothing to move"],
                    }
                ],
                "reason": None,
            },
            "chain": [
                {
                    "importer": "wsapp.routes.rooms",
                    "imported": "wsapp.websocket",
                    "file": "wsapp/routes/rooms.py",
                    "line_numbers": [1],
                }
            ],
        }
    ]
    assert report["graphs"][0]["root_packages"] == ["wsapp"]
    assert report["baseline"]["path"] == ".ssot-baseline.json"


def test_report_is_written_without_a_baseline(pytester: pytest.Pytester, example: Path) -> None:
    pytester.runpytest("--ssot", "--ssot-only", "--ssot-report=out/r.json")
    report = json.loads(Path("out/r.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    assert report["baseline"] is None
    assert report["summary"]["new"] == 8


def test_github_annotations_only_on_github(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(pytester)
    (example / "wsapp/routes/rooms.py").write_text("# new\nimport wsapp.websocket\n")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    plain = pytester.runpytest(*ARGS)
    assert "::error" not in plain.stdout.str()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(example.parent.parent))
    result = pytester.runpytest(*ARGS)
    errors = [line for line in result.stdout.lines if line.startswith("::error")]
    assert errors == [
        "::error file=examples/websocket_migration/wsapp/routes/rooms.py,line=2,"
        "title=pytest-ssot%3A contract no-legacy-websocket broken (NEW)::"
        "App code does not import the legacy wsapp.websocket package: "
        "wsapp.routes.rooms -> wsapp.websocket"
        "%0AImport from wsapp.websocket_core instead: get_websocket_manager() from"
        "%0Awsapp.websocket_core.registry, ConnectionHandler is moving there too."
    ]


def test_junit_xml_has_contract_cases_with_counts(pytester: pytest.Pytester, example: Path) -> None:
    freeze(pytester)
    (example / "wsapp/routes/rooms.py").write_text("import wsapp.websocket\n")
    pytester.runpytest(*ARGS, "--junitxml=junit.xml", "-o", "junit_family=xunit1")
    root = ET.parse("junit.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    legacy = cases["no-legacy-websocket"]
    props = {p.get("name"): p.get("value") for p in legacy.iter("property")}
    assert props == {
        "ssot_status": "broken",
        "ssot_violations": "8",
        "ssot_new": "1",
        "ssot_frozen": "7",
        "ssot_fixed": "0",
    }
    failure = legacy.find("failure")
    assert failure is not None
    assert "NEW 1. wsapp.routes.rooms -> wsapp.websocket" in (failure.text or "")
    assert cases["app-layers"].find("failure") is None


def test_runtime_findings_freeze_and_survive_partial_runs(
    pytester: pytest.Pytester, example: Path
) -> None:
    full = ("--ssot", "-p", "no:randomly", "--ssot-baseline=.ssot-baseline.json")
    before = pytester.runpytest(*full)
    assert before.ret == pytest.ExitCode.TESTS_FAILED  # runtime findings fail their tests
    pytester.runpytest(*full, "--ssot-baseline-update")
    frozen = json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    assert frozen["runtime:no-legacy-websocket"] == [
        "import: tests.test_dynamic_legacy -> wsapp.websocket.connection_manager"
    ]
    assert (
        "factory-bypass: websocket-manager at wsapp/services/events.py::emit"
        in frozen["runtime:websocket-manager"]
    )
    # The test that creates duplicates on purpose is allowed, not frozen.
    assert not any("test_two_managers_on_purpose" in f for f in frozen["runtime:websocket-manager"])
    after = pytester.runpytest(*full)
    assert after.ret == pytest.ExitCode.OK, after.stdout.str()
    # A run that did not run the tests knows nothing about runtime findings: it keeps them.
    pytester.runpytest(*ARGS, "--ssot-baseline-prune")
    pruned = json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    assert pruned == frozen
    # A new dynamic import of the legacy package still fails.
    (example / "wsapp/websocket/presence.py").write_text("ONLINE = set()\n")
    (example / "tests/test_new_dynamic.py").write_text(
        "import importlib\n\n\ndef test_new():\n"
        '    importlib.import_module("wsapp.websocket.presence")\n'
    )
    result = pytester.runpytest(*full)
    result.assert_outcomes(failed=1, passed=after.parseoutcomes()["passed"])
    result.stdout.fnmatch_lines(["*tests/test_new_dynamic.py::test_new*"])


FULL = ("--ssot", "-p", "no:randomly", "--ssot-baseline=.ssot-baseline.json")
STALE = "duplicate-instance: websocket-manager key='zed' at wsapp/gone.py::old"


def add_entries(key: str, *fingerprints: str) -> None:
    path = Path(".ssot-baseline.json")
    data = json.loads(path.read_text())
    data["violations"].setdefault(key, []).extend(fingerprints)
    path.write_text(json.dumps(data))


def test_update_freezes_runtime_findings_in_one_step(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest(*FULL, "--ssot-baseline-update")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()  # nothing new fails this run
    result.stdout.fnmatch_lines(
        [
            "  runtime:websocket-manager * 0 * 0 * 4",
            "  baseline written: .ssot-baseline.json now holds 14 entries",
        ]
    )
    again = pytester.runpytest(*FULL)
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()
    again.stdout.fnmatch_lines(["  runtime:websocket-manager * 4 * 0 * 0"])


def test_stale_runtime_entries_are_counted_named_strict_and_pruned(
    pytester: pytest.Pytester, example: Path
) -> None:
    pytester.runpytest(*FULL, "--ssot-baseline-update")
    add_entries("runtime:websocket-manager", STALE)
    result = pytester.runpytest(*FULL)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "  runtime:websocket-manager * 4 * 1 * 0",
            "  total * 14 * 1 * 0",
            "  1 baseline entries no longer occur: shrink the file with "
            "pytest --ssot --ssot-baseline-prune",
            "    runtime:websocket-manager:",
            f"      {STALE}",
        ]
    )
    strict = pytester.runpytest(*FULL, "--ssot-baseline-strict")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["FAILED pytest-ssot::baseline-strict - the baseline lists 1 *"])
    # A prune that did not run every test cannot know the entry is gone: it says so.
    partial = pytester.runpytest(*FULL, "-k", "test_managers", "--ssot-baseline-prune")
    partial.stdout.fnmatch_lines(
        [
            "  runtime:websocket-manager * 4 * ? * 0",
            "  kept 7 runtime entries as they were: not every test ran *",
            "  baseline unchanged: nothing in .ssot-baseline.json to add or drop",
        ]
    )
    assert (
        STALE
        in json.loads(Path(".ssot-baseline.json").read_text())["violations"][
            "runtime:websocket-manager"
        ]
    )
    pruned = pytester.runpytest(*FULL, "--ssot-baseline-prune")
    assert pruned.ret == pytest.ExitCode.OK
    pruned.stdout.fnmatch_lines(
        [
            "  dropped 1 entries that no longer occur:",
            "    runtime:websocket-manager:",
            f"      {STALE}",
            "  baseline written: .ssot-baseline.json now holds 14 entries",
        ]
    )
    assert "no longer occur: shrink" not in pruned.stdout.str()
    frozen = json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    assert STALE not in frozen["runtime:websocket-manager"]


def test_fixed_entries_are_named_by_contract_and_capped_like_chains(
    pytester: pytest.Pytester, example: Path
) -> None:
    freeze(pytester)
    gone = [f"import: wsapp.gone{i} -> wsapp.websocket" for i in range(3)]
    add_entries("no-legacy-websocket", *gone)
    result = pytester.runpytest(*ARGS, "-o", "ssot_max_chains=2")
    result.stdout.fnmatch_lines(
        [
            "  3 baseline entries no longer occur: shrink the file with *",
            "    no-legacy-websocket:",
            f"      {gone[0]}",
            f"      {gone[1]}",
            "      ... and 1 more (-v lists all)",
        ]
    )
    verbose = pytester.runpytest(*ARGS, "-o", "ssot_max_chains=2", "-v")
    verbose.stdout.fnmatch_lines([f"      {gone[2]}"])
    assert "more (-v lists all)" not in verbose.stdout.str()


def test_no_growth_without_a_file_refuses_and_writes_nothing(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest(
        *ARGS, "--ssot-baseline-update", "-o", "ssot_baseline_no_growth=true"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["  REFUSED to add *", "  nothing written: .ssot-baseline.json is left as it was"]
    )
    assert "baseline written" not in result.stdout.str()
    assert not Path(".ssot-baseline.json").exists()


CRASH = """
import os


def pytest_runtest_teardown(item):
    if os.environ.get("SSOT_CRASH") and item.name == "test_event_for_a_connected_user":
        os._exit(3)
"""


def test_a_crashed_xdist_worker_never_empties_the_baseline(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.runpytest(*FULL, "--ssot-baseline-update")
    before = json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    (example / "tests/conftest.py").write_text(CRASH)
    monkeypatch.setenv("SSOT_CRASH", "1")
    result = pytester.runpytest(*FULL, "-n", "2", "--ssot-baseline-update")
    assert "worker" in result.stdout.str() and "crashed" in result.stdout.str()
    after = json.loads(Path(".ssot-baseline.json").read_text())["violations"]
    assert after["runtime:websocket-manager"] == before["runtime:websocket-manager"]
    assert after == before
    result.stdout.fnmatch_lines(["  kept 6 runtime entries as they were: a pytest-xdist worker*"])


def test_reports_show_frozen_allowed_and_failing_runtime_findings_apart(
    pytester: pytest.Pytester, example: Path
) -> None:
    pytester.runpytest(*FULL, "--ssot-baseline-update")
    outputs = ("--ssot-report=r.json", "--ssot-html=r.html")
    result = pytester.runpytest(*FULL, *outputs)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    report = json.loads(Path("r.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    statuses = {(f["check"], f["status"]) for f in report["runtime"]}
    assert ("dynamic-import", "frozen") in statuses  # frozen dynamic imports are listed
    assert ("duplicate-instance", "frozen") in statuses
    assert ("duplicate-instance", "allowed") in statuses
    assert not any(f["status"] == "failing" for f in report["runtime"])
    allowed = [f for f in report["runtime"] if f["status"] == "allowed"]
    assert all(f["allowed"] and "test_two_managers_on_purpose" in f["nodeid"] for f in allowed)
    page = Path("r.html").read_text()
    assert 'data-status="frozen"' in page and 'data-status="allowed"' in page
    assert 'data-status="failing"' not in page and 'class="badge b-failing"' not in page
    # A new finding is failing, in both reports.
    (example / "wsapp/websocket/presence.py").write_text("ONLINE = set()\n")
    (example / "tests/test_new_dynamic.py").write_text(
        "import importlib\n\n\ndef test_new():\n"
        '    importlib.import_module("wsapp.websocket.presence")\n'
    )
    pytester.runpytest(*FULL, *outputs)
    report = json.loads(Path("r.json").read_text())
    failing = [f for f in report["runtime"] if f["status"] == "failing"]
    assert [f["nodeid"] for f in failing] == ["tests/test_new_dynamic.py::test_new"]
    assert Path("r.html").read_text().count('data-status="failing"') == 1


def _tied_chains_project(write: WriteFiles) -> None:
    """Six core modules each import six mid modules, each importing six legacy ones:
    every core module reaches every legacy one by many equally short chains."""
    files = {
        "app/__init__.py": "",
        "app/core/__init__.py": "",
        "app/mid/__init__.py": "",
        "app/legacy/__init__.py": "",
        "pyproject.toml": """
            [tool.pytest.ini_options]
            pythonpath = ["."]

            [tool.importlinter]
            root_packages = ["app"]

            [[tool.importlinter.contracts]]
            id = "no-legacy"
            name = "core does not reach legacy"
            type = "forbidden"
            source_modules = ["app.core"]
            forbidden_modules = ["app.legacy"]
        """,
    }
    for i in range(6):
        files[f"app/core/c{i}.py"] = "".join(f"import app.mid.m{j}\n" for j in range(6))
        files[f"app/mid/m{i}.py"] = "".join(f"import app.legacy.l{j}\n" for j in range(6))
        files[f"app/legacy/l{i}.py"] = ""
    write(files)


def test_tied_chains_are_the_same_in_every_process(
    pytester: pytest.Pytester, write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """grimp returns one of several equally short chains depending on the order it built
    its graph in, which changes with the hash seed and its scan's threads: a frozen
    baseline then saw "new" violations that were ties. Each run here is a fresh process
    with another hash seed; all must report, and freeze, the same chains."""
    _tied_chains_project(write)
    reports = []
    for seed in ("1", "2", "3", "4", "5"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        result = pytester.runpytest_subprocess(
            "--ssot", "--ssot-only", "-p", "no:cacheprovider", f"--ssot-report=r{seed}.json"
        )
        assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
        (contract,) = json.loads(Path(f"r{seed}.json").read_text())["contracts"]
        reports.append(
            sorted(
                (v["fingerprint"], tuple((h["importer"], h["imported"]) for h in v["chain"]))
                for v in contract["violations"]
            )
        )
    assert reports[0], "the contract must be broken by chains"
    assert all(report == reports[0] for report in reports[1:])
