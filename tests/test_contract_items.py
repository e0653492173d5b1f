"""End to end: import-linter contracts as pytest items (pytester runs on sample projects)."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

pytest_plugins = ["pytester"]

LAYERED = {
    "pkg/__init__.py": "",
    "pkg/high.py": "import pkg.mid\n",
    "pkg/mid.py": "import pkg.low\n",
    "pkg/low.py": "X = 1\n",
    "pkg/legacy.py": "OLD = 1\n",
    "pkg/user.py": "# still on the old API\nfrom pkg import legacy\n",
    "tests/test_ok.py": "def test_ok():\n    assert True\n",
}

CONFIG = """
[tool.importlinter]
root_package = "pkg"

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "Nobody imports the legacy module"
type = "forbidden"
source_modules = ["pkg.user", "pkg.high"]
forbidden_modules = ["pkg.legacy"]

[[tool.importlinter.contracts]]
id = "layers"
name = "high over mid over low"
type = "layers"
layers = ["pkg.high", "pkg.mid", "pkg.low"]
"""


@pytest.fixture
def project(write: WriteFiles) -> WriteFiles:
    write({**LAYERED, "pyproject.toml": CONFIG})
    return write


def test_one_item_per_contract_with_chain_file_line_and_source(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    result = pytester.runpytest("--ssot", "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED pyproject.toml::layers",
            "FAILED pyproject.toml::no-legacy*",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "Contract 'no-legacy' is BROKEN: Nobody imports the legacy module",
            "  type forbidden, defined at pyproject.toml:4",
            "pkg.user is not allowed to import pkg.legacy (1 chain):",
            "  1. pkg.user -> pkg.legacy",
            "      pkg/user.py:2  from pkg import legacy",
            "What to do: Remove the offending imports*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_terminal_summary_counts_contracts_and_graph(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    result = pytester.runpytest("--ssot")
    result.stdout.fnmatch_lines(
        [
            "*= pytest-ssot =*",
            "contracts: 1 kept, 1 broken",
            "graph pkg: 6 modules, 3 imports, built in * ms",
            "  BROKEN pyproject.toml::no-legacy (1 violation)",
            "  KEPT   pyproject.toml::layers",
        ]
    )


def test_without_the_flag_nothing_happens(pytester: pytest.Pytester, project: WriteFiles) -> None:
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*pytest-ssot*")
    result.stdout.no_fnmatch_line("*pyproject.toml::*")


def test_ini_key_turns_it_on_and_no_ssot_turns_it_off(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**LAYERED, "pyproject.toml": "[tool.pytest.ini_options]\nssot = true\n" + CONFIG})
    pytester.runpytest().assert_outcomes(passed=2, failed=1)
    pytester.runpytest("--no-ssot").assert_outcomes(passed=1)


def test_off_imports_nothing_heavy(pytester: pytest.Pytester, project: WriteFiles) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            heavy = sorted(
                name for name in sys.modules
                if name.split(".")[0] in ("importlinter", "grimp", "rich")
                or (name.startswith("pytest_ssot.") and name != "pytest_ssot.plugin")
            )
            print()
            print("HEAVY:", heavy)
        """
    )
    result = pytester.runpytest_subprocess("-s")
    result.stdout.fnmatch_lines(["HEAVY: []"])
    on = pytester.runpytest_subprocess("-s", "--ssot")
    assert "HEAVY: []" not in on.stdout.str()


def test_only_contracts_with_marker_and_ssot_only(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    pytester.runpytest("--ssot", "-m", "pytest_ssot").assert_outcomes(
        passed=1, failed=1, deselected=1
    )
    pytester.runpytest("--ssot", "-m", "not pytest_ssot").assert_outcomes(passed=1, deselected=2)
    result = pytester.runpytest("--ssot", "--ssot-only", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["pyproject.toml::no-legacy", "pyproject.toml::layers"])
    result.stdout.no_fnmatch_line("*test_ok*")


def test_ssot_only_needs_ssot(pytester: pytest.Pytester, project: WriteFiles) -> None:
    result = pytester.runpytest("--ssot-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-only needs --ssot*"])


def test_works_with_a_strict_real_world_command_line(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **LAYERED,
            "pyproject.toml": """
            [tool.pytest.ini_options]
            markers = ["ssot: the project's own marker", "ssot_compliance: another one"]
            """
            + CONFIG,
            "tests/test_marked.py": """
            import pytest

            @pytest.mark.ssot
            def test_marked():
                pass
            """,
        }
    )
    args = [
        "--ssot",
        "--strict-config",
        "--strict-markers",
        "--import-mode=importlib",
        "-p",
        "no:randomly",
        "-s",
        "--maxfail=10",
    ]
    pytester.runpytest(*args).assert_outcomes(passed=3, failed=1)
    # The project's own 'ssot' marker still selects only its own tests.
    pytester.runpytest(*args, "-m", "ssot").assert_outcomes(passed=1, deselected=3)
    pytester.runpytest(*args, "-k", "no-legacy").assert_outcomes(failed=1, deselected=3)
    pytester.runpytest(*args, "-x").assert_outcomes(failed=1)


def test_last_failed_reruns_the_broken_contract(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    pytester.runpytest("--ssot").assert_outcomes(passed=2, failed=1)
    result = pytester.runpytest("--ssot", "--lf")
    result.assert_outcomes(failed=1, deselected=2)


def test_runs_without_the_cache_provider(pytester: pytest.Pytester, project: WriteFiles) -> None:
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    assert not (pytester.path / ".pytest_cache").exists()


def test_graph_cache_lives_under_pytest_cache(
    pytester: pytest.Pytester, project: WriteFiles
) -> None:
    pytester.runpytest("--ssot").assert_outcomes(passed=2, failed=1)
    caches = list((pytester.path / ".pytest_cache" / "d" / "pytest-ssot").glob("grimp-*"))
    assert len(caches) == 1 and any(caches[0].iterdir())
    assert not (pytester.path / ".grimp_cache").exists()
    assert not (pytester.path / ".import_linter_cache").exists()


def test_leaves_sys_path_and_logging_alone(pytester: pytest.Pytester, project: WriteFiles) -> None:
    logger = logging.getLogger("some.app.logger")
    path_before = list(sys.path)
    handlers_before = list(logging.getLogger().handlers)
    pytester.runpytest("--ssot").assert_outcomes(passed=2, failed=1)
    assert sys.path == path_before
    assert logger.disabled is False
    assert logging.getLogger().handlers == handlers_before
    assert not logging.getLogger("importlinter").handlers


def test_no_spinner_or_rich_output(pytester: pytest.Pytester, project: WriteFiles) -> None:
    result = pytester.runpytest_subprocess("--ssot", "-s")
    text = result.stdout.str()
    assert "Building graph" not in text
    assert "\x1b[" not in text
    assert "Checking contracts" not in text


def test_contract_files_merge_with_project_config(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **LAYERED,
            "pyproject.toml": """
            [tool.pytest.ini_options]
            ssot_contracts = ["contracts/"]

            [tool.importlinter]
            root_package = "pkg"
            """,
            "contracts/legacy.toml": """
            [tool.importlinter]

            [[tool.importlinter.contracts]]
            id = "no-legacy"
            name = "Nobody imports the legacy module"
            type = "forbidden"
            source_modules = ["pkg.user"]
            forbidden_modules = ["pkg.legacy"]
            """,
            "contracts/layers.ini": """
            [importlinter:contract:layers]
            name = high over mid over low
            type = layers
            layers =
                pkg.high
                pkg.mid
                pkg.low
            """,
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["PASSED contracts/layers.ini::layers", "FAILED contracts/legacy.toml::no-legacy*"],
        consecutive=False,
    )


def test_glob_entries_and_explicit_config_file(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **LAYERED,
            "setup.cfg": """
            [tool:pytest]
            ssot_config = lint/importlinter.ini
            ssot_contracts = more/*.ini
            """,
            "lint/importlinter.ini": """
            [importlinter]
            root_package = pkg

            [importlinter:contract:layers]
            name = layers
            type = layers
            layers =
                pkg.high
                pkg.mid
                pkg.low
            """,
            "more/a.ini": """
            [importlinter:contract:independent]
            name = high and legacy are independent
            type = independence
            modules =
                pkg.high
                pkg.legacy
            """,
        }
    )
    result = pytester.runpytest("--ssot", "-rA")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["PASSED lint/importlinter.ini::layers", "PASSED more/a.ini::independent"],
        consecutive=False,
    )


def test_custom_contract_types(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **LAYERED,
            "customtypes.py": """
            from importlinter import Contract, ContractCheck, fields, output


            class NoModuleNamed(Contract):
                module = fields.StringField()

                def check(self, graph, verbose):
                    return ContractCheck(kept=self.module not in graph.modules)

                def render_broken_contract(self, check):
                    output.print_error(f"{self.module} exists, and it should not.")
            """,
            "pyproject.toml": """
            [tool.importlinter]
            root_package = "pkg"
            contract_types = ["no_module: customtypes.NoModuleNamed"]

            [[tool.importlinter.contracts]]
            id = "no-legacy-module"
            name = "There is no pkg.legacy"
            type = "no_module"
            module = "pkg.legacy"

            [[tool.importlinter.contracts]]
            id = "no-ghost-module"
            name = "There is no pkg.ghost"
            type = "no_module"
            module = "pkg.ghost"
            """,
        }
    )
    result = pytester.runpytest("--ssot")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["pkg.legacy exists, and it should not."])


def test_kept_contract_reports_ignored_imports_and_warnings(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **LAYERED,
            "pyproject.toml": """
            [tool.importlinter]
            root_package = "pkg"

            [[tool.importlinter.contracts]]
            id = "no-legacy"
            name = "Nobody imports the legacy module"
            type = "forbidden"
            source_modules = ["pkg.user"]
            forbidden_modules = ["pkg.legacy"]
            ignore_imports = ["pkg.user -> pkg.legacy", "pkg.high -> pkg.nothing"]
            unmatched_ignore_imports_alerting = "warn"
            """,
        }
    )
    result = pytester.runpytest("--ssot", "-v", "-W", "always")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*PytestSsotWarning: contract 'no-legacy': No matches for ignored import "
            "pkg.high -> pkg.nothing.",
            "*KEPT   pyproject.toml::no-legacy (1 import ignored)",
        ],
        consecutive=False,
    )


def test_many_chains_are_digested_and_v_shows_all(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    files = {"pkg/__init__.py": "", "pkg/legacy.py": "", "pkg/a/__init__.py": ""}
    files["pkg/b/__init__.py"] = ""
    for i in range(25):
        files[f"pkg/a/m{i:02}.py"] = "import pkg.legacy\n"
    for i in range(5):
        files[f"pkg/b/m{i:02}.py"] = "import pkg.legacy\n"
    files["pyproject.toml"] = """
    [tool.pytest.ini_options]
    ssot_max_chains = "4"

    [tool.importlinter]
    root_package = "pkg"

    [[tool.importlinter.contracts]]
    id = "no-legacy"
    name = "no legacy"
    type = "forbidden"
    source_modules = ["pkg.a", "pkg.b"]
    forbidden_modules = ["pkg.legacy"]
    """
    write(files)
    result = pytester.runpytest("--ssot")
    result.stdout.fnmatch_lines(
        [
            "pkg.a is not allowed to import pkg.legacy (25 chains):",
            "  4. pkg.a.m03 -> pkg.legacy",
            "... and 26 more of 30 violations, not shown (run pytest with -v to see every chain)."
            " By importing package:",
            "    pkg.a * 21",
            "    pkg.b * 5",
        ]
    )
    assert "m04 -> pkg.legacy" not in result.stdout.str()
    verbose = pytester.runpytest("--ssot", "-v")
    verbose.stdout.fnmatch_lines(["  5. pkg.b.m04 -> pkg.legacy"])
    assert "more of 30 violations" not in verbose.stdout.str()


def test_failure_shows_guidance(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **LAYERED,
            "pyproject.toml": CONFIG.replace(
                'forbidden_modules = ["pkg.legacy"]',
                'forbidden_modules = ["pkg.legacy"]\n'
                'broken_contract_guidance = "Use pkg.low instead, see MIGRATION.md."',
            ),
        }
    )
    result = pytester.runpytest("--ssot")
    result.stdout.fnmatch_lines(["What to do: Use pkg.low instead, see MIGRATION.md."])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*importlinter/*")


def test_broken_independence_contract_lists_its_chains(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **LAYERED,
            "pyproject.toml": """
            [tool.importlinter]
            root_package = "pkg"

            [[tool.importlinter.contracts]]
            id = "independent"
            name = "high and low are independent"
            type = "independence"
            modules = ["pkg.high", "pkg.low"]
            """,
        }
    )
    result = pytester.runpytest("--ssot", "--ssot-only", "--ssot-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "pkg.high is not allowed to import pkg.low (1 chain):",
            "  1. pkg.high -> pkg.mid -> pkg.low",
            "      pkg/high.py:1  import pkg.mid",
            "      pkg/mid.py:1   import pkg.low",
        ]
    )
    report = json.loads((pytester.path / "r.json").read_text())
    assert [v["fingerprint"] for v in report["contracts"][0]["violations"]] == [
        "import: pkg.high -> pkg.low"
    ]
