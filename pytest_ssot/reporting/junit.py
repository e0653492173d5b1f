"""JUnit XML: a classname for contract items that groups them as CI dashboards expect.

pytest derives a testcase's classname from its node id, dropping a ``.py``
suffix: ``tests/test_api.py::test_one`` becomes classname ``tests.test_api``.
For ``contracts/migration.toml::some-id`` that gives ``contracts.migration.toml``,
which dashboards split at the last dot into package ``contracts.migration`` and
class ``toml``. Here the contract file is treated like a test module: its suffix
is dropped too (``contracts.migration``: package ``contracts``, class
``migration``), and the ``..`` of a file outside the rootdir is left out.

pytest offers no public way to set a classname from a plugin: the JUnit writer
keeps the attributes a test set (``record_xml_attribute``) over the ones it
derives, and this module sets the classname the same way, through the writer
pytest keeps in ``config.stash``. If a pytest version moves that, the classname
simply stays pytest's own.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest


def contract_classname(source_display: str) -> str:
    """The classname of a contract file's testcases: ``contracts/migration.toml`` ->
    ``contracts.migration``, ``.importlinter`` -> ``importlinter``."""
    parts = [p for p in PurePosixPath(source_display).parts if p not in ("..", ".", "/")]
    if not parts:
        return "pytest-ssot"
    last = parts[-1].lstrip(".")
    stem = last.rsplit(".", 1)[0] if "." in last else last
    parts[-1] = stem or last
    return ".".join(parts)


def _writer(config: pytest.Config) -> Any:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest that moved it
        return None
    return config.stash.get(xml_key, None)


def set_classname(config: pytest.Config, report: pytest.TestReport, classname: str) -> None:
    """Give the JUnit testcase of ``report`` this classname (call before JUnit's own hook)."""
    writer = _writer(config)
    if writer is None:
        return
    prefix = getattr(writer, "prefix", None)
    try:
        reporter = writer.node_reporter(report)
        reporter.add_attribute("classname", f"{prefix}.{classname}" if prefix else classname)
    except (AttributeError, TypeError):  # pragma: no cover - a pytest that changed the writer
        return
