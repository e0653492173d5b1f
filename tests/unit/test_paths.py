"""How files are shown and which are the project's (pytest_ssot/paths.py): one rule for all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pytest_ssot
from pytest_ssot.layout import ProjectLayout
from pytest_ssot.paths import ProjectFiles, display_path


def test_display_path_is_relative_to_the_rootdir_with_forward_slashes(tmp_path: Path) -> None:
    assert display_path(tmp_path / "app" / "mod.py", tmp_path) == "app/mod.py"
    assert display_path(str(tmp_path / "app" / "mod.py"), str(tmp_path)) == "app/mod.py"
    assert display_path(tmp_path, tmp_path) == "."
    assert display_path(tmp_path, tmp_path, outside="as-given") == "."


def test_outside_the_rootdir_a_path_climbs_or_stays_as_given(tmp_path: Path) -> None:
    rootdir = tmp_path / "project"
    sibling = tmp_path / "contracts" / "c.toml"
    assert display_path(sibling, rootdir) == "../contracts/c.toml"  # as pytest's node ids
    assert display_path(str(sibling), rootdir, outside="as-given") == str(sibling)
    # A folder whose name only starts like the rootdir's is outside it.
    assert display_path(tmp_path / "project2" / "x.py", rootdir) == "../project2/x.py"


def test_project_files_inside_the_rootdir_but_not_its_libraries(tmp_path: Path) -> None:
    files = ProjectFiles(tmp_path, excluded=[str(tmp_path / "lib")])
    assert files.is_project(str(tmp_path / "app" / "mod.py"))
    assert not files.is_project(str(tmp_path / ".venv/lib/python3.11/site-packages/x.py"))
    assert not files.is_project(str(tmp_path / "debian/dist-packages/x.py"))
    assert not files.is_project(str(tmp_path / "lib" / "x.py"))  # an interpreter's library
    assert files.is_project(str(tmp_path / "my-site-packages-notes" / "x.py"))
    assert not files.is_project("/elsewhere/x.py")


def test_a_root_package_installed_into_site_packages_is_still_the_project(tmp_path: Path) -> None:
    installed = tmp_path / "venv" / "lib" / "site-packages" / "app"
    files = ProjectFiles(tmp_path / "src", [str(installed)], excluded=[str(tmp_path / "venv")])
    assert files.is_project(str(installed / "mod.py"))
    assert not files.is_project(str(installed.parent / "other" / "mod.py"))


def test_pytest_ssot_itself_is_never_project_code() -> None:
    own = Path(pytest_ssot.__file__).parent
    files = ProjectFiles(own.parent, [str(own)])
    assert not files.is_project(str(own / "plugin.py"))
    assert files.is_project(str(own.parent / "tests" / "test_x.py"))


def test_the_runtime_layout_and_the_manager_checks_share_the_rule(tmp_path: Path) -> None:
    root = tmp_path / "app"
    layout = ProjectLayout(tmp_path, {"app": [str(root)]}, excluded=())
    assert layout.files.is_project(str(root / "mod.py"))
    info = layout.classify(str(root / "sub" / "mod.py"))
    assert info is not None and (info.display, info.module) == ("app/sub/mod.py", "app.sub.mod")
    assert layout.classify(str(Path(pytest_ssot.__file__))) is None


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_rootdir_reached_through_a_symlink_holds_the_same_files(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    files = ProjectFiles(link, excluded=())
    assert files.is_project(str(link / "mod.py"))
    assert files.is_project(str(real / "mod.py"))
