"""Generated configuration, fed to real runs: never a crash, never a pass without a check.

Hypothesis writes import-linter configs (TOML and INI, the project's own and
contract files in an ``ssot_contracts`` folder) and pytest-ssot's ini keys, from
valid to hostile: wrong types, empty lists, paths where module names belong,
missing section headers, unknown contract types. Every run must end with a clear
message: never an INTERNALERROR, never a traceback, and never exit 0 unless every
contract written was checked and kept.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "import pkg.b\n",
    "pkg/b.py": "class Thing:\n    pass\n",
}
SSOT_TYPES = [
    "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
    "single_source: pytest_ssot.contract_types.SingleSourceContract",
]

modules = st.sampled_from(
    ["pkg", "pkg.a", "pkg.b", "pkg.*", "pkg.**", "pkg.nope", "myapp/core", "pkg.a.py", "1x", ""]
)
junk = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=6),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
    st.lists(st.one_of(st.integers(0, 3), st.booleans(), modules), max_size=3),
)
module_lists = st.one_of(st.lists(modules, max_size=3), modules, junk)
contract_types = st.sampled_from(
    [
        "forbidden",
        "layers",
        "independence",
        "protected",
        "acyclic_siblings",
        "unique_definition",
        "single_source",
        "no-such-type",
    ]
)


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    """One contract's options: mostly well-formed, some fields wrong or missing."""
    ctype = draw(contract_types)
    options: dict[str, Any] = {"name": draw(st.sampled_from(["a contract", "other", "x"]))}
    options["type"] = ctype
    fields = {
        "forbidden": ("source_modules", "forbidden_modules"),
        "layers": ("layers",),
        "independence": ("modules",),
        "protected": ("protected_modules", "allowed_importers"),
        "acyclic_siblings": ("ancestors",),
        "unique_definition": ("names",),
        "single_source": ("canonical_modules", "legacy_modules"),
    }.get(ctype, ("source_modules",))
    for field in fields:
        if field == "names":
            options[field] = draw(
                st.one_of(
                    st.lists(st.sampled_from(["Thing", "*Manager", "1bad"]), max_size=2), junk
                )
            )
        else:
            options[field] = draw(module_lists)
    if draw(st.booleans()):  # break one thing on purpose
        key = draw(st.sampled_from(["name", "type", *fields, "ignore_imports"]))
        if draw(st.booleans()):
            options.pop(key, None)
        else:
            options[key] = draw(junk)
    return options


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, integers and booleans read the same in TOML


def ini_value(value: Any) -> str:
    if isinstance(value, list):
        return "".join(f"\n    {v}" for v in value)
    return f" {value}"


def to_toml(session: dict[str, Any] | None, items: list[dict[str, Any]], ids: list[str]) -> str:
    out = ["[tool.importlinter]"]
    for key, value in (session or {}).items():
        out.append(f"{key} = {toml_value(value)}")
    for cid, item in zip(ids, items, strict=True):
        out += ["", "[[tool.importlinter.contracts]]", f'id = "{cid}"']
        out += [f"{key} = {toml_value(value)}" for key, value in item.items()]
    return "\n".join(out) + "\n"


def to_ini(
    session: dict[str, Any] | None, items: list[dict[str, Any]], ids: list[str], header: bool
) -> str:
    out = []
    if session is not None:
        if header:
            out.append("[importlinter]")
        out += [f"{key} ={ini_value(value)}" for key, value in session.items()]
    for cid, item in zip(ids, items, strict=True):
        out.append(f"[importlinter:contract:{cid}]")
        out += [f"{key} ={ini_value(value)}" for key, value in item.items()]
    return "\n".join(out) + "\n"


sessions = st.fixed_dictionaries(
    {
        "root_package": st.one_of(st.just("pkg"), st.just("pkg"), st.just("nope"), junk),
        "contract_types": st.one_of(st.just(SSOT_TYPES), junk),
    }
)
LINE_KEYS = (
    "ssot_watch_modules",
    "ssot_double_load_allow",
    "ssot_runtime_imports_ignore",
    "ssot_runtime_imports_per_contract",
)
STRING_KEYS = ("ssot_double_load", "ssot_max_chains", "ssot_runtime_imports")
line_values = st.lists(
    st.sampled_from(["pkg.a", "pkg.*", "myapp/core", "pkg.a -> pkg.b", "pkg.a.py", "c0: warn"]),
    max_size=2,
)
string_values = st.sampled_from(["warn", "fail", "off", "3", "0", "lots", ""])
ini_keys = st.one_of(
    st.dictionaries(st.sampled_from(LINE_KEYS), line_values, max_size=2),
    st.dictionaries(st.sampled_from(STRING_KEYS), string_values, max_size=2),
)


@st.composite
def projects(draw: st.DrawFn) -> tuple[dict[str, str], int]:
    """(files to write, how many contracts they define)."""
    files: dict[str, str] = {}
    project_items = draw(st.lists(contracts(), max_size=2))
    ids = [f"c{i}" for i in range(len(project_items))]
    session = draw(sessions)
    total = len(project_items)
    pytest_ini: dict[str, Any] = draw(ini_keys)
    file_items = draw(st.lists(contracts(), max_size=2))
    if file_items:
        pytest_ini["ssot_contracts"] = ["contracts"]
        file_ids = [f"f{i}" for i in range(len(file_items))]
        total += len(file_items)
        if draw(st.booleans()):
            files["contracts/more.toml"] = to_toml(None, file_items, file_ids)
        else:
            files["contracts/more.ini"] = to_ini(None, file_items, file_ids, header=True)
    config_format = draw(st.sampled_from(["pyproject", "importlinter"]))
    ini = "\n".join(f"{k} = {toml_value(v)}" for k, v in pytest_ini.items())
    pyproject = f"[tool.pytest.ini_options]\n{ini}\n"
    if config_format == "pyproject":
        pyproject += to_toml(session, project_items, ids)
    else:
        files[".importlinter"] = to_ini(session, project_items, ids, header=draw(st.booleans()))
    files["pyproject.toml"] = pyproject
    return files, total


def checked(result: pytest.RunResult) -> str:
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text, text
    assert "Traceback" not in text, text
    return text


@EXAMPLES
@given(project=projects())
def test_generated_configs_never_crash_and_never_pass_unchecked(
    pytester: pytest.Pytester, project: tuple[dict[str, str], int]
) -> None:
    files, total = project
    root = pytester.path
    for name in (".importlinter", "pyproject.toml"):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / "contracts", ignore_errors=True)
    for name, text in {**PACKAGE, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = pytester.runpytest("--ssot", "--ssot-only", "-p", "no:cacheprovider", "-rA")
    text = checked(result)
    assert result.ret != pytest.ExitCode.INTERNAL_ERROR, text
    if result.ret == pytest.ExitCode.OK:
        # Exit 0 only when every contract written was checked and kept: none skipped.
        passed = [line for line in result.stdout.lines if line.startswith("PASSED ")]
        assert total > 0 and len(passed) == total, text
        assert "could not be checked" not in text, text
