"""Config input that cannot be checked: a clear error naming the file, never a silent pass.

Issue 12, "Silent passes" and "Clear errors instead of tracebacks": contract
sources that cannot be read, INI files without a section header, values of the
wrong type, ``ssot_config`` naming something that is not a file.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "",
}

KEPT = """
[[tool.importlinter.contracts]]
id = "{id}"
name = "contract {id}"
type = "forbidden"
source_modules = ["pkg.b"]
forbidden_modules = ["pkg.a"]
"""

WITH_FOLDER = (
    '[tool.pytest.ini_options]\nssot_contracts = ["contracts"]\n'
    '[tool.importlinter]\nroot_package = "pkg"\n'
)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = pytester.runpytest("--ssot", "-p", "no:cacheprovider", *args)
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    return result


# ---------------------------------------------------------------------------
# Contract sources that cannot be read


def test_dangling_symlink_in_contracts_folder_is_an_error(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = write(
        {**PACKAGE, "pyproject.toml": WITH_FOLDER, "contracts/a.toml": KEPT.format(id="a")}
    )
    (root / "contracts" / "gone.toml").symlink_to("moved-away.toml")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot: ssot_contracts: contracts/gone.toml is a dangling symlink "
            "(it points to moved-away.toml, which does not exist)*"
        ]
    )


def test_dangling_symlink_named_in_ssot_contracts(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = write(
        {
            **PACKAGE,
            "pyproject.toml": WITH_FOLDER.replace('"contracts"', '"gone.toml"')
            + KEPT.format(id="a"),
        }
    )
    (root / "gone.toml").symlink_to("moved-away.toml")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ssot_contracts: 'gone.toml' is a dangling symlink*"])


def test_symlinked_subfolder_is_read(pytester: pytest.Pytester, write: WriteFiles) -> None:
    """A linked folder of contracts is followed, not skipped: its broken contract fails."""
    root = write(
        {
            **PACKAGE,
            "pyproject.toml": WITH_FOLDER,
            "contracts/a.toml": KEPT.format(id="a"),
            "shared/broken.toml": KEPT.format(id="broken")
            .replace('["pkg.b"]', '["pkg.a"]')
            .replace('forbidden_modules = ["pkg.a"]', 'forbidden_modules = ["pkg.b"]'),
        }
    )
    (root / "contracts" / "shared").symlink_to(root / "shared", target_is_directory=True)
    result = run(pytester, "-rA")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # Shown under its real path (a file reached twice is checked once).
    result.stdout.fnmatch_lines(["FAILED shared/broken.toml::broken*"])


def test_symlink_loop_in_contracts_folder(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = write(
        {**PACKAGE, "pyproject.toml": WITH_FOLDER, "contracts/a.toml": KEPT.format(id="a")}
    )
    (root / "contracts" / "again").symlink_to(root / "contracts", target_is_directory=True)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*the folder contracts/again is a symlink loop*"])


def _unreadable_runner() -> list[str] | None:
    """The command prefix under which a mode-000 folder really cannot be read.

    Not root: nothing. Root: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH with
    setpriv, so the kernel applies the permission bits to root as to anyone.
    None when neither is possible.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [
        setpriv,
        "--bounding-set=-dac_override,-dac_read_search",
        "--inh-caps=-dac_override,-dac_read_search",
        "--",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_unreadable_subfolder_in_contracts_folder_is_an_error(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    prefix = _unreadable_runner()
    if prefix is None:
        pytest.skip("running as root without setpriv: a mode-000 folder stays readable")
    root = write(
        {
            **PACKAGE,
            "pyproject.toml": WITH_FOLDER,
            "contracts/a.toml": KEPT.format(id="a"),
            "contracts/team/broken.toml": KEPT.format(id="broken"),
        }
    )
    locked = root / "contracts" / "team"
    locked.chmod(0)
    try:
        # A real process with real permissions: in-process fault injection would not
        # show that the kernel's refusal reaches the user.
        result = pytester.run(
            *prefix, sys.executable, "-m", "pytest", "--ssot", "-p", "no:cacheprovider",
            "--ssot-only", timeout=120,
        )  # fmt: skip
    finally:
        locked.chmod(0o755)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot: ssot_contracts: cannot read the folder contracts/team: "
            "Permission denied. Its contract files would not be checked*"
        ]
    )


# ---------------------------------------------------------------------------
# INI files and value types


def test_ini_without_section_header(pytester: pytest.Pytester, write: WriteFiles) -> None:
    # (setup.cfg is pytest's own config file too: pytest refuses it before we run.)
    name = ".importlinter"
    write({**PACKAGE, name: "root_package = pkg\n[importlinter]\nroot_package = pkg\n"})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            f"pytest-ssot: {name}:1: {name}: not a valid INI file: line 1: 'root_package = pkg' "
            "comes before any [[]section] header*"
        ]
    )


def test_contract_ini_without_section_header(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": WITH_FOLDER + KEPT.format(id="a"),
            "contracts/mine.ini": "name = mine\ntype = forbidden\n",
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*contracts/mine.ini:1: mine.ini: not a valid INI file: line 1: 'name = mine' comes*"]
    )


CONTRACT = """
[tool.importlinter]
root_package = {root}

[[tool.importlinter.contracts]]
id = "x"
name = {name}
type = {type}
source_modules = {sources}
forbidden_modules = ["pkg.b"]
"""


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "root",
            "5",
            "*pyproject.toml: [[]tool.importlinter[]], field 'root_package': expected a string, "
            "got the integer 5",
        ),
        (
            "sources",
            "5",
            "pyproject.toml:4: pyproject.toml: contract 'x', field 'source_modules': "
            "expected an array of strings, got the integer 5",
        ),
        (
            "sources",
            '["pkg.a", 3]',
            "pyproject.toml:4: pyproject.toml: contract 'x', field 'source_modules': "
            "expected an array of strings, got an array holding the integer 3",
        ),
        (
            "sources",
            "{a = 1}",
            "*contract 'x', field 'source_modules': expected an array of strings, got a table",
        ),
        (
            "name",
            "5",
            "pyproject.toml:4: pyproject.toml: contract id 'x' (line 4), field 'name': "
            "expected a string, got the integer 5",
        ),
        (
            "type",
            "5",
            "pyproject.toml:4: pyproject.toml: contract 'x', field 'type': expected a string, "
            "got the integer 5",
        ),
        (
            "type",
            '["forbidden"]',
            "*contract 'x', field 'type': expected a string, got an array",
        ),
    ],
)
def test_wrong_types_name_file_contract_field_and_type(
    pytester: pytest.Pytester, write: WriteFiles, field: str, value: str, expected: str
) -> None:
    values = {"root": '"pkg"', "name": '"x"', "type": '"forbidden"', "sources": '["pkg.a"]'}
    values[field] = value
    write({**PACKAGE, "pyproject.toml": CONTRACT.format(**values)})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"pytest-ssot: {expected}"])


def test_root_packages_with_a_number(pytester: pytest.Pytester, write: WriteFiles) -> None:
    toml = CONTRACT.format(root='"pkg"', name='"x"', type='"forbidden"', sources='["pkg.a"]')
    toml = toml.replace('root_package = "pkg"', "root_packages = [1]")
    write({**PACKAGE, "pyproject.toml": toml})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*field 'root_packages': expected an array of strings, got an array holding the integer 1"]
    )


# ---------------------------------------------------------------------------
# ssot_config naming something that is not a file


def test_ssot_config_is_a_directory(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PACKAGE, "pytest.ini": "[pytest]\nssot_config = lint\n", "lint/setup.cfg": ""})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["pytest-ssot: ssot_config: 'lint' is a directory, not a config file*"]
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_ssot_config_is_a_fifo(pytester: pytest.Pytester, write: WriteFiles) -> None:
    root = write({**PACKAGE, "pytest.ini": "[pytest]\nssot_config = lint.cfg\n"})
    os.mkfifo(root / "lint.cfg")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["pytest-ssot: ssot_config: 'lint.cfg' is a FIFO (named pipe), not a config file*"]
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="mknod needs root")
def test_ssot_config_is_a_device(pytester: pytest.Pytester, write: WriteFiles) -> None:
    """Like ssot_config = /dev/null, on a device node made for the test (not the real /dev)."""
    import stat

    root = write({**PACKAGE})
    device = root / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (root / "pytest.ini").write_text(f"[pytest]\nssot_config = {device}\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [f"pytest-ssot: ssot_config: '{device}' is a character device, not a config file*"]
    )


def test_dangling_project_config_is_not_skipped(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    root = write({**PACKAGE, "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'})
    (root / ".importlinter").symlink_to(Path("config") / "importlinter.ini")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*.importlinter is a dangling symlink*"])


# ---------------------------------------------------------------------------
# Contracts that check nothing

SSOT_TYPES = (
    'contract_types = ["unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",'
    ' "single_source: pytest_ssot.contract_types.SingleSourceContract"]\n'
)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            'type = "unique_definition"\nnames = []',
            [
                "invalid options for a unique_definition contract:",
                "  names: is empty, so the contract checks nothing: list at least one name or "
                "name pattern.",
            ],
        ),
        (
            'type = "forbidden"\nsource_modules = ["pkg.a"]\nforbidden_modules = []',
            [
                "invalid options for a forbidden contract:",
                "  forbidden_modules: is empty, so the contract checks nothing: list at least "
                "one module (or remove the contract).",
            ],
        ),
        (
            'type = "forbidden"\nsource_modules = []\nforbidden_modules = ["pkg.b"]',
            ["  source_modules: is empty, so the contract checks nothing*"],
        ),
        ('type = "layers"\nlayers = []', ["  layers: is empty, so the contract checks nothing*"]),
        (
            'type = "layers"\nlayers = ["pkg.a"]',
            ["  layers: names only the layer 'pkg.a', so the contract checks nothing*"],
        ),
        (
            'type = "independence"\nmodules = ["pkg.a"]',
            [
                "invalid options for an independence contract:",
                "  modules: names only 'pkg.a', so the contract checks nothing*",
            ],
        ),
        (
            'type = "acyclic_siblings"\nancestors = []',
            ["  ancestors: is empty, so the contract checks nothing*"],
        ),
        (
            'type = "protected"\nprotected_modules = []\nallowed_importers = ["pkg.a"]',
            ["  protected_modules: is empty, so the contract checks nothing*"],
        ),
        (
            'type = "single_source"\ncanonical_modules = []\nlegacy_modules = ["pkg.a"]',
            ["  canonical_modules: is empty, so the contract checks nothing*"],
        ),
    ],
)
def test_contract_that_checks_nothing_is_an_error(
    pytester: pytest.Pytester, write: WriteFiles, options: str, expected: list[str]
) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'
            + SSOT_TYPES
            + f'[[tool.importlinter.contracts]]\nid = "x"\nname = "x"\n{options}\n',
        }
    )
    result = run(pytester, "-rA")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["Contract 'x' could not be checked: x", "*", *expected])


def test_empty_names_are_invalid_options_of_the_type_itself() -> None:
    """The check lives in the contract type, so plain lint-imports refuses it as well."""
    from importlinter.domain.contract import InvalidContractOptions

    from pytest_ssot.contract_types import UniqueDefinitionContract

    with pytest.raises(InvalidContractOptions) as raised:
        UniqueDefinitionContract(
            name="x",
            session_options={"root_packages": ["pytest_ssot"]},
            contract_options={"names": []},
        )
    assert raised.value.errors == {
        "names": "is empty, so the contract checks nothing: list at least one name or name pattern."
    }


# ---------------------------------------------------------------------------
# Rules that can never match


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "ssot_watch_modules",
            "pkg/core",
            "ERROR: pytest-ssot: ini option ssot_watch_modules: 'pkg/core' is not a module "
            "expression: "
            "'pkg/core' is not a Python name: write a dotted module name such as 'myapp.core', "
            "not a file path",
        ),
        (
            "ssot_watch_modules",
            "pkg.core.py",
            "*ssot_watch_modules: 'pkg.core.py' is not a module expression: it names a file; "
            "write the module name ('pkg.core')",
        ),
        (
            "ssot_watch_modules",
            "pkg.legacy-api",
            "*ssot_watch_modules: 'pkg.legacy-api' is not a module expression: 'legacy-api' is "
            "not a Python name",
        ),
        (
            "ssot_double_load_allow",
            "src/pkg",
            "ERROR: pytest-ssot: ini option ssot_double_load_allow: 'src/pkg' is not a module "
            "expression*",
        ),
        (
            "ssot_runtime_imports_ignore",
            "pkg.a -> pkg/b.py",
            "*ini option ssot_runtime_imports_ignore: 'pkg/b.py' is not a module expression: it "
            "names a file; write the module name ('pkg.b')",
        ),
    ],
)
def test_rule_that_can_never_match_is_a_usage_error(
    pytester: pytest.Pytester, write: WriteFiles, key: str, value: str, expected: str
) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": f"[tool.pytest.ini_options]\n{key} = [{value!r}]\n"
            '[tool.importlinter]\nroot_package = "pkg"\n' + KEPT.format(id="a"),
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])
