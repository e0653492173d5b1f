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
    parser.addini("ssot", type="bool", default=False, help="turn pytest-ssot on (like --ssot).")
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
    if config.getoption("ssot_only") and not enabled(config):
        raise pytest.UsageError("--ssot-only needs --ssot (or the ini key 'ssot = true')")
    if not enabled(config):
        return
    from pytest_ssot.session import SsotSession

    config.pluginmanager.register(SsotSession(config), "ssot-session")
