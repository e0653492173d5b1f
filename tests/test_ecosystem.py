"""Install and ecosystem: the built wheel, the pre-commit hook, what lint-imports reads."""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, WriteFiles

pytestmark = pytest.mark.library_surface

BIN = Path(sys.executable).parent
IMPORT_LINTER = tuple(int(p) for p in importlib.metadata.version("import-linter").split(".")[:2])


def run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTEST_ADDOPTS": "", **env}
    environ.pop("GITHUB_ACTIONS", None)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=environ, timeout=300)


def hook() -> dict[str, str]:
    """The one hook of .pre-commit-hooks.yaml, read as the flat YAML list it is."""
    fields: dict[str, str] = {}
    for line in (REPO / ".pre-commit-hooks.yaml").read_text().splitlines():
        if line.startswith(("- ", "  ")) and ":" in line:
            key, _, value = line[2:].partition(":")
            fields[key.strip()] = value.strip()
    return fields


def test_pre_commit_hook_entry_checks_the_example(example: Path) -> None:
    fields = hook()
    assert fields["id"] == "pytest-ssot"
    assert fields["language"] == "python" and fields["pass_filenames"] == "false"
    entry = shlex.split(fields["entry"])
    assert entry[0] == "pytest"
    result = run([str(BIN / "pytest"), *entry[1:]], cwd=example)
    # The example breaks two contracts: the hook fails the commit, naming them.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED ../../contracts/websocket.toml::no-legacy-websocket" in result.stdout
    assert "FAILED ../../contracts/websocket.toml::no-shims-in-app" in result.stdout
    assert "tests/test_" not in result.stdout  # --ssot-only: no test ran
    assert not (example / ".pytest_cache").exists()  # -p no:cacheprovider: nothing written


def test_pre_commit_hook_entry_passes_a_kept_project(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "",
            "pyproject.toml": """
                [tool.importlinter]
                root_package = "pkg"

                [[tool.importlinter.contracts]]
                id = "a-alone"
                name = "a imports nothing"
                type = "forbidden"
                source_modules = ["pkg.a"]
                forbidden_modules = ["pkg"]
                allow_indirect_imports = true
            """,
        }
    )
    entry = shlex.split(hook()["entry"])
    result = run([str(BIN / "pytest"), *entry[1:]], cwd=pytester.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


# -- lint-imports: exactly what the docs claim, for the installed import-linter ------------


def test_lint_imports_reads_a_contract_file_with_session_options(example: Path) -> None:
    lint = str(BIN / "lint-imports")
    contract = "../../contracts/websocket.toml"
    with_config = run([lint, "--no-logo", "--config", contract], cwd=example)
    assert with_config.returncode == 1  # two contracts broken, as under pytest --ssot
    assert "no-shims-in-app" in with_config.stdout or "shims" in with_config.stdout
    positional = run([lint, "--no-logo", contract], cwd=example)
    if IMPORT_LINTER >= (2, 17):
        assert positional.returncode == 1 and positional.stdout == with_config.stdout
        assert "DEPRECATED" in run([lint, "--help"], cwd=example).stdout
    else:  # 2.16: one file, only through --config
        assert positional.returncode == 2


def test_lint_imports_needs_session_options_that_pytest_ssot_inherits(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    contract = """
        [[tool.importlinter.contracts]]
        id = "a-alone"
        name = "a imports nothing"
        type = "forbidden"
        source_modules = ["pkg.a"]
        forbidden_modules = ["pkg.b"]
    """
    write(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "",
            "pkg/b.py": "",
            "contracts/x.toml": contract,
            "pyproject.toml": """
                [tool.pytest.ini_options]
                ssot_contracts = ["contracts/x.toml"]

                [tool.importlinter]
                root_package = "pkg"
            """,
        }
    )
    ours = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:randomly")
    ours.assert_outcomes(passed=1)  # the file inherits root_package from pyproject.toml
    args = ["contracts/x.toml"] if IMPORT_LINTER >= (2, 17) else ["--config", "contracts/x.toml"]
    theirs = run([str(BIN / "lint-imports"), "--no-logo", *args], cwd=pytester.path)
    assert theirs.returncode != 0
    assert "'root_package'" in theirs.stdout + theirs.stderr


# -- the built distribution ------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel, built as CI builds them (the wheel from the sdist).

    .ci/run builds them once before the suite and passes the folder in SSOT_DIST_DIR.
    """
    given = os.environ.get("SSOT_DIST_DIR")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=out)
    if result.returncode != 0 and "Could not find a version" in result.stdout + result.stderr:
        pytest.skip("no package index to build in an isolated environment")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_the_wheel_holds_every_package_file(dist: Path) -> None:
    [wheel] = dist.glob("pytest_ssot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for tracked in subprocess.run(
        ["git", "ls-files", "pytest_ssot"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split():
        assert tracked in names, f"{tracked} is missing from the wheel"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "ssot = pytest_ssot.plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    [sdist] = dist.glob("pytest_ssot-*.tar.gz")
    assert sdist.stat().st_size > 0


def test_the_installed_wheel_runs_the_example(dist: Path, example: Path, tmp_path: Path) -> None:
    [wheel] = dist.glob("pytest_ssot-*.whl")
    target = tmp_path / "site"
    install = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(target)}
    where = run(
        [sys.executable, "-c", "import pytest_ssot; print(pytest_ssot.__file__)"], example, **env
    )
    assert where.stdout.startswith(str(target)), where.stdout  # not the editable checkout
    result = run(
        [str(BIN / "pytest"), "--ssot", "-p", "no:randomly", "--ssot-report=r.json"], example, **env
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "contracts: 2 kept, 2 broken" in result.stdout
    assert (example / "r.json").is_file()  # the report (and its schema file) came with the wheel
