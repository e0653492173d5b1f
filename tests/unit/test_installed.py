"""What the import system and the installed distributions say (pytest_ssot/installed.py)."""

from __future__ import annotations

import importlib.metadata

from pytest_ssot.installed import LIBRARIES, library_versions


def test_library_versions_are_the_installed_distributions() -> None:
    found = library_versions()
    assert set(found) == set(LIBRARIES) == {"import-linter", "grimp"}
    for dist, version in found.items():
        assert version == importlib.metadata.version(dist)


def test_library_versions_hands_out_a_copy() -> None:
    library_versions()["grimp"] = "changed by a caller"
    assert library_versions()["grimp"] == importlib.metadata.version("grimp")
