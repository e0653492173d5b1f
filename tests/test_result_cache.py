"""The result cache: never served stale, never fatal when it cannot be used."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_ssot.model import GraphKey
from tests.conftest import WriteFiles

if TYPE_CHECKING:
    from pytest_ssot.adapter import BuiltGraph
    from pytest_ssot.fixing.plan import FixPlan

pytestmark = pytest.mark.library_surface

FORBIDDEN_LEGACY = """
[tool.importlinter]
root_package = "pkg"

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "no legacy"
type = "forbidden"
source_modules = ["pkg.a", "pkg.b", "pkg.sub"]
forbidden_modules = ["pkg.legacy"]
"""

BASE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "",
    "pkg/legacy.py": "",
    "pkg/sub/__init__.py": "",
    "pkg/sub/x.py": "",
    "pyproject.toml": FORBIDDEN_LEGACY,
}

REUSED = "results reused, nothing changed since the last run"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--ssot", "--ssot-only", "-p", "no:randomly", *args)


def run_apart(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In a subprocess: pytest's own cache plugin warns at session end when it cannot
    # write, which an in-process run would raise into this test.
    return pytester.runpytest_subprocess("--ssot", "--ssot-only", "-p", "no:randomly", *args)


def reused(result: pytest.RunResult) -> bool:
    return REUSED in result.stdout.str()


def results_files(root: Path) -> list[Path]:
    return sorted((root / ".pytest_cache/d/pytest-ssot").glob("results-*.json"))


# -- what the fingerprint must see ------------------------------------------------------


def test_edit_inside_a_symlinked_subpackage_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    files = {k: v for k, v in BASE.items() if not k.startswith("pkg/sub/")}
    write({**files, "elsewhere/sub/__init__.py": "", "elsewhere/sub/x.py": ""})
    (pytester.path / "pkg/sub").symlink_to(pytester.path / "elsewhere/sub")
    run(pytester).assert_outcomes(passed=1)
    assert reused(run(pytester))
    target = pytester.path / "elsewhere/sub/x.py"
    target.write_text("import pkg.legacy\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.sub.x -> pkg.legacy*"])
    assert not reused(result)


def test_symlinked_subpackage_pointed_elsewhere_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    files = {k: v for k, v in BASE.items() if not k.startswith("pkg/sub/")}
    # Two targets whose files have the same names and sizes.
    write(
        {
            **files,
            "one/sub/__init__.py": "",
            "one/sub/x.py": "import pkg.b\n",
            "two/sub/__init__.py": "",
            "two/sub/x.py": "import pkg.legacy\n",
        }
    )
    link = pytester.path / "pkg/sub"
    link.symlink_to(pytester.path / "one/sub")
    run(pytester).assert_outcomes(passed=1)
    link.unlink()
    link.symlink_to(pytester.path / "two/sub")
    run(pytester).assert_outcomes(failed=1)


def test_symlink_loop_does_not_hang_the_fingerprint(tmp_path: Path) -> None:
    from pytest_ssot.result_cache import stat_files

    (tmp_path / "pkg/inner").mkdir(parents=True)
    (tmp_path / "pkg/__init__.py").write_text("")
    (tmp_path / "pkg/inner/__init__.py").write_text("")
    (tmp_path / "pkg/inner/loop").symlink_to(tmp_path / "pkg")
    files = stat_files(tmp_path / "pkg")
    assert sorted(files) == ["__init__.py", "inner/__init__.py", "inner/loop/"]
    assert files["inner/loop/"] == f"link\0{tmp_path / 'pkg'}"


@pytest.mark.skipif(
    pytest.version_tuple < (8, 1),
    reason="pytest 8.0 fails on -o pythonpath=... (pytest-dev/pytest#11311)",
)
def test_another_copy_on_the_path_is_seen(pytester: pytest.Pytester, write: WriteFiles) -> None:
    clean = {f"v1/{k}": v for k, v in BASE.items() if k.startswith("pkg/")}
    broken = {**clean, "v1/pkg/b.py": "import pkg.legacy\n"}
    write(
        {
            **clean,
            **{k.replace("v1/", "v2/"): v for k, v in broken.items()},
            "pyproject.toml": FORBIDDEN_LEGACY,
        }
    )
    run(pytester, "-o", "pythonpath=v1").assert_outcomes(passed=1)
    run(pytester, "-o", "pythonpath=v2").assert_outcomes(failed=1)


def test_library_versions_are_part_of_the_key(
    pytester: pytest.Pytester, write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot.checking import source_state as checking

    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    assert reused(run(pytester))
    stamps = checking.library_stamps()
    assert set(stamps) == {"importlinter", "grimp"} and "missing" not in stamps.values()
    # Another grimp installed: its __init__.py is written anew.
    monkeypatch.setattr(checking, "library_stamps", lambda: {**stamps, "grimp": "reinstalled"})
    assert not reused(run(pytester))


def test_contract_file_matched_by_a_glob_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    contract = """
    [importlinter:contract:{id}]
    name = {id}
    type = forbidden
    source_modules =
        pkg.a
    forbidden_modules =
        {forbidden}
    """
    write(
        {
            **{k: v for k, v in BASE.items() if k != "pyproject.toml"},
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'
            '[tool.pytest.ini_options]\nssot_contracts = ["contracts/*.ini"]\n',
            "contracts/one.ini": contract.format(id="one", forbidden="pkg.legacy"),
        }
    )
    run(pytester).assert_outcomes(passed=1)
    write({"contracts/one.ini": contract.format(id="one", forbidden="pkg.b")})
    run(pytester).assert_outcomes(failed=1)
    write({"contracts/two.ini": contract.format(id="two", forbidden="pkg.b")})
    run(pytester).assert_outcomes(failed=2)


def test_helper_module_of_a_custom_contract_type_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **{k: v for k, v in BASE.items() if k != "pyproject.toml"},
            "customtypes/__init__.py": "",
            "customtypes/contract.py": """
            from importlinter import Contract, ContractCheck, fields, output

            from customtypes.helpers import FORBIDDEN


            class NoModuleNamed(Contract):
                module = fields.StringField()

                def check(self, graph, verbose):
                    return ContractCheck(kept=FORBIDDEN not in graph.modules)

                def render_broken_contract(self, check):
                    output.print_error(f"{FORBIDDEN} exists, and it should not.")
            """,
            "customtypes/helpers.py": 'FORBIDDEN = "pkg.ghost"\n',
            "pyproject.toml": """
            [tool.importlinter]
            root_package = "pkg"
            contract_types = ["no_module: customtypes.contract.NoModuleNamed"]

            [[tool.importlinter.contracts]]
            id = "no-module"
            name = "no module"
            type = "no_module"
            module = "unused"
            """,
        }
    )
    pytester.runpytest_subprocess("--ssot", "--ssot-only").assert_outcomes(passed=1)
    write({"customtypes/helpers.py": 'FORBIDDEN = "pkg.legacy"  # the old module\n'})
    result = pytester.runpytest_subprocess("--ssot", "--ssot-only")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.legacy exists, and it should not.*"])


# -- folders without an __init__.py --------------------------------------------------------


def test_a_folder_that_becomes_a_package_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # grimp does not read pkg/data while it has no __init__.py: a -> pkg.data.x is no import.
    write(
        {
            **BASE,
            "pkg/a.py": "import pkg.data.x\n",
            "pkg/data/x.py": "import pkg.legacy\n",
            "pkg/data/deep/y.py": "",
        }
    )
    run(pytester).assert_outcomes(passed=1)
    # Nothing grimp reads changed: the results stand.
    (pytester.path / "pkg/data/x.py").write_text("import pkg.legacy  # edited\n")
    (pytester.path / "pkg/data/deep/y.py").write_text("import pkg.legacy\n")
    assert reused(run(pytester))
    (pytester.path / "pkg/data/__init__.py").write_text("")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.a -> pkg.data.x -> pkg.legacy*"])


def test_an_edit_in_a_namespace_subpackage_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # nsroot and nsroot/loose have no __init__.py: grimp reads every file down to the packages.
    write(
        {
            "src/nsroot/a/__init__.py": "",
            "src/nsroot/a/legacy.py": "",
            "src/nsroot/loose/c.py": "",
            "pyproject.toml": """
                [tool.pytest.ini_options]
                pythonpath = ["src"]

                [tool.importlinter]
                root_package = "nsroot"

                [[tool.importlinter.contracts]]
                id = "no-legacy"
                name = "no legacy"
                type = "forbidden"
                source_modules = ["nsroot.loose"]
                forbidden_modules = ["nsroot.a.legacy"]
            """,
        }
    )
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "src/nsroot/loose/c.py").write_text("import nsroot.a.legacy\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*src/nsroot/loose/c.py:1*import nsroot.a.legacy*"])


def test_a_file_in_a_folder_without_init_is_seen_by_scan_unpackaged_dirs(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # The contract reads files grimp skips: every folder stays part of the fingerprint.
    write(
        {
            **{k: v for k, v in BASE.items() if k != "pyproject.toml"},
            "pkg/b.py": "class Payment:\n    pass\n",
            "pkg/scripts/tool.py": "",
            "pyproject.toml": """
                [tool.importlinter]
                root_package = "pkg"
                contract_types = [
                    "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
                ]

                [[tool.importlinter.contracts]]
                id = "one-payment"
                name = "one Payment"
                type = "unique_definition"
                names = ["Payment"]
                scan_unpackaged_dirs = true
            """,
        }
    )
    run_apart(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/scripts/tool.py").write_text("class Payment:\n    pass\n")
    result = run_apart(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.scripts.tool defines class Payment*"])


# -- a cache that cannot be used ----------------------------------------------------------


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or folder unwritable, even for root (chattr +i), and undo it afterwards."""
    done: list[Path] = []
    as_root = os.geteuid() == 0

    def make(path: Path) -> None:
        if as_root:
            if shutil.which("chattr") is None:
                pytest.skip("running as root without chattr: cannot make a file read-only")
            proc = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if proc.returncode != 0:
                pytest.skip(f"chattr +i not supported here: {proc.stderr.decode().strip()}")
        else:
            path.chmod(0o555 if path.is_dir() else 0o444)
        done.append(path)

    yield make
    for path in reversed(done):
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def cache_warnings(result: pytest.RunResult) -> int:
    return result.stdout.str().count("pytest-ssot: the result cache cannot be used")


def test_pytest_cache_that_is_a_file(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**BASE, "pkg/b.py": "import pkg.legacy\n"})
    (pytester.path / ".pytest_cache").write_text("not a folder\n")
    result = run_apart(pytester)
    result.assert_outcomes(failed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert cache_warnings(result) == 1
    result.stdout.fnmatch_lines(["*pkg.b -> pkg.legacy*"])
    assert (pytester.path / ".pytest_cache").read_text() == "not a folder\n"


def test_read_only_checkout_without_a_cache(
    pytester: pytest.Pytester, write: WriteFiles, read_only: Callable[[Path], None]
) -> None:
    write({f"checkout/{name}": text for name, text in BASE.items()})
    checkout = pytester.path / "checkout"
    read_only(checkout)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--ssot", "--ssot-only", "-p", "no:randomly"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert done.stdout.count("pytest-ssot: the result cache cannot be used") == 1
    assert "1 passed" in done.stdout
    assert not (checkout / ".pytest_cache").exists()


def test_read_only_cache_files(
    pytester: pytest.Pytester, write: WriteFiles, read_only: Callable[[Path], None]
) -> None:
    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    cache = pytester.path / ".pytest_cache/d/pytest-ssot"
    for path in sorted(cache.rglob("*")):
        if path.is_file():
            read_only(path)
    (pytester.path / "pkg/b.py").write_text("import pkg.legacy  # now broken\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert cache_warnings(result) == 1
    result.stdout.fnmatch_lines(["*pkg.b -> pkg.legacy*"])


@pytest.mark.parametrize("content", ["[]", "{}", '{"fingerprint": 5, "results": "x"}', "null"])
def test_results_file_of_the_wrong_shape_is_rebuilt(
    pytester: pytest.Pytester, write: WriteFiles, content: str
) -> None:
    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    (path,) = results_files(pytester.path)
    path.write_text(content)
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert not reused(result)
    assert isinstance(json.loads(path.read_text()), dict)
    assert reused(run(pytester))


# -- an edit that keeps every import: reused, with the new line numbers ----------------------

EDITED = "1 edited file import the same modules as before"


def test_edit_without_an_import_change_shows_the_new_line_numbers(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**BASE, "pkg/b.py": "from . import legacy\n"})
    first = run(pytester)
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*pkg/b.py:1*"])
    b = pytester.path / "pkg/b.py"
    b.write_text('"""Now documented."""\n\n\nfrom . import legacy\n\nX = 1\n')
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines(["*pkg.b -> pkg.legacy*", "*pkg/b.py:4*from . import legacy*"])
    assert "pkg/b.py:1" not in result.stdout.str()
    # The stored results now hold the new lines: the next run says nothing changed.
    again = run(pytester)
    assert reused(again)
    again.stdout.fnmatch_lines(["*pkg/b.py:4*"])


def test_an_import_added_by_an_edit_is_seen(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/sub/x.py").write_text("import pkg.legacy\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert not reused(result) and EDITED not in result.stdout.str()


def test_an_import_removed_by_an_edit_is_seen(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**BASE, "pkg/b.py": "import pkg.legacy\nimport pkg.a\n"})
    run(pytester).assert_outcomes(failed=1)
    (pytester.path / "pkg/b.py").write_text("# import pkg.legacy\nimport pkg.a\n")
    run(pytester).assert_outcomes(passed=1)


def test_an_import_swapped_in_a_file_of_the_same_size_and_time_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**BASE, "pkg/a.py": "import pkg.legaci\n", "pkg/legaci.py": ""})
    run(pytester).assert_outcomes(passed=1)
    a = pytester.path / "pkg/a.py"
    stat = a.stat()
    a.write_text("import pkg.legacy\n")  # same size; the old modification time put back
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert not reused(result) and EDITED not in result.stdout.str()


def test_a_file_added_or_removed_is_seen(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    added = pytester.path / "pkg/sub/y.py"
    added.write_text("import pkg.legacy\n")
    run(pytester).assert_outcomes(failed=1)
    added.unlink()
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert not reused(result) and EDITED not in result.stdout.str()


def test_an_import_only_an_ignore_entry_matched_removed_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # The removed import is on no chain shown, so re-lining the stored chains cannot notice
    # it; only comparing the edited file's imports with the stored ones can.
    write(
        {
            **BASE,
            "pkg/b.py": "import pkg.legacy\n",
            "pyproject.toml": FORBIDDEN_LEGACY + 'ignore_imports = ["pkg.b -> pkg.legacy"]\n',
        }
    )
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/b.py").write_text("# import pkg.legacy\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*No matches for ignored import pkg.b -> pkg.legacy*"])
    assert not reused(result) and EDITED not in result.stdout.str()


@pytest.mark.parametrize("statement", ["import pkg.extra", "from pkg import extra"])
def test_a_file_added_that_an_unchanged_file_already_imports_is_seen(
    pytester: pytest.Pytester, write: WriteFiles, statement: str
) -> None:
    # grimp's cache keeps pkg.a's imports as resolved when pkg.extra did not exist (no
    # import, or an import of pkg): a run that trusts it misses a -> extra -> legacy.
    write({**BASE, "pkg/a.py": f"import pkg.b\n{statement}\n"})
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/extra.py").write_text("import pkg.legacy\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg.a -> pkg.extra -> pkg.legacy*"])
    # And the other way: the module removed, no import of it is left in the graph.
    (pytester.path / "pkg/extra.py").unlink()
    again = run(pytester)
    again.assert_outcomes(passed=1)
    assert "pkg.extra" not in again.stdout.str()


@pytest.mark.parametrize("change", ["added", "removed"])
def test_a_file_added_or_removed_beside_an_edit_is_seen(
    pytester: pytest.Pytester, write: WriteFiles, change: str
) -> None:
    # The other file's edit keeps its imports: taken alone it would be served re-lined.
    extra = pytester.path / "pkg/sub/y.py"
    write({**BASE, **({"pkg/sub/y.py": "import pkg.legacy\n"} if change == "removed" else {})})
    before = run(pytester)
    before.assert_outcomes(**({"passed": 1} if change == "added" else {"failed": 1}))
    if change == "added":
        extra.write_text("import pkg.legacy\n")
    else:
        extra.unlink()
    (pytester.path / "pkg/a.py").write_text("# edited\nimport pkg.b\n")
    result = run(pytester)
    result.assert_outcomes(**({"failed": 1} if change == "added" else {"passed": 1}))
    assert not reused(result) and EDITED not in result.stdout.str()


def test_line_numbers_after_an_edit_that_changes_an_import_are_the_new_ones(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**BASE, "pkg/b.py": "import pkg.legacy\n"})
    run(pytester).stdout.fnmatch_lines(["*pkg/b.py:1*import pkg.legacy*"])
    # The chain's own import moves down; another import of the same file is added.
    (pytester.path / "pkg/b.py").write_text('"""b."""\n\nimport pkg.sub\n\nimport pkg.legacy\n')
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg/b.py:5*import pkg.legacy*"])
    assert "pkg/b.py:1" not in result.stdout.str()


def test_an_edit_that_breaks_the_syntax_is_seen(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(BASE)
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/b.py").write_text("def broken(:\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pkg/b.py*"])
    assert "does not parse" in result.stdout.str()


def test_edit_in_a_group_with_a_content_based_contract_type_checks_again(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    files = {k: v for k, v in BASE.items() if k != "pyproject.toml"}
    write(
        {
            **files,
            "pkg/b.py": "class Payment:\n    pass\n",
            "pyproject.toml": FORBIDDEN_LEGACY.replace(
                'root_package = "pkg"\n',
                'root_package = "pkg"\ncontract_types = '
                '["unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract"]\n',
            )
            + """
            [[tool.importlinter.contracts]]
            id = "one-payment"
            name = "one Payment"
            type = "unique_definition"
            names = ["Payment"]
            """.replace("            ", ""),
        }
    )
    run(pytester).assert_outcomes(passed=2)
    (pytester.path / "pkg/a.py").write_text("import pkg.b\n\n\nclass Payment:\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)


def test_edit_adding_a_load_by_name_is_seen_with_static_dynamic_imports(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # The graph then depends on calls in the code, not on imports alone.
    write(
        {
            **BASE,
            "pyproject.toml": FORBIDDEN_LEGACY
            + "[tool.pytest.ini_options]\nssot_static_dynamic_imports = true\n",
            "pkg/b.py": "import importlib\n",
        }
    )
    run(pytester).assert_outcomes(passed=1)
    (pytester.path / "pkg/b.py").write_text(
        'import importlib\n\n\ndef load():\n    return importlib.import_module("pkg.legacy")\n'
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert EDITED not in result.stdout.str()


# -- the fix shown under a chain, from cached results --------------------------------------

FIXABLE = {
    "pyproject.toml": """
        [tool.importlinter]
        root_package = "app"

        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "web code does not import the legacy package"
        type = "forbidden"
        source_modules = ["app.web"]
        forbidden_modules = ["app.legacy"]
    """,
    "app/__init__.py": "",
    "app/core.py": "class Manager:\n    pass\n",
    "app/legacy/__init__.py": "",
    "app/legacy/shim.py": "from app.core import Manager\n",
    "app/web/__init__.py": "",
    "app/web/user.py": "from app.legacy.shim import Manager\n",
}
FIX_LINE = "*fix: from app.legacy.shim import Manager  ->  from app.core import Manager*"


@pytest.fixture
def graph_builds(monkeypatch: pytest.MonkeyPatch) -> list[GraphKey]:
    """The graphs built from now on in this process (the runs are in-process)."""
    import pytest_ssot.adapter as adapter

    built: list[GraphKey] = []
    real = adapter.build_graph

    def counting(key: GraphKey, cache_dir: Path | None) -> BuiltGraph:
        built.append(key)
        return real(key, cache_dir)

    monkeypatch.setattr(adapter, "build_graph", counting)
    return built


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per fix plan made from now on in this process."""
    from pytest_ssot.fixing.runner import Fixer

    made: list[int] = []
    real = Fixer._make_plan

    def counting(self: Fixer) -> FixPlan:
        made.append(1)
        return real(self)

    monkeypatch.setattr(Fixer, "_make_plan", counting)
    return made


def test_fix_lines_from_cached_results_build_no_graph(
    pytester: pytest.Pytester, write: WriteFiles, graph_builds: list[GraphKey], plans: list[int]
) -> None:
    write(FIXABLE)
    first = run(pytester)
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines([FIX_LINE])
    assert len(graph_builds) == 1 and len(plans) == 1
    graph_builds.clear()
    plans.clear()
    again = run(pytester)
    again.assert_outcomes(failed=1)
    assert reused(again)
    again.stdout.fnmatch_lines([FIX_LINE])
    assert graph_builds == [] and plans == []  # the fixes shown were stored with the results
    # An edit that keeps every import keeps the graph: planned again (the statement may
    # have changed), the new line shown, and still no graph built.
    (pytester.path / "app/web/user.py").write_text(
        '"""Users."""\n\nfrom app.legacy.shim import Manager\n'
    )
    edited = run(pytester)
    assert EDITED in edited.stdout.str()
    edited.stdout.fnmatch_lines(["*app/web/user.py:3*", FIX_LINE])
    assert graph_builds == [] and len(plans) == 1
    # A change of what the fix would import from is seen: the stored fixes are not served.
    (pytester.path / "app/legacy/shim.py").write_text(
        "from app.core import Manager\n\nif Manager:\n    from app.core import Manager\n"
    )
    changed = run(pytester)
    changed.stdout.fnmatch_lines(["*not fixable: *binds Manager conditionally*"])
    assert FIX_LINE.strip("*") not in changed.stdout.str()


def test_fix_lines_are_not_served_for_a_changed_graph(
    pytester: pytest.Pytester, write: WriteFiles, graph_builds: list[GraphKey]
) -> None:
    # A second contract forbids the fix's target once an import makes it reachable.
    write(
        {
            **FIXABLE,
            "pyproject.toml": FIXABLE["pyproject.toml"]
            + """
            [[tool.importlinter.contracts]]
            id = "no-core-from-strict"
            name = "the strict module does not reach app.core"
            type = "forbidden"
            source_modules = ["app.web.user"]
            forbidden_modules = ["app.core"]
            allow_indirect_imports = true
            ignore_imports = ["app.web.user -> app.legacy.shim"]
            """.replace("            ", ""),
        }
    )
    refused = "*not fixable*app.core would break contract 'no-core-from-strict'*"
    run(pytester).stdout.fnmatch_lines([refused])
    (pytester.path / "app/web/other.py").write_text("import app.core\n")
    graph_builds.clear()
    second = run(pytester)
    assert graph_builds, "a file was added: the graph must be built again"
    second.stdout.fnmatch_lines([refused])


# -- the SSOT contract types' facts, stored between runs -------------------------------------

SSOT_CONFIG = """
[tool.importlinter]
root_package = "shop"
contract_types = [
    "single_source: pytest_ssot.contract_types.SingleSourceContract",
    "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
]

[[tool.importlinter.contracts]]
id = "one-payment"
name = "Payment and Invoice are defined once"
type = "unique_definition"
names = ["Payment", "Invoice"]

[[tool.importlinter.contracts]]
id = "billing-home"
name = "billing lives in shop.billing; shop.old only forwards"
type = "single_source"
canonical_modules = ["shop.billing"]
legacy_modules = ["shop.old"]
"""

SHOP = {
    "pyproject.toml": SSOT_CONFIG,
    "shop/__init__.py": "",
    "shop/billing.py": "class Payment:\n    pass\n\n\nclass Invoice:\n    pass\n",
    "shop/old.py": "from shop.billing import Invoice, Payment\n",
    "shop/cart.py": "from shop.billing import Payment\n\n\ndef total():\n    return 1\n",
    "shop/views.py": "import shop.cart\n",
    "shop/util.py": "def helper():\n    return 2\n",
    # Reports what the SSOT contract types read in this process.
    "conftest.py": """
        import json


        def pytest_sessionfinish(session):
            from pytest_ssot.contract_types._source_index import CACHE

            with open("read.json", "w") as out:
                json.dump({"reads": CACHE.reads, "parses": CACHE.parses}, out)
            with open("looks.json", "w") as out:
                json.dump(CACHE.looks, out)
    """,
}


def read_counts(pytester: pytest.Pytester) -> dict[str, int]:
    counts: dict[str, int] = json.loads((pytester.path / "read.json").read_text())
    return counts


def settle() -> None:
    """Let the files age past the window in which their facts are not stored (racy)."""
    time.sleep(1.2)


def test_facts_are_read_again_only_for_the_edited_file(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(SHOP)
    settle()
    run_apart(pytester).assert_outcomes(passed=2)
    assert read_counts(pytester)["reads"] == 6  # every module, once for both contracts
    assert reused(run_apart(pytester))
    assert read_counts(pytester) == {"reads": 0, "parses": 0}
    (pytester.path / "shop/util.py").write_text("def helper():\n    return 3\n")
    settle()
    result = run_apart(pytester)
    result.assert_outcomes(passed=2)
    assert not reused(result)
    assert read_counts(pytester) == {"reads": 1, "parses": 0}


def test_both_contracts_of_a_run_look_at_each_file_once(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # One stat per file and one module-to-file map for the run, not one per contract.
    write(SHOP)
    run_apart(pytester).assert_outcomes(passed=2)
    assert json.loads((pytester.path / "looks.json").read_text()) == 6
    assert read_counts(pytester)["reads"] == 6


def test_stored_facts_never_hide_an_edit(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(SHOP)
    settle()
    run_apart(pytester).assert_outcomes(passed=2)
    cart = pytester.path / "shop/cart.py"
    cart.write_text(SHOP["shop/cart.py"] + "\n\nclass Invoice:\n    pass\n")
    result = run_apart(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*shop.cart defines class Invoice*", "*shop/cart.py:8*"])
    settle()
    cart.write_text(SHOP["shop/cart.py"])
    run_apart(pytester).assert_outcomes(passed=2)


def test_stored_facts_see_files_added_and_removed(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(SHOP)
    settle()
    run_apart(pytester).assert_outcomes(passed=2)
    added = pytester.path / "shop/extra.py"
    added.write_text("class Payment:\n    pass\n")
    result = run_apart(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*shop.extra defines class Payment*"])
    settle()
    added.unlink()
    run_apart(pytester).assert_outcomes(passed=2)
    # The shim gains code of its own: its stored facts (a pure forwarder) must not stand.
    (pytester.path / "shop/old.py").write_text(
        SHOP["shop/old.py"] + "\n\ndef legacy_total():\n    return 0\n"
    )
    result = run_apart(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*shop.old has function legacy_total of its own*"])


def test_stored_facts_follow_an_edit_behind_a_symlinked_file(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**SHOP, "elsewhere/util.py": SHOP["shop/util.py"]})
    (pytester.path / "shop/util.py").unlink()
    (pytester.path / "shop/util.py").symlink_to(pytester.path / "elsewhere/util.py")
    settle()
    run_apart(pytester).assert_outcomes(passed=2)
    (pytester.path / "elsewhere/util.py").write_text("class Payment:\n    pass\n")
    result = run_apart(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*shop.util defines class Payment*"])


def test_planning_fixes_after_an_edit_parses_only_the_edited_file(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write({**FIXABLE, "app/extra.py": "class X:\n    pass\n", "conftest.py": SHOP["conftest.py"]})
    settle()
    run_apart(pytester).stdout.fnmatch_lines([FIX_LINE])
    # The cold plan parses the modules that name the object (not app/extra.py) ...
    assert read_counts(pytester)["parses"] > 1
    (pytester.path / "app/web/user.py").write_text(
        '"""Users."""\n\nfrom app.legacy.shim import Manager\n'
    )
    result = run_apart(pytester)
    result.stdout.fnmatch_lines(["*app/web/user.py:3*", FIX_LINE])
    assert read_counts(pytester)["parses"] == 1
