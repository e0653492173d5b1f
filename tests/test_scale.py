"""pytest-xdist and incremental checking: same answers, less work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

COUNTING_CONFTEST = """
import os

import grimp

_build = grimp.build_graph


def _counting_build(*args, **kwargs):
    with open(os.environ["SSOT_BUILD_LOG"], "a") as log:
        log.write(f"{os.getpid()}\\n")
    return _build(*args, **kwargs)


grimp.build_graph = _counting_build
"""


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what legitimately differs between two runs (times, paths)."""
    contracts = []
    for contract in report["contracts"]:
        contract = {k: v for k, v in contract.items() if k != "check_ms"}
        contracts.append(contract)
    runtime = sorted((f["check"], f["fingerprint"], f["nodeid"] or "") for f in report["runtime"])
    return {
        "summary": report["summary"],
        "contracts": sorted(contracts, key=lambda c: c["id"]),
        "graphs": [(g["root_packages"], g["modules"], g["imports"]) for g in report["graphs"]],
        "runtime": runtime,
    }


def test_xdist_gives_the_same_verdicts_counts_and_report(
    pytester: pytest.Pytester, example: Path
) -> None:
    serial = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", "--ssot-report=s.json")
    parallel = pytester.runpytest_subprocess(
        "--ssot", "-p", "no:randomly", "-n", "2", "--ssot-report=p.json"
    )
    assert serial.ret == parallel.ret == pytest.ExitCode.TESTS_FAILED

    def outcomes(result: pytest.RunResult) -> dict[str, int]:
        return {k: v for k, v in result.parseoutcomes().items() if not k.startswith("warning")}

    assert outcomes(serial) == outcomes(parallel)
    s = comparable(json.loads(Path("s.json").read_text()))
    p = comparable(json.loads(Path("p.json").read_text()))
    assert s == p
    assert s["summary"]["broken"] == 2 and s["summary"]["kept"] == 2
    parallel.stdout.fnmatch_lines(["contracts: 2 kept, 2 broken"])


def test_xdist_checks_each_graph_once(pytester: pytest.Pytester, write: WriteFiles) -> None:
    files = {"pkg/__init__.py": "", "pkg/a.py": "import pkg.b\n", "pkg/b.py": ""}
    contracts = "".join(
        f"""
[[tool.importlinter.contracts]]
id = "c{i}"
name = "contract {i}"
type = "forbidden"
source_modules = ["pkg.b"]
forbidden_modules = ["pkg.a"]
"""
        for i in range(12)
    )
    tests = {f"tests/test_{i}.py": "def test_x():\n    pass\n" for i in range(12)}
    write(
        {
            **files,
            **tests,
            "conftest.py": COUNTING_CONFTEST,
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n' + contracts,
        }
    )
    log = pytester.path / "builds.log"
    env = {"SSOT_BUILD_LOG": str(log)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        result = pytester.runpytest_subprocess("--ssot", "-n", "2", "--dist", "load")
        result.assert_outcomes(passed=24)
        assert len(log.read_text().splitlines()) == 1
        log.unlink()
        again = pytester.runpytest_subprocess("--ssot", "-n", "2", "--dist", "loadgroup")
        again.assert_outcomes(passed=24)
        assert not log.exists()  # nothing changed: no worker built a graph


def reused(result: pytest.RunResult) -> bool:
    return "results reused, nothing changed since the last run" in result.stdout.str()


@pytest.fixture
def small(write: WriteFiles) -> WriteFiles:
    write(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "",
            "pkg/legacy.py": "",
            "pyproject.toml": """
            [tool.importlinter]
            root_package = "pkg"

            [[tool.importlinter.contracts]]
            id = "no-legacy"
            name = "no legacy"
            type = "forbidden"
            source_modules = ["pkg.a", "pkg.b"]
            forbidden_modules = ["pkg.legacy"]
            """,
        }
    )
    return write


def test_nothing_changed_reuses_results(pytester: pytest.Pytester, small: WriteFiles) -> None:
    first = pytester.runpytest("--ssot", "--ssot-only")
    first.assert_outcomes(passed=1)
    assert not reused(first)
    second = pytester.runpytest("--ssot", "--ssot-only")
    second.assert_outcomes(passed=1)
    assert reused(second)


def test_edit_is_seen(pytester: pytest.Pytester, small: WriteFiles) -> None:
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(passed=1)
    (pytester.path / "pkg/b.py").write_text("# now legacy\nimport pkg.legacy\n")
    result = pytester.runpytest("--ssot", "--ssot-only")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  1. pkg.b -> pkg.legacy", "      pkg/b.py:2  import pkg.legacy"])
    assert not reused(result)


def test_added_file_is_seen(pytester: pytest.Pytester, small: WriteFiles) -> None:
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(passed=1)
    (pytester.path / "pkg/b_new.py").write_text("import pkg.legacy\n")
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(passed=1)  # not a source module
    small(
        {
            "pkg/a_sub/__init__.py": "",
            "pkg/a_sub/x.py": "import pkg.legacy\n",
        }
    )
    (pytester.path / "pyproject.toml").write_text(
        (pytester.path / "pyproject.toml")
        .read_text()
        .replace('["pkg.a", "pkg.b"]', '["pkg.a", "pkg.b", "pkg.a_sub"]')
    )
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(failed=1)


def test_deleted_file_is_seen(pytester: pytest.Pytester, small: WriteFiles) -> None:
    (pytester.path / "pkg/b.py").write_text("import pkg.legacy\n")
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(failed=1)
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(failed=1)
    (pytester.path / "pkg/b.py").unlink()
    (pytester.path / "pkg/a.py").write_text("")
    result = pytester.runpytest("--ssot", "--ssot-only")
    # pkg.b is gone, so the contract now names a module that does not exist.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.b*"])
    assert "could not be checked" in result.stdout.str()


def test_changed_contract_is_seen(pytester: pytest.Pytester, small: WriteFiles) -> None:
    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(passed=1)
    config = pytester.path / "pyproject.toml"
    config.write_text(config.read_text().replace('["pkg.legacy"]', '["pkg.b"]'))
    result = pytester.runpytest("--ssot", "--ssot-only")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  1. pkg.a -> pkg.b"])


def test_plugin_version_is_part_of_the_key(
    pytester: pytest.Pytester, small: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytest_ssot

    pytester.runpytest("--ssot", "--ssot-only").assert_outcomes(passed=1)
    assert reused(pytester.runpytest("--ssot", "--ssot-only"))
    monkeypatch.setattr(pytest_ssot, "__version__", pytest_ssot.__version__ + ".post1")
    assert not reused(pytester.runpytest("--ssot", "--ssot-only"))


def test_concurrent_runs_share_the_cache_safely(
    pytester: pytest.Pytester, small: WriteFiles
) -> None:
    (pytester.path / "pkg/b.py").write_text("import pkg.legacy\n")
    cmd = [sys.executable, "-m", "pytest", "--ssot", "--ssot-only", "-p", "no:randomly", "-q"]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=pytester.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [1, 1, 1, 1], outputs
    for out in outputs:
        assert "pkg.b -> pkg.legacy" in out
    cache = json.loads(
        next((pytester.path / ".pytest_cache/d/pytest-ssot").glob("results-*.json")).read_text()
    )
    assert [r["id"] for r in cache["results"]] == ["no-legacy"]


def test_xdist_annotations_match_the_serial_run(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    def annotations(*extra: str) -> list[str]:
        result = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", *extra)
        return sorted(line for line in result.stdout.lines if line.startswith("::error"))

    serial = annotations()
    assert serial == annotations("-n", "2")
    titles = {line.split("title=")[1].split("::")[0] for line in serial}
    assert titles == {
        "pytest-ssot%3A contract no-legacy-websocket broken (NEW)",
        "pytest-ssot%3A contract no-shims-in-app broken (NEW)",
        "pytest-ssot%3A dynamic-import (no-legacy-websocket)",
        "pytest-ssot%3A duplicate-instance (websocket-manager)",
        "pytest-ssot%3A factory-bypass (websocket-manager)",
        # tests/test_sessions.py: two users' ChatSessions share a class-level dict.
        "pytest-ssot%3A shared-state (chat-sessions)",
    }
    # The test that makes two managers on purpose (opt-out marker) is not annotated.
    assert not any("test_two_managers_on_purpose" in line for line in serial)
    # One annotation per site, naming the test that hit it.
    assert len(serial) == len(set(serial))
    assert any(
        "factory-bypass" in line and "In test: tests/test_managers.py::" in line for line in serial
    )


def test_xdist_runtime_summaries_match_the_serial_run(
    pytester: pytest.Pytester, example: Path
) -> None:
    def sections(*extra: str) -> list[str]:
        result = pytester.runpytest_subprocess("--ssot", "-p", "no:randomly", *extra)
        lines = result.stdout.lines
        start = next(i for i, line in enumerate(lines) if "pytest-ssot runtime" in line)
        end = next(i for i, line in enumerate(lines) if "short test summary" in line)
        return lines[start:end]

    serial = sections()
    assert sections("-n", "2") == serial
    assert "  created 9 (_UnifiedWebSocketManagerImplementation: 9)" in serial
    assert "runtime imports: 1 forbidden load (1 failing, 0 warned, 0 in the baseline)" in serial
