"""Messages that fit the finding: advice per kind, the setting the user used, readable ids."""

from __future__ import annotations

import pytest

from pytest_ssot.model import Violation
from pytest_ssot.reporting.text import ADVICE, DEFAULT_GUIDANCE, advice
from tests.conftest import WriteFiles

TYPES = """
contract_types = [
    "single_source: pytest_ssot.contract_types.SingleSourceContract",
    "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
]
"""

DUPLICATE = {
    "pkg/__init__.py": "",
    "pkg/one.py": "class Manager:\n    pass\n",
    "pkg/two.py": "class Manager:\n    pass\n",
    "pyproject.toml": f"""
[tool.importlinter]
root_package = "pkg"
{TYPES}
[[tool.importlinter.contracts]]
name = "One Manager"
type = "unique_definition"
names = ["Manager"]
canonical_modules = ["pkg.one"]
""",
}


def test_unique_definition_advice_names_its_own_options(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(DUPLICATE)
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "ignore_imports" not in text  # unique_definition has no such option
    result.stdout.fnmatch_lines(
        [
            "What to do: Keep one definition: delete the others and import the name from the "
            "single source (declare it with canonical_modules). If a copy must stay for now, "
            "freeze it in the baseline (--ssot-baseline-update) or list it in the contract's "
            "ignore_definitions.",
        ]
    )


def test_contract_guidance_still_wins(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **DUPLICATE,
            "pyproject.toml": DUPLICATE["pyproject.toml"]
            + 'broken_contract_guidance = "Ask the payments team."\n',
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["What to do: Ask the payments team."])


def test_every_kind_has_advice_that_fits_it() -> None:
    from pytest_ssot.contract_types import KINDS

    for kind in (*KINDS, "import", "undeclared", "cycle"):
        assert kind in ADVICE, kind
    definition_kinds = ("shim-definition", "shadow-subclass", "duplicate-definition")
    for kind in definition_kinds:
        assert "ignore_definitions" in ADVICE[kind] and "ignore_imports" not in ADVICE[kind]
    for kind in ("import", "legacy-import", "shim-import", "canonical-imports-legacy", "cycle"):
        assert "ignore_imports" in ADVICE[kind]
    assert "exhaustive_ignores" in ADVICE["undeclared"]


def test_mixed_kinds_list_each_advice_once() -> None:
    def finding(kind: str) -> Violation:
        return Violation(kind=kind, importer="a", imported="b")

    assert advice([]) == DEFAULT_GUIDANCE
    assert advice([finding("legacy-import"), finding("legacy-import")]) == ADVICE["legacy-import"]
    mixed = advice([finding("legacy-import"), finding("shim-definition"), finding("legacy-import")])
    assert mixed == f"\n  - {ADVICE['legacy-import']}\n  - {ADVICE['shim-definition']}"
    assert advice([finding("some-other-type's-kind")]) == DEFAULT_GUIDANCE


def test_an_unregistered_own_type_says_how_to_register_it(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    write(
        {
            **DUPLICATE,
            "pyproject.toml": DUPLICATE["pyproject.toml"].replace(TYPES, ""),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "unknown contract type 'unique_definition': it is one of pytest-ssot's own types, "
            "which are registered per config file with contract_types. Add to the file's "
            "[[]tool.importlinter[]] (or [[]importlinter[]]) section:",
            '    contract_types = ["unique_definition: '
            'pytest_ssot.contract_types.UniqueDefinitionContract"]',
            "*See docs/contract-types.md, 'Registering them'. Known types here: *",
        ]
    )


def test_a_non_ascii_name_gives_a_readable_id(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(
        {
            **DUPLICATE,
            "pkg/two.py": "",
            "pyproject.toml": DUPLICATE["pyproject.toml"].replace(
                "One Manager", "Cöntract tëst nön-cöde pärsing"
            ),
        }
    )
    result = pytester.runpytest("--ssot", "-p", "no:randomly", "-rA")
    result.stdout.fnmatch_lines(["PASSED pyproject.toml::cöntract-tëst-nön-cöde-pärsing"])
    selected = pytester.runpytest(
        "--ssot", "-p", "no:randomly", "pyproject.toml::cöntract-tëst-nön-cöde-pärsing"
    )
    selected.assert_outcomes(passed=1)
