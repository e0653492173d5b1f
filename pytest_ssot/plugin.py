"""pytest entry point (``pytest11``). Kept thin and cheap on purpose.

Every pytest run in an environment with pytest-ssot installed imports this
module, so it imports nothing but pytest. Only when ``--ssot`` (or the ``ssot``
ini key) is on does it import the rest and register the hook object that does
the work (``pytest_ssot.session.SsotSession``).
"""

from __future__ import annotations

import pytest

MARKERS = (
    "pytest_ssot: an item added by pytest-ssot (select the SSOT checks with -m pytest_ssot)",
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
        for name in ("ssot_only", "ssot_baseline_update", "ssot_baseline_prune"):
            if config.getoption(name):
                flag = "--" + name.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs --ssot (or the ini key 'ssot = true')")
    if not enabled(config):
        return
    from pytest_ssot.session import SsotSession

    config.pluginmanager.register(SsotSession(config), "ssot-session")
