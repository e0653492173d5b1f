"""What the import system and the installed distributions say (pytest_ssot/installed.py)."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from pytest_ssot.installed import (
    LIBRARIES,
    PackageNotFound,
    library_versions,
    module_exists,
    package_folders,
)
from pytest_ssot.syspath import importable_from


def test_library_versions_are_the_installed_distributions() -> None:
    found = library_versions()
    assert set(found) == set(LIBRARIES) == {"import-linter", "grimp"}
    for dist, version in found.items():
        assert version == importlib.metadata.version(dist)


def test_library_versions_hands_out_a_copy() -> None:
    library_versions()["grimp"] = "changed by a caller"
    assert library_versions()["grimp"] == importlib.metadata.version("grimp")


def test_package_folders_finds_every_portion_of_a_namespace_package(tmp_path: Path) -> None:
    for portion in ("one", "two"):
        (tmp_path / portion / "ssot_ns_unit" / "sub").mkdir(parents=True)
    (tmp_path / "one" / "ssot_regular_unit").mkdir()
    (tmp_path / "one" / "ssot_regular_unit" / "__init__.py").write_text("")
    with importable_from(tmp_path / "one"), importable_from(tmp_path / "two"):
        folders = package_folders("ssot_ns_unit")
        regular = package_folders("ssot_regular_unit")
    assert sorted(folders) == sorted(str(tmp_path / p / "ssot_ns_unit") for p in ("one", "two"))
    assert regular == (str(tmp_path / "one" / "ssot_regular_unit"),)


def test_package_folders_says_why_a_name_is_no_package(tmp_path: Path) -> None:
    (tmp_path / "ssot_plain_module_unit.py").write_text("")
    with importable_from(tmp_path):
        with pytest.raises(PackageNotFound, match="is a module, not a package"):
            package_folders("ssot_plain_module_unit")
        with pytest.raises(
            PackageNotFound, match=r"cannot be found on sys\.path\. Make it importable"
        ):
            package_folders("ssot_nowhere_unit")
        with pytest.raises(PackageNotFound, match="root package '' cannot be found: "):
            package_folders("")


def test_an_optional_extra_is_looked_for_without_importing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "json.tool", raising=False)
    assert module_exists("json") is True
    assert module_exists("ssot_no_such_module_unit") is False
    monkeypatch.setitem(sys.modules, "ssot_blocked_unit", None)  # how a test hides a package
    assert module_exists("ssot_blocked_unit") is False
    assert module_exists("json.tool") is True and "json.tool" not in sys.modules
