"""pytest entry point (``pytest11``). Kept thin and cheap on purpose.

Every pytest run in an environment with pytest-ssot installed imports this
module, so it imports nothing but pytest. Only when ``--ssot`` (or the ``ssot``
ini key) is on does it import the rest and register the hook object that does
the work (``pytest_ssot.session.SsotSession``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # for the annotation only: nothing more is imported at run time
    from pytest_ssot.runtime.hooks.manager_checks import InstancesView

MARKERS = (
    "pytest_ssot: an item added by pytest-ssot (select the SSOT checks with -m pytest_ssot)",
    "pytest_ssot_allow_duplicates(*managers): with --ssot, this test may create more instances "
    "of the named managers (all when none is named) than their rule allows, and construct them "
    "outside their factories; the findings are still counted in the summary.",
    "pytest_ssot_allow_shared_state(*managers): with --ssot, instances of the named managers "
    "(all when none is named) may share state between keys and outlive this test; the findings "
    "are still counted in the summary.",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ssot", "pytest-ssot: single-source-of-truth checks")
    group.addoption(
        "--ssot",
        action="store_true",
        default=None,
        help="check the import-linter contracts as test items (also: ini key 'ssot = true').",
    )
    group.addoption(
        "--no-ssot",
        action="store_false",
        dest="ssot",
        help="turn the checks off even when the ini key 'ssot' is true.",
    )
    group.addoption(
        "--ssot-only",
        action="store_true",
        default=False,
        help="with --ssot: run only the SSOT checks, without collecting the test modules.",
    )
    group.addoption(
        "--ssot-baseline",
        metavar="PATH",
        default=None,
        help="baseline file of frozen violations (overrides the ini key 'ssot_baseline').",
    )
    group.addoption(
        "--ssot-baseline-update",
        action="store_true",
        default=False,
        help="write the baseline from this run: freeze new violations, drop fixed ones.",
    )
    group.addoption(
        "--ssot-baseline-prune",
        action="store_true",
        default=False,
        help="drop fixed violations from the baseline, never add any.",
    )
    group.addoption(
        "--ssot-baseline-strict",
        action="store_true",
        default=None,
        help="fail while the baseline lists violations that no longer occur, or contracts "
        "that no longer exist (also: ini key 'ssot_baseline_strict').",
    )
    group.addoption(
        "--ssot-report",
        metavar="PATH",
        default=None,
        help="write a JSON report of every contract and finding (also: ini key 'ssot_report').",
    )
    group.addoption(
        "--ssot-sarif",
        metavar="PATH",
        default=None,
        help="write a SARIF 2.1.0 log for GitHub code scanning and other SARIF viewers "
        "(also: ini key 'ssot_sarif').",
    )
    group.addoption(
        "--ssot-html",
        metavar="PATH",
        default=None,
        help="write a self-contained HTML report: contract list, migration maps, runtime "
        "findings, progress chart (also: ini key 'ssot_html'; needs pytest-ssot[html]).",
    )
    group.addoption(
        "--ssot-fix",
        action="store_true",
        default=False,
        help="with --ssot: rewrite imports of forbidden modules to the names' canonical homes "
        "before the checks run (needs pytest-ssot[fix]; see docs/fixing.md).",
    )
    group.addoption(
        "--ssot-diff",
        action="store_true",
        default=False,
        help="with --ssot: print the rewrites --ssot-fix would make, as a unified diff, and "
        "change nothing.",
    )
    parser.addini("ssot", type="bool", default=False, help="turn pytest-ssot on (like --ssot).")
    parser.addini(
        "ssot_baseline",
        type="string",
        default="",
        help="baseline file of frozen violations, relative to the rootdir.",
    )
    parser.addini(
        "ssot_baseline_strict",
        type="bool",
        default=False,
        help="fail while the baseline holds stale entries, so it can only shrink.",
    )
    parser.addini(
        "ssot_baseline_no_growth",
        type="bool",
        default=False,
        help="forbid adding entries to the baseline (--ssot-baseline-update then fails instead).",
    )
    parser.addini(
        "ssot_report", type="string", default="", help="path of the JSON report to write."
    )
    parser.addini(
        "ssot_sarif", type="string", default="", help="path of the SARIF 2.1.0 log to write."
    )
    parser.addini("ssot_html", type="string", default="", help="path of the HTML report to write.")
    parser.addini(
        "ssot_history",
        type="string",
        default="",
        help="history file (JSON Lines) that gets one line per run, for the HTML report's "
        "progress chart; relative to the rootdir.",
    )
    parser.addini(
        "ssot_contracts",
        type="linelist",
        default=[],
        help="contract files, folders or globs (relative to the rootdir), merged with the "
        "project's import-linter config.",
    )
    parser.addini(
        "ssot_config",
        type="string",
        default="",
        help="the project's import-linter config file, if not found the way import-linter "
        "finds it (setup.cfg, .importlinter, pyproject.toml in the rootdir).",
    )
    parser.addini(
        "ssot_max_chains",
        type="string",
        default="",
        help="how many violations a failure lists in full before it summarises (default 10; "
        "-v lists all).",
    )
    parser.addini(
        "ssot_redundant_ignores",
        type="string",
        default="warn",
        help="ignore_imports entries that match imports but whose removal would add no "
        "violation: warn, error (fail the contract), or off.",
    )
    parser.addini(
        "ssot_redundant_ignores_budget",
        type="string",
        default="",
        help="seconds the search for ignore_imports entries that no longer matter may take "
        "per contract (default 10; 0: no limit); entries it had no time to try are named in "
        "a warning.",
    )
    parser.addini(
        "ssot_redundant_ignores_per_contract",
        type="linelist",
        default=[],
        help="per-contract override of ssot_redundant_ignores, one '<contract id>: "
        "warn|error|off' a line.",
    )
    parser.addini(
        "ssot_static_dynamic_imports",
        type="bool",
        default=False,
        help="add the modules the root packages load by name (importlib.import_module('x') "
        "and kin, with a literal name) to the graph the contracts check.",
    )
    parser.addini(
        "ssot_static_dynamic_imports_per_contract",
        type="linelist",
        default=[],
        help="per-contract override of ssot_static_dynamic_imports, one '<contract id>: "
        "true|false' a line.",
    )
    # Runtime checks of what the static graph cannot see (docs/runtime-imports.md).
    parser.addini(
        "ssot_runtime_imports",
        type="string",
        default="fail",
        help="dynamic loads of modules the contracts forbid: fail (the test or the session), "
        "warn, or off.",
    )
    parser.addini(
        "ssot_runtime_imports_per_contract",
        type="linelist",
        default=[],
        help="per-contract override of ssot_runtime_imports, one '<contract id>: fail|warn|off' "
        "a line.",
    )
    parser.addini(
        "ssot_runtime_imports_ignore",
        type="linelist",
        default=[],
        help="runtime imports allowed for every contract, as 'importer -> imported' "
        "expressions (* one segment, ** any depth).",
    )
    parser.addini(
        "ssot_runtime_outside_code",
        type="string",
        default="ignore",
        help="code outside the root packages (tests, conftest files beside the package): "
        "'ignore' (default) holds it to no contract at runtime, 'source' to every forbidden and "
        "protected contract, or the ids of the contracts to hold it to (comma-separated).",
    )
    parser.addini(
        "ssot_watch_modules",
        type="linelist",
        default=[],
        help="more modules (expressions) that project code may not load at runtime at all.",
    )
    parser.addini(
        "ssot_double_load",
        type="string",
        default="fail",
        help="a source file loaded as two modules under different names: fail, warn, or off.",
    )
    parser.addini(
        "ssot_double_load_allow",
        type="linelist",
        default=[],
        help="module names (expressions) that may be a second name for a file.",
    )
    parser.addini(
        "ssot_hidden_folders",
        type="string",
        default="report",
        help="folders in the root packages with .py files but no __init__.py: report (in the "
        "summary), fail, or off.",
    )
    parser.addini(
        "ssot_hidden_folders_allow",
        type="linelist",
        default=[],
        help="hidden folders to accept, as globs of their paths relative to the rootdir.",
    )


def enabled(config: pytest.Config) -> bool:
    option = config.getoption("ssot")
    if option is not None:
        return bool(option)
    return bool(config.getini("ssot"))


def pytest_configure(config: pytest.Config) -> None:
    # Markers are registered even when off, so --strict-markers runs keep working.
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not enabled(config):
        for name in (
            "ssot_only",
            "ssot_baseline_update",
            "ssot_baseline_prune",
            "ssot_fix",
            "ssot_diff",
        ):
            if config.getoption(name):
                flag = "--" + name.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs --ssot (or the ini key 'ssot = true')")
    if not enabled(config):
        return
    from pytest_ssot.session import SsotSession

    config.pluginmanager.register(SsotSession(config), "ssot-session")


@pytest.fixture
def ssot_instances(request: pytest.FixtureRequest) -> InstancesView:
    """The instances of the declared managers that this test created (needs --ssot).

    ``ssot_instances.count("websocket-manager", key="alice")``, ``.records(...)``,
    ``.live(...)``, and ``with ssot_instances.watch() as made: ...`` for one block.
    Without --ssot the test is skipped: nothing is counted then.
    """
    checks = request.config.pluginmanager.get_plugin("ssot-managers")
    if checks is None:
        pytest.skip(
            "the ssot_instances fixture needs pytest-ssot's runtime checks: run with --ssot"
        )
    view: InstancesView = checks.view(request.node.nodeid)
    return view
