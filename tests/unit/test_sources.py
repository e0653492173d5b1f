"""Contract sources: our reader must read every file exactly as import-linter does."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.model import ConfigError
from pytest_ssot.sources import (
    derive_contract_id,
    expand_contract_paths,
    load_sources,
    merge_session,
    read_file,
    to_source,
)

pytestmark = pytest.mark.library_surface

importlinter_api = pytest.importorskip("importlinter.api")

module_names = st.lists(
    st.text(string.ascii_lowercase, min_size=1, max_size=6), min_size=1, max_size=3
).map(".".join)
ids = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=12)
# INI strips surrounding blanks and treats '%' specially; both readers agree on that,
# so names are drawn from text that survives both formats unchanged.
names = (
    st.text(string.ascii_letters + string.digits + " _-.,()/", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
contracts = st.fixed_dictionaries(
    {
        "id": ids,
        "name": names,
        "type": st.sampled_from(["forbidden", "layers", "independence"]),
        "source_modules": st.lists(module_names, min_size=1, max_size=4),
        "allow_indirect_imports": st.booleans(),
        "broken_contract_guidance": names,
    }
)


def to_toml(roots: list[str], items: list[dict[str, Any]]) -> str:
    out = ["[tool.importlinter]", f"root_packages = {json.dumps(roots)}", ""]
    for item in items:
        out.append("[[tool.importlinter.contracts]]")
        for key, value in item.items():
            out.append(f"{key} = {json.dumps(value)}")
        out.append("")
    return "\n".join(out)


def to_ini(roots: list[str], items: list[dict[str, Any]]) -> str:
    out = ["[importlinter]", "root_packages =", *(f"    {r}" for r in roots), ""]
    for item in items:
        out.append(f"[importlinter:contract:{item['id']}]")
        for key, value in item.items():
            if key == "id":
                continue
            if isinstance(value, list):
                out.append(f"{key} =")
                out.extend(f"    {v}" for v in value)
            else:
                out.append(f"{key} = {value}")
        out.append("")
    return "\n".join(out)


def unique_by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({item["id"]: item for item in items}.values())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    roots=st.lists(module_names, min_size=1, max_size=2, unique=True),
    items=st.lists(contracts, min_size=1, max_size=4).map(unique_by_id),
    fmt=st.sampled_from(["toml", "ini"]),
)
def test_reads_like_import_linter(
    tmp_path: Path, roots: list[str], items: list[dict[str, Any]], fmt: str
) -> None:
    path = tmp_path / f"contracts.{fmt}"
    path.write_text(to_toml(roots, items) if fmt == "toml" else to_ini(roots, items))
    theirs = importlinter_api.read_configuration(str(path))
    raw = read_file(path)
    assert raw is not None
    ours = to_source(raw, tmp_path)
    assert [dict(spec.options) for spec in ours.contracts] == theirs["contracts_options"]
    assert dict(ours.session.raw) == theirs["session_options"]
    assert ours.session.root_packages == tuple(roots)
    assert [spec.id for spec in ours.contracts] == [item["id"] for item in items]


def test_contract_lines_point_at_their_headers(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    items = [
        {"id": "a", "name": "A", "type": "forbidden"},
        {"id": "b", "name": "B", "type": "forbidden"},
    ]
    path.write_text(to_toml(["pkg"], items))
    raw = read_file(path)
    assert raw is not None
    lines = path.read_text().splitlines()
    for spec in to_source(raw, tmp_path).contracts:
        assert lines[spec.line - 1] == "[[tool.importlinter.contracts]]"
        assert lines[spec.line] == f'id = "{spec.id}"'


@given(st.text(min_size=1, max_size=40))
def test_derived_ids_are_safe_for_node_ids(name: str) -> None:
    cid = derive_contract_id(name)
    assert cid
    assert ":" not in cid and " " not in cid and "/" not in cid
    assert "[" not in cid and "]" not in cid  # pytest reads brackets as parameters
    assert derive_contract_id(name) == cid


@pytest.mark.parametrize(
    ("name", "cid"),
    [
        ("Cöntract tëst nön-cöde pärsing", "cöntract-tëst-nön-cöde-pärsing"),
        ("Straße: keine Altlasten!", "straße-keine-altlasten"),
        ("契約 テスト", "契約-テスト"),
        # The decomposed spelling (e + combining accent) gives the same id as the composed one.
        ("Caf\u0065\u0301 rules", "caf\u00e9-rules"),
        ("App [layers] :: v2", "app-layers-v2"),
    ],
)
def test_derived_ids_keep_letters_of_every_script(name: str, cid: str) -> None:
    assert derive_contract_id(name) == cid


def test_merge_session_own_keys_win_and_types_accumulate() -> None:
    merged = merge_session(
        {"root_package": "a", "contract_types": ["x: m.X"], "include_external_packages": "True"},
        {"root_packages": ["b", "c"], "contract_types": ["y: m.Y"]},
    )
    assert merged == {
        "root_packages": ["b", "c"],
        "contract_types": ["x: m.X", "y: m.Y"],
        "include_external_packages": "True",
    }


def test_expand_paths_files_folders_globs_deduplicated(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    for name in ("b.toml", "a.ini", "notes.txt"):
        (tmp_path / "c" / name).write_text("")
    (tmp_path / "c" / "deep").mkdir()
    (tmp_path / "c" / "deep" / "z.cfg").write_text("")
    found = expand_contract_paths(["c", "c/*.toml", "c/a.ini"], tmp_path)
    rel = [p.relative_to(tmp_path.resolve()).as_posix() for p in found]
    assert rel == ["c/a.ini", "c/b.toml", "c/deep/z.cfg"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("missing.toml", "'missing.toml' does not exist"),
        ("*.nothing", "the pattern '*.nothing' matches no contract file"),
        ("empty", "the folder 'empty' holds no contract file"),
    ],
)
def test_expand_paths_errors(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        expand_contract_paths([entry], tmp_path)


def test_project_config_without_contracts_lends_session_options(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[importlinter]\nroot_package = pkg\n")
    (tmp_path / "c.ini").write_text("[importlinter:contract:x]\nname = x\ntype = forbidden\n")
    loaded = load_sources(tmp_path, ["c.ini"])
    assert [f.display for f in loaded] == ["c.ini"]
    source = loaded[0].source
    assert source is not None
    assert source.session.root_packages == ("pkg",)
