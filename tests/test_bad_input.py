"""Bad input: a clear message and a non-zero exit, never INTERNALERROR, never a silent pass."""

from __future__ import annotations

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "",
}

FORBIDDEN = """
[[tool.importlinter.contracts]]
id = "{id}"
name = "contract {id}"
type = "forbidden"
source_modules = ["pkg.a"]
forbidden_modules = ["{forbidden}"]
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = pytester.runpytest("--ssot", *args)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str()
    return result


def test_no_config_found(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PACKAGE, "pytest.ini": "[pytest]\n"})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting pytest-ssot*",
            "pytest-ssot: no import-linter configuration found: looked for an ?importlinter? "
            "section in setup.cfg and .importlinter, and ?tool.importlinter? in pyproject.toml*",
        ]
    )


def test_config_without_contracts_is_an_error(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PACKAGE, "setup.cfg": "[importlinter]\nroot_package = pkg\n"})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*no contracts to check: setup.cfg has import-linter session*"])


def test_missing_contract_file(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": "[tool.pytest.ini_options]\n"
            'ssot_contracts = ["contracts/nope.toml"]\n'
            '[tool.importlinter]\nroot_package = "pkg"\n',
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ssot_contracts: 'contracts/nope.toml' does not exist*"])


def test_glob_matching_nothing(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.pytest.ini_options]\nssot_contracts = ["contracts/*.toml"]\n'
            '[tool.importlinter]\nroot_package = "pkg"\n'
            + FORBIDDEN.format(id="x", forbidden="pkg.b"),
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*the pattern 'contracts/*.toml' matches no contract file*"])


def test_toml_syntax_error_names_file_and_line(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.pytest.ini_options]\nssot_contracts = ["contracts"]\n'
            '[tool.importlinter]\nroot_package = "pkg"\n',
            "contracts/good.toml": "[tool.importlinter]\n"
            + FORBIDDEN.format(id="g", forbidden="pkg.b"),
            "contracts/bad.toml": "[tool.importlinter]\n\n"
            '[[tool.importlinter.contracts]]\nname = "x\n',
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting contracts/bad.toml*",
            "pytest-ssot: contracts/bad.toml:4: bad.toml: not a valid TOML file: *line 4*",
        ]
    )


def test_ini_syntax_error_names_file_and_line(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            ".importlinter": "[importlinter]\nroot_package = pkg\nthis line is not ini\n",
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot: .importlinter:3: .importlinter: not a valid INI file: line 3: "
            "cannot parse 'this line is not ini'"
        ]
    )


def test_unknown_contract_type_fails_its_item(pytester: pytest.Pytester, write: WriteFiles) -> None:
    config = '[tool.importlinter]\nroot_package = "pkg"\n' + FORBIDDEN.format(
        id="typo", forbidden="pkg.b"
    ).replace('"forbidden"', '"forbiden"')
    write({**PACKAGE, "pyproject.toml": config})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Contract 'typo' could not be checked: contract typo",
            "unknown contract type 'forbiden'. Known types: acyclic_siblings, forbidden, *",
        ]
    )


def test_every_invalid_contract_is_reported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    config = (
        '[tool.importlinter]\nroot_package = "pkg"\n'
        + FORBIDDEN.format(id="one", forbidden="pkg.b").replace('source_modules = ["pkg.a"]\n', "")
        + FORBIDDEN.format(id="two", forbidden="pkg.b").replace("source_modules", "source_module")
        + FORBIDDEN.format(id="fine", forbidden="pkg.nothing_imports_it")
    )
    write({**PACKAGE, "pyproject.toml": config, "pkg/nothing_imports_it.py": ""})
    result = run(pytester, "-rA")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "Contract 'one' could not be checked: contract one",
            "invalid options for a forbidden contract:",
            "  source_modules: This is a required field.",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "Contract 'two' could not be checked: contract two",
            "invalid options for a forbidden contract:",
            "  source_modules: This is a required field.",
            "  source_module: Unrecognized option. Did you mean 'source_modules'?",
        ],
        consecutive=False,
    )


def test_root_package_not_found(pytester: pytest.Pytester, write: WriteFiles) -> None:
    config = '[tool.importlinter]\nroot_package = "nopkg"\n' + FORBIDDEN.format(
        id="x", forbidden="nopkg.b"
    ).replace("pkg.a", "nopkg.a")
    write({**PACKAGE, "pyproject.toml": config})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["root package 'nopkg' cannot be found on sys.path. Make it importable*"]
    )


def test_module_named_in_contract_does_not_exist(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    config = '[tool.importlinter]\nroot_package = "pkg"\n' + FORBIDDEN.format(
        id="ghost", forbidden="pkg.ghost"
    )
    write({**PACKAGE, "pyproject.toml": config})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Contract 'ghost' could not be checked: contract ghost",
            "*pkg.ghost*",
            "(root packages: pkg)",
        ]
    )


def test_source_syntax_errors_are_all_listed(pytester: pytest.Pytester, write: WriteFiles) -> None:
    config = (
        '[tool.importlinter]\nroot_package = "pkg"\n'
        + FORBIDDEN.format(id="x", forbidden="pkg.b")
        + FORBIDDEN.format(id="y", forbidden="pkg.b")
    )
    write(
        {
            **PACKAGE,
            "pyproject.toml": config,
            "pkg/broken_one.py": "def f(:\n    pass\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/broken_two.py": "x = 1\nprint 'py2'\n",
        }
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "cannot build the import graph for pkg: a source file does not parse (*",
            "Files that do not parse on Python 3.*:",
            "  pkg/broken_one.py:1: *",
            "  pkg/sub/broken_two.py:2: *",
        ]
    )


def test_duplicate_contract_ids_across_files(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.pytest.ini_options]\nssot_contracts = ["contracts"]\n'
            '[tool.importlinter]\nroot_package = "pkg"\n'
            + FORBIDDEN.format(id="same", forbidden="pkg.b"),
            "contracts/other.toml": "[tool.importlinter]\n"
            + FORBIDDEN.format(id="same", forbidden="pkg.b"),
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting contracts/other.toml*",
            "*the contract id 'same' is defined twice: in pyproject.toml:6 and in "
            "contracts/other.toml:3. Contract ids must be unique*",
        ]
    )


def test_contract_without_type(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'
            '[[tool.importlinter.contracts]]\nid = "x"\nname = "x"\n',
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*pyproject.toml:3: pyproject.toml: contract 'x' has no 'type'*"])


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write({**PACKAGE, "pytest.ini": "[pytest]\nssot_max_chains = many\n"})
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot_max_chains must be a positive whole number, not 'many'*"])


def test_custom_type_that_cannot_be_imported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **PACKAGE,
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'
            'contract_types = ["mine: nowhere.Mine"]\n'
            + FORBIDDEN.format(id="x", forbidden="pkg.b").replace('"forbidden"', '"mine"'),
        }
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["contract_types entry 'mine: nowhere.Mine': cannot import 'nowhere': No module named*"]
    )


def test_crashing_custom_type_does_not_hide_other_contracts(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **PACKAGE,
            "crashy.py": """
            from importlinter import Contract


            class Crashy(Contract):
                def check(self, graph, verbose):
                    return {}["boom"]

                def render_broken_contract(self, check):
                    pass
            """,
            "pyproject.toml": '[tool.importlinter]\nroot_package = "pkg"\n'
            'contract_types = ["crashy: crashy.Crashy"]\n'
            '[[tool.importlinter.contracts]]\nid = "crash"\nname = "crash"\ntype = "crashy"\n'
            + FORBIDDEN.format(id="after", forbidden="pkg.b"),
        }
    )
    result = run(pytester, "-rA")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["the contract type crashy.Crashy crashed at *crashy.py:6: KeyError: 'boom'"]
    )
    result.stdout.fnmatch_lines(["Contract 'after' is BROKEN: contract after"])
