"""The static checker and its result cache, on a fake graph backend (tests/unit/fake_backend.py).

A sample package is written to ``tmp_path``; the fake builds its graph from the files,
so an edit changes what a build would find, and its call counts say whether a run
built a graph, re-read a file or served stored results.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from pytest_ssot.checking import StaticChecker
from pytest_ssot.model import ContractResult, ContractSpec, GraphError, SessionOptions
from tests.unit.fake_backend import FakeBackend

PACKAGE = "fakeproj"
FILES = {
    "__init__.py": "",
    "legacy.py": "",
    "util.py": "",
    "core.py": "import fakeproj.util\n",
    "routes.py": "import os\n\nimport fakeproj.legacy\n",
    "api.py": "from fakeproj import routes\n",
}
SESSION = SessionOptions(raw={"root_packages": [PACKAGE]}, root_packages=(PACKAGE,))


def spec(
    contract_id: str, source: str, type_: str = "forbidden", **options: object
) -> ContractSpec:
    return ContractSpec(
        id=contract_id,
        name=f"{source} does not use the legacy module",
        type=type_,
        options={
            "source_modules": [f"{PACKAGE}.{source}"],
            "forbidden_modules": [f"{PACKAGE}.legacy"],
            **options,
        },
        source_path=Path("pyproject.toml"),
        source_display="pyproject.toml",
        line=1,
        session=SESSION,
    )


ROUTES = spec("routes", "routes")
API = spec("api", "api")
CORE = spec("core", "core")
SPECS = (ROUTES, API, CORE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, FILES)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run(
    root: Path,
    specs: Sequence[ContractSpec] = SPECS,
    backend: FakeBackend | None = None,
    *,
    cache: bool = True,
    redundant: str = "off",
    dynamic: bool = False,
) -> tuple[StaticChecker, dict[str, ContractResult], FakeBackend]:
    """One run: a fresh checker (as a new pytest process has), every contract checked."""
    backend = backend or FakeBackend()
    checker = StaticChecker(
        root,
        root / "cache" if cache else None,
        specs,
        redundant_ignores=lambda s: redundant,
        dynamic_imports=lambda s: dynamic,
        backend=backend,
    )
    return checker, {s.id: checker.check(s) for s in specs}, backend


def chains(result: ContractResult) -> list[list[tuple[str, str, tuple[int, ...], str | None]]]:
    return [
        [(h.importer, h.imported, h.line_numbers, h.importer_file) for h in v.hops]
        for v in result.violations
    ]


# -- a cold run ---------------------------------------------------------------------


def test_contracts_that_share_a_graph_are_checked_on_one_build(project: Path) -> None:
    checker, results, backend = run(project)
    assert backend.calls["build_graph"] == 1
    assert backend.calls["check"] == 3
    assert {i: r.status for i, r in results.items()} == {
        "routes": "broken",
        "api": "broken",
        "core": "kept",
    }
    [stats] = checker.graph_stats()
    assert (stats.modules, stats.imports, stats.from_cache) == (6, 3, False)


def test_chains_name_each_hop_with_its_rootdir_relative_file_and_lines(project: Path) -> None:
    _, results, _ = run(project)
    assert chains(results["api"]) == [
        [
            ("fakeproj.api", "fakeproj.routes", (1,), "fakeproj/api.py"),
            ("fakeproj.routes", "fakeproj.legacy", (3,), "fakeproj/routes.py"),
        ]
    ]
    [violation] = results["api"].violations
    assert violation.fingerprint == "import: fakeproj.api -> fakeproj.legacy"
    assert violation.site == ("fakeproj/api.py", 1)


def test_each_contract_is_checked_once_per_run(project: Path) -> None:
    checker, first, backend = run(project)
    assert checker.check(ROUTES) is first["routes"]
    assert backend.calls["check"] == 3


# -- the result cache -----------------------------------------------------------------


def test_a_warm_run_serves_the_stored_results_and_builds_nothing(project: Path) -> None:
    _, cold, _ = run(project)
    checker, warm, backend = run(project)
    assert backend.calls == {}  # no build, no contract instantiated, nothing checked
    assert warm == cold
    [stats] = checker.graph_stats()
    assert stats.from_cache
    assert (stats.modules, stats.imports, stats.changed_files) == (6, 3, 0)


def test_an_edit_that_keeps_the_imports_moves_only_the_line_numbers(project: Path) -> None:
    run(project)
    write(project, {"routes.py": "'''Docs.'''\nimport os\n\n\nimport fakeproj.legacy\n"})
    checker, results, backend = run(project)
    assert backend.calls["build_graph"] == 0
    assert backend.calls["rescan_imports"] == 1
    assert chains(results["api"])[0][1] == (
        "fakeproj.routes",
        "fakeproj.legacy",
        (5,),
        "fakeproj/routes.py",
    )
    assert chains(results["routes"])[0][0][2] == (5,)
    [stats] = checker.graph_stats()
    assert (stats.from_cache, stats.changed_files) == (True, 1)
    # The refreshed results are stored: the next run is a plain hit with the new lines.
    _, again, backend = run(project)
    assert backend.calls == {}
    assert again == results


def test_an_edit_that_adds_an_import_checks_again(project: Path) -> None:
    run(project)
    write(project, {"core.py": "import fakeproj.util\nimport fakeproj.legacy\n"})
    _, results, backend = run(project)
    assert backend.calls["build_graph"] == 1
    assert results["core"].status == "broken"
    assert chains(results["core"]) == [
        [("fakeproj.core", "fakeproj.legacy", (2,), "fakeproj/core.py")]
    ]


def test_an_edit_that_removes_an_import_checks_again(project: Path) -> None:
    run(project)
    write(project, {"routes.py": "import os\n"})
    _, results, backend = run(project)
    assert backend.calls["build_graph"] == 1
    assert results["routes"].kept and results["api"].kept


def test_a_new_file_checks_again(project: Path) -> None:
    run(project)
    write(project, {"jobs.py": "import fakeproj.legacy\n"})
    _, _, backend = run(project)
    assert backend.calls["build_graph"] == 1


def test_when_the_edited_file_cannot_be_re_read_the_graph_is_built(project: Path) -> None:
    run(project)
    write(project, {"routes.py": "\nimport os\n\nimport fakeproj.legacy\n"})
    _, results, backend = run(project, backend=FakeBackend(rescan_error=True))
    assert backend.calls["rescan_imports"] == 1
    assert backend.calls["build_graph"] == 1
    assert chains(results["routes"])[0][0][2] == (4,)


def test_other_contracts_in_the_group_are_a_miss(project: Path) -> None:
    run(project, (ROUTES,))
    _, results, backend = run(project, (ROUTES, API))
    assert backend.calls["build_graph"] == 1
    assert results["api"].status == "broken"


def test_changing_a_checker_setting_is_a_miss(project: Path) -> None:
    run(project, redundant="off")
    _, _, backend = run(project, redundant="warn")
    assert backend.calls["build_graph"] == 1


def test_a_results_file_that_is_not_json_is_a_miss(project: Path) -> None:
    _, cold, _ = run(project)
    [stored] = (project / "cache").glob("results-*.json")
    stored.write_text("{not json", encoding="utf-8")
    _, results, backend = run(project)
    assert backend.calls["build_graph"] == 1
    assert {i: r.violations for i, r in results.items()} == {
        i: r.violations for i, r in cold.items()
    }
    assert json.loads(stored.read_text(encoding="utf-8"))["results"]  # written anew


def test_without_a_cache_folder_every_run_checks(project: Path) -> None:
    run(project, cache=False)
    _, _, backend = run(project, cache=False)
    assert backend.calls["build_graph"] == 1
    assert not (project / "cache").exists()


# -- what cannot be checked -------------------------------------------------------------


def test_a_contract_that_cannot_be_checked_hides_no_other(project: Path) -> None:
    broken = spec("broken", "routes", type_="no_such_type")
    _, results, _ = run(project, (broken, ROUTES))
    assert results["broken"].status == "error"
    assert (
        results["broken"].error == "unknown contract type 'no_such_type'. Known types: forbidden."
    )
    assert results["routes"].status == "broken"


def test_results_with_an_error_are_not_stored(project: Path) -> None:
    broken = spec("broken", "routes", type_="no_such_type")
    run(project, (broken, ROUTES))
    assert not list((project / "cache").glob("results-*.json"))
    _, _, backend = run(project, (broken, ROUTES))
    assert backend.calls["build_graph"] == 1


def test_a_graph_that_cannot_be_built_fails_every_contract_of_its_group(project: Path) -> None:
    failing = FakeBackend(build_error=f"cannot read {project}/fakeproj/routes.py: no")
    checker, results, backend = run(project, backend=failing)
    assert backend.calls["build_graph"] == 1  # the error is kept, not rebuilt per contract
    assert {r.error for r in results.values()} == {"cannot read fakeproj/routes.py: no"}
    assert checker.graph_stats() == []
    with pytest.raises(GraphError, match=r"^cannot read fakeproj/routes\.py: no$"):
        checker.module_importers(SESSION.graph_key, "fakeproj.legacy")


def test_a_cache_grimp_cannot_write_is_left_out(project: Path) -> None:
    backend = FakeBackend(cache_unwritable=True)
    _, results, _ = run(project, backend=backend)
    assert backend.calls["build_graph"] == 2  # once with the cache folder, once without
    assert results["routes"].status == "broken"


# -- the other questions the checker answers -----------------------------------------


def test_importers_and_modules_of_a_graph(project: Path) -> None:
    checker, _, _ = run(project)
    key = SESSION.graph_key
    assert checker.module_importers(key, "fakeproj.legacy") == {"fakeproj.routes"}
    assert checker.module_importers(key, "fakeproj.nowhere") == set()
    assert checker.graph_modules(key) == {f"{PACKAGE}.{n[:-3]}" for n in FILES} - {
        "fakeproj.__init__"
    } | {PACKAGE}


def test_check_with_imports_says_which_new_import_would_break_a_contract(project: Path) -> None:
    checker, before, _ = run(project)
    after = checker.check_with_imports(
        [("fakeproj.core", "fakeproj.legacy"), ("fakeproj.core", "elsewhere")]
    )
    assert before["core"].kept
    assert not after["core"].kept
    assert [v.fingerprint for v in after["core"].violations] == [
        "import: fakeproj.core -> fakeproj.legacy"
    ]
    assert checker.check(CORE).kept  # the run's own results are untouched


def test_ignore_entries_that_no_longer_matter_are_reported_when_asked(project: Path) -> None:
    stale = spec("stale", "core", ignore_imports=["fakeproj.core -> fakeproj.legacy"])
    _, results, backend = run(project, (stale,), redundant="warn")
    assert [r.expression for r in results["stale"].redundant_ignores] == [
        "fakeproj.core -> fakeproj.legacy"
    ]
    _, results, backend = run(project, (stale,), redundant="off", cache=False)
    assert results["stale"].redundant_ignores == ()
    assert backend.calls["find_redundant_ignores"] == 0


def test_modules_loaded_by_name_join_the_graph_with_their_call(project: Path) -> None:
    write(project, {"util.py": "import importlib\n\nimportlib.import_module('fakeproj.legacy')\n"})
    checker, results, _ = run(project, (CORE,), dynamic=True)
    [[first, second]] = chains(results["core"])
    assert first == ("fakeproj.core", "fakeproj.util", (1,), "fakeproj/core.py")
    assert second[:2] == ("fakeproj.util", "fakeproj.legacy")
    assert results["core"].violations[0].hops[1].via == "importlib.import_module, line 3"
    [stats] = checker.graph_stats()
    assert stats.dynamic_imports == 1
    assert stats.dynamic_added == (
        "fakeproj/util.py:3: fakeproj.util -> fakeproj.legacy (importlib.import_module)",
    )


def test_with_modules_loaded_by_name_an_edit_always_checks_again(project: Path) -> None:
    """The scan reads calls, which an edit can change without changing an import."""
    run(project, dynamic=True)
    write(project, {"routes.py": "\nimport os\n\nimport fakeproj.legacy\n"})
    _, _, backend = run(project, dynamic=True)
    assert backend.calls["rescan_imports"] == 0
    assert backend.calls["build_graph"] == 1


def test_the_default_backend_imports_no_graph_library_until_used(tmp_path: Path) -> None:
    """Zero cost until a graph is needed: a checker alone imports neither import-linter nor
    grimp (the test suite has them loaded, so a fresh interpreter tells)."""
    code = (
        "import sys, pathlib\n"
        "from pytest_ssot.checking import StaticChecker\n"
        "StaticChecker(pathlib.Path('.'), None)\n"
        "print(sorted(m for m in ('importlinter', 'grimp', 'pytest_ssot.adapter') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"
