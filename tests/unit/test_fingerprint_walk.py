"""Which files the result cache's fingerprint stats: for graph-only groups, what grimp reads.

grimp enters a folder inside a package only when it has an ``__init__.py`` (a folder of
a namespace root is read whole, down to its packages). The walk for such groups does the
same: the files of a folder it skips can change nothing in the graph, and an
``__init__.py`` appearing in it is listed on the next walk. These tests compare the walk
with grimp's own module finder on generated trees.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from grimp.adaptors.filesystem import FileSystem
from grimp.adaptors.modulefinder import ModuleFinder
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.result_cache import module_for, stat_files

pytestmark = pytest.mark.library_surface


def make(root: Path, files: Iterable[str]) -> Path:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


def grimp_modules(folder: Path, name: str = "pkg") -> set[str]:
    found = ModuleFinder().find_package(name, str(folder), FileSystem())
    return {module_file.module.name for module_file in found.module_files}


def walked_modules(folder: Path, name: str = "pkg") -> set[str]:
    listed = stat_files(folder, packages_only=True)
    return {m for rel in listed if (m := module_for(name, rel)) is not None}


def test_a_folder_without_init_inside_a_package_is_not_entered(tmp_path: Path) -> None:
    pkg = make(
        tmp_path / "pkg",
        [
            "__init__.py",
            "a.py",
            "locale/en/LC_MESSAGES/x.py",
            "locale/y.py",
            "sub/__init__.py",
            "sub/b.py",
            "sub/templates/t.py",
        ],
    )
    listed = stat_files(pkg, packages_only=True)
    assert sorted(k for k in listed if k.endswith(".py")) == [
        "__init__.py",
        "a.py",
        "sub/__init__.py",
        "sub/b.py",
    ]
    assert not any(k.startswith(("locale/", "sub/templates/")) for k in listed)
    # A folder without __init__.py coming or going changes nothing grimp reads.
    (pkg / "static/css").mkdir(parents=True)
    assert stat_files(pkg, packages_only=True) == listed
    # Every file without the option: a custom or SSOT contract type may read any of them.
    assert "locale/en/LC_MESSAGES/x.py" in stat_files(pkg)
    # The folder becomes a package: its files are listed, the listing changes.
    (pkg / "locale/__init__.py").write_text("")
    again = stat_files(pkg, packages_only=True)
    assert "locale/__init__.py" in again and "locale/y.py" in again
    assert not any(k.startswith("locale/en/") for k in again)  # not a package either


def test_a_namespace_root_is_read_down_to_its_packages(tmp_path: Path) -> None:
    ns = make(tmp_path / "ns", ["loose/c.py", "p/__init__.py", "p/m.py", "p/data/z.py", "top.py"])
    listed = stat_files(ns, packages_only=True)
    assert sorted(k for k in listed if k.endswith(".py")) == [
        "loose/c.py",
        "p/__init__.py",
        "p/m.py",
        "top.py",
    ]
    assert not any(k.startswith("p/data/") for k in listed)
    assert walked_modules(ns, "ns") == grimp_modules(ns, "ns")


NAMES = st.sampled_from(["a", "b", "locale", "sub"])
TREE_FILES = st.lists(
    st.lists(NAMES, min_size=0, max_size=3).flatmap(
        lambda parts: st.sampled_from(["__init__.py", "m.py"]).map(
            lambda leaf: "/".join([*parts, leaf])
        )
    ),
    min_size=1,
    max_size=12,
    unique=True,
)


@settings(max_examples=80, deadline=None)
@given(files=TREE_FILES, root_is_package=st.booleans())
def test_never_misses_a_change_grimp_would_see(files: list[str], root_is_package: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="walk-"))
    try:
        pkg = make(folder / "pkg", [*files, *(["__init__.py"] if root_is_package else [])])
        before = stat_files(pkg, packages_only=True)
        # Every module grimp finds is a file the walk stats (edits to it are seen).
        assert grimp_modules(pkg) <= walked_modules(pkg)
        # An __init__.py appearing anywhere that changes grimp's modules changes the listing.
        folders = sorted({p.parent for p in pkg.rglob("*.py")} | {pkg})
        for sub in folders:
            init = sub / "__init__.py"
            if init.exists():
                continue
            grimp_before = grimp_modules(pkg)
            init.write_text("")
            try:
                if grimp_modules(pkg) != grimp_before:
                    assert stat_files(pkg, packages_only=True).keys() != before.keys()
            finally:
                init.unlink()
    finally:
        shutil.rmtree(folder)
