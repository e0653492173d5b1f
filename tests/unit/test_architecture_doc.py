"""docs/architecture.md stays true: its tree names every module, its contracts are ours."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest_ssot

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGE = Path(pytest_ssot.__file__).parent
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]


def tree_block() -> str:
    start = DOC.index("```\npytest_ssot/\n")
    return DOC[start : DOC.index("```", start + 3)]


def entries(folder: Path) -> list[str]:
    """The modules and packages of ``folder`` as the tree names them (``x.py``, ``y/``)."""
    found = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("_") or child.name == "assets":
            continue
        if child.is_dir() and (child / "__init__.py").is_file():
            found.append(f"{child.name}/")
        elif child.suffix == ".py":
            found.append(child.name)
    return found


def test_the_tree_names_every_module_of_the_package_runtime_and_its_hooks() -> None:
    tree = tree_block()
    named = set(re.findall(r"^\s+([\w.]+/?)\s", tree, re.M))
    folders = (PACKAGE, PACKAGE / "runtime", PACKAGE / "runtime" / "hooks")
    missing = [e for folder in folders for e in entries(folder) if e not in named]
    assert not missing, f"docs/architecture.md: add {missing} to the tree, with their job"


def test_the_doc_names_every_contract_we_keep() -> None:
    ids = [contract["id"] for contract in CONTRACTS]
    assert not [i for i in ids if f"`{i}`" not in DOC and f'"{i}"' not in DOC]


def test_the_doc_shows_the_layers_contract_as_configured() -> None:
    (layers,) = [c["layers"] for c in CONTRACTS if c["id"] == "layers"]
    shown = "".join(f'    "{layer}",\n' for layer in layers)
    assert f"layers = [\n{shown}]" in DOC
