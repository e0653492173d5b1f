"""The HTML report, rendered from synthetic report dicts (no pytest run, no browser)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

import pytest

pytest.importorskip("networkx")

from pytest_ssot.model import Fingerprint
from pytest_ssot.reporting import html_report
from pytest_ssot.reporting.history import entry_from_report
from pytest_ssot.reporting.html_report import (
    build_map,
    expression_pattern,
    layout_map,
    missing_html_dependency,
    render_html,
)

CREATED = "2026-03-02T10:20:30+00:00"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <script> blocks by id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: dict[str, str] = {}
        self._script: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag == "script":
            self._script = found.get("id", "")
            self.scripts[self._script] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts[self._script] += data

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[dict[str, str]]:
        out = []
        for name, found in self.tags:
            if name != tag:
                continue
            if cls is not None and cls not in found.get("class", "").split():
                continue
            if all(found.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(found)
        return out


def hop(importer: str, imported: str, line: int = 3) -> dict[str, Any]:
    return {
        "importer": importer,
        "imported": imported,
        "file": importer.replace(".", "/") + ".py",
        "line_numbers": [line],
    }


def violation(*modules: str, status: str = "new", kind: str = "import") -> dict[str, Any]:
    chain = [hop(a, b) for a, b in itertools.pairwise(modules)]
    return {
        "fingerprint": f"{kind}: {modules[0]} -> {modules[-1]}",
        "kind": kind,
        "status": status,
        "importer": modules[0],
        "imported": modules[-1],
        "heading": f"{modules[0]} is not allowed to import {modules[-1]}",
        "message": "",
        "file": chain[0]["file"] if chain else None,
        "line": 3,
        "chain": chain,
    }


def contract(
    cid: str,
    violations: Sequence[dict[str, Any]] = (),
    *,
    fixed: Sequence[str] = (),
    passed: bool | None = None,
    status: str | None = None,
    roles: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    counts = {
        "new": sum(1 for v in violations if v["status"] == "new"),
        "frozen": sum(1 for v in violations if v["status"] == "frozen"),
        "fixed": len(fixed),
    }
    status = status or ("broken" if violations else "kept")
    return {
        "id": cid,
        "name": f"Contract {cid}",
        "type": "forbidden",
        "source": "contracts/c.toml",
        "line": 3,
        "status": status,
        "passed": (not counts["new"]) if passed is None else passed,
        "error": "no such module" if status == "error" else None,
        "check_ms": 1.0,
        "ignored_imports": 0,
        "warnings": [],
        "counts": counts,
        "violations": list(violations),
        "fixed": list(fixed),
        "fixed_imports": [
            {"importer": edge[0], "imported": edge[1]}
            for edge in (Fingerprint.parse(fp).edge for fp in fixed)
            if edge is not None
        ],
        "details": None,
        "roles": roles or {"legacy": [], "canonical": [], "sources": []},
    }


def report(
    contracts: Sequence[dict[str, Any]], runtime: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    return {
        "schema": "pytest-ssot-report",
        "version": 1,
        "created": CREATED,
        "tool": {"pytest-ssot": "9.8.7", "import-linter": "2.17", "grimp": "3.20"},
        "rootdir": "/src/app",
        "exit_status": 1,
        "summary": {
            "contracts": len(contracts),
            "kept": sum(c["status"] == "kept" for c in contracts),
            "broken": sum(c["status"] == "broken" for c in contracts),
            "error": sum(c["status"] == "error" for c in contracts),
            "passed": sum(c["passed"] for c in contracts),
            "violations": sum(len(c["violations"]) for c in contracts),
            "new": sum(c["counts"]["new"] for c in contracts),
            "frozen": sum(c["counts"]["frozen"] for c in contracts),
            "fixed": sum(c["counts"]["fixed"] for c in contracts),
            "runtime_findings": len(runtime),
        },
        "graphs": [],
        "contracts": list(contracts),
        "baseline": None,
        "runtime": list(runtime),
    }


def finding(check: str, summary: str, details: str = "details") -> dict[str, Any]:
    return {
        "check": check,
        "rule": "websocket-manager",
        "summary": summary,
        "details": details,
        "phase": "call of tests/test_x.py::test_y",
        "nodeid": "tests/test_x.py::test_y",
        "fingerprint": f"{check}: {summary}",
        "severity": "error",
        "file": "app/x.py",
        "line": 7,
    }


SAMPLE = report(
    [
        contract(
            "no-legacy",
            [
                violation("app.routes.chat", "app.legacy.handler", status="frozen"),
                violation("app.main", "app.routes.health", "app.legacy", status="frozen"),
                violation("app.routes.rooms", "app.legacy.handler"),
            ],
            fixed=["import: app.routes.admin -> app.legacy.manager"],
            roles={"legacy": ["app.legacy"], "canonical": ["app.core"], "sources": ["app"]},
        ),
        contract(
            "frozen-one",
            [violation("app.services.x", "app.core.shim", status="frozen")],
        ),
        contract("kept-one"),
        contract("cannot-check", status="error", passed=False),
    ],
    runtime=[
        finding(
            "duplicate-instance",
            "2 live instances for 'alice'",
            "instance 1 of 2\n    app/registry.py:28\ninstance 2 of 2\n    app/events.py:8",
        ),
        finding("dynamic-import", "importlib.import_module('app.legacy')"),
        finding("some-future-check", "a check this renderer does not know"),
    ],
)


def test_page_is_self_contained_and_says_what_made_it() -> None:
    page = render_html(SAMPLE)
    parsed = Elements(page)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert not parsed.find("link", rel="stylesheet")
    assert all("src" not in attrs for _, attrs in parsed.tags)
    csp = parsed.find("meta", http_equiv="Content-Security-Policy")[0]["content"]
    assert "default-src 'none'" in csp and "unsafe" not in csp
    made = parsed.find("div", id="ssot-made")[0]
    assert made["data-version"] == "9.8.7" and made["data-created"] == CREATED
    assert "made 2026-03-02 10:20:30 UTC by pytest-ssot 9.8.7" in page
    # The report itself travels with the page: the HTML is made from it, nothing else.
    assert json.loads(parsed.scripts["ssot-report"]) == SAMPLE


def test_contract_list_has_every_verdict() -> None:
    parsed = Elements(render_html(SAMPLE))
    rows = {r["data-id"]: r["data-verdict"] for r in parsed.find("tr", "contract")}
    assert rows == {
        "no-legacy": "broken",
        "frozen-one": "frozen",
        "kept-one": "kept",
        "cannot-check": "error",
    }


def test_map_classifies_modules_and_marks_edges() -> None:
    cmap = build_map(SAMPLE["contracts"][0])
    roles = {n.name: n.role for n in cmap.nodes.values()}
    assert roles == {
        "app.routes.chat": "importer",
        "app.routes.rooms": "importer",
        "app.routes.admin": "importer",
        "app.main": "importer",
        "app.routes.health": "via",
        "app.legacy": "legacy",
        "app.legacy.handler": "legacy",
        "app.legacy.manager": "legacy",
    }
    status = {
        (cmap.nodes[e.source].name, cmap.nodes[e.target].name): e.status
        for e in cmap.edges.values()
    }
    assert status == {
        ("app.routes.chat", "app.legacy.handler"): "frozen",
        ("app.main", "app.routes.health"): "frozen",
        ("app.routes.health", "app.legacy"): "frozen",
        ("app.routes.rooms", "app.legacy.handler"): "new",
        ("app.routes.admin", "app.legacy.manager"): "fixed",
    }
    layout_map(cmap)
    x = {n.name: n.x for n in cmap.nodes.values()}
    # Chains read left to right: importer, then the hop, then the legacy side.
    assert x["app.main"] < x["app.routes.health"] < x["app.legacy"]
    assert x["app.legacy"] == x["app.legacy.handler"] == x["app.legacy.manager"]


def test_svg_map_marks_new_frozen_and_dashed_fixed_edges() -> None:
    parsed = Elements(render_html(SAMPLE))
    maps = parsed.find("svg", "ssot-map")
    assert [m["data-contract"] for m in maps] == ["no-legacy", "frozen-one"]
    edges = parsed.find("path", "edge")
    statuses = sorted(e["data-status"] for e in edges)
    assert statuses == ["fixed", "frozen", "frozen", "frozen", "frozen", "new"]
    fixed = parsed.find("path", "s-fixed")[0]
    assert (fixed["data-source"], fixed["data-target"]) == (
        "app.routes.admin",
        "app.legacy.manager",
    )
    # Every hop is listed with file:line, and every chain with its status.
    chains = parsed.find("li", "chain")
    assert len(chains) == 4 + 1  # four violations, one fixed fingerprint
    assert "app/main.py:3" in render_html(SAMPLE)


def test_canonical_hints_and_cycles() -> None:
    cycle = contract(
        "canonical-imports-legacy",
        [
            violation("core.a", "app.b", "app.c", "old.x"),
            violation("app.c", "app.b", "old.y", status="frozen"),
        ],
        roles={"legacy": ["old"], "canonical": ["core"], "sources": []},
    )
    cmap = build_map(cycle)
    assert {n.name: n.role for n in cmap.nodes.values()}["core.a"] == "canonical"
    layout_map(cmap)  # app.b <-> app.c is a cycle: folded, not an error
    nodes = {n.name: n for n in cmap.nodes.values()}
    assert nodes["app.b"].layer == nodes["app.c"].layer
    assert nodes["core.a"].x > nodes["old.x"].x  # the canonical band comes last
    assert "canonical side" in render_html(report([cycle]))


def test_module_names_are_escaped() -> None:
    evil = "app.<b>&x</script>"
    page = render_html(
        report(
            [contract("c<1>", [violation(evil, "legacy.m")])],
            runtime=[finding("dynamic-import", "<img src=x>", "a & b </pre>")],
        )
    )
    assert "<b>" not in page and "<img" not in page and '</script>"' not in page
    assert "app.&lt;b&gt;&amp;x&lt;/script&gt;" in page
    assert "a &amp; b &lt;/pre&gt;" in page
    parsed = Elements(page)
    # The data block survives intact despite the name.
    assert json.loads(parsed.scripts["ssot-report"])["contracts"][0]["violations"][0][
        "importer"
    ] == (evil)
    assert {m["data-contract"] for m in parsed.find("svg", "ssot-map")} == {"c<1>"}


def test_thousands_of_chains_collapse_into_packages() -> None:
    violations = [
        violation(
            f"big.area{i % 12}.pkg{i % 90}.mod{i}",
            f"big.hub{i % 7}",
            f"big.legacy.part{i % 5}",
            status="frozen" if i % 3 else "new",
        )
        for i in range(3000)
    ]
    data = report([contract("big", violations, roles={"legacy": ["big.legacy"]} | EMPTY)])
    started = time.perf_counter()
    page = render_html(data)
    assert time.perf_counter() - started < 20
    parsed = Elements(page)
    svg = parsed.find("svg", "ssot-map")[0]
    assert svg["data-collapsed"] == "true"
    nodes = parsed.find("g", "node")
    assert 1 < len(nodes) <= html_report.COLLAPSE_LIMIT
    assert sum(int(n["data-count"]) for n in nodes) == 3000 + 7 + 5
    assert "3012 modules, drawn as" in page
    by_role: dict[str, dict[str, int]] = {}
    for n in nodes:
        by_role.setdefault(n["data-role"], {})[n["data-module"]] = int(n["data-count"])
    # 3000 importers in 180 packages are too many for one column: cut to big.areaN.
    assert by_role["importer"] == {f"big.area{i}": 250 for i in range(12)}
    assert "big.area3.* (250 modules)" in page
    # The few hubs and legacy modules keep their own boxes.
    assert by_role["via"] == {f"big.hub{i}": 1 for i in range(7)}
    assert by_role["legacy"] == {f"big.legacy.part{i}": 1 for i in range(5)}
    # Nothing is lost: every chain is still listed, grouped by package.
    assert len(parsed.find("li", "chain")) == 3000
    groups = parsed.find("details", "group")
    assert len(groups) == 180 and all("open" not in g for g in groups)
    # Search finds a module that is hidden inside a package node.
    assert any("big.area5.pkg5.mod5 " in n["data-search"] + " " for n in nodes)


EMPTY: dict[str, list[str]] = {"canonical": [], "sources": []}


def test_small_maps_are_not_collapsed() -> None:
    parsed = Elements(render_html(SAMPLE))
    assert {m["data-collapsed"] for m in parsed.find("svg", "ssot-map")} == {"false"}


def test_chart_has_one_point_per_run() -> None:
    history = []
    for day, (frozen, new) in enumerate([(9, 3), (8, 1), (8, 0), (5, 0)], start=1):
        entry = entry_from_report(SAMPLE)
        entry["created"] = f"2026-03-{day:02d}T09:00:00+00:00"
        entry["totals"].update(violations=frozen + new, frozen=frozen, new=new)
        history.append(entry)
    parsed = Elements(render_html(SAMPLE, history))
    chart = parsed.find("svg", id="ssot-chart")[0]
    assert chart["data-points"] == "4"
    points = parsed.find("circle", "point", data_series="violations")
    assert [int(p["data-value"]) for p in points] == [12, 9, 8, 5]
    xs = [float(p["cx"]) for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert json.loads(parsed.scripts["ssot-history"]) == history
    assert parsed.find("polyline", "series", data_series="new")


def test_chart_without_history_shows_this_run_and_says_how_to_get_more() -> None:
    page = render_html(SAMPLE)
    parsed = Elements(page)
    assert parsed.find("svg", id="ssot-chart")[0]["data-points"] == "1"
    assert "ssot_history" in page


def test_chart_of_runs_made_in_the_same_second_spreads_them_by_order() -> None:
    history = [entry_from_report(SAMPLE) for _ in range(3)]
    parsed = Elements(render_html(SAMPLE, history))
    xs = [float(p["cx"]) for p in parsed.find("circle", "point", data_series="new")]
    assert len(set(xs)) == 3
    assert "runs, oldest first" in render_html(SAMPLE, history)


def test_runtime_findings_are_grouped_by_check() -> None:
    page = render_html(SAMPLE)
    parsed = Elements(page)
    groups = [g["data-check"] for g in parsed.find("section", "finding-group")]
    assert groups == ["duplicate-instance", "dynamic-import", "some-future-check"]
    assert "Duplicate instances" in page and "some-future-check" in page
    assert "app/registry.py:28" in page and "app/events.py:8" in page  # both creation sites


def test_nothing_to_map_and_no_findings() -> None:
    page = render_html(report([contract("kept-one")]))
    assert "nothing to map" in page and "No runtime finding" in page


@pytest.mark.parametrize(
    ("expression", "module", "matches"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.b.c", True),
        ("a.b", "a.bc", False),
        ("a.*.c", "a.x.c", True),
        ("a.*.c", "a.x.y.c", False),
        ("a.**", "a.x.y", True),
        ("a.**", "a", False),
    ],
)
def test_module_expressions(expression: str, module: str, matches: bool) -> None:
    assert bool(expression_pattern(expression).match(module)) is matches


def test_missing_networkx_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_html_dependency() is None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    message = missing_html_dependency()
    assert message is not None and "pip install networkx" in message
    assert message.startswith("--ssot-html needs the networkx package")
    from_ini = missing_html_dependency("the ini key 'ssot_html'")
    assert from_ini is not None and from_ini.startswith("the ini key 'ssot_html' needs")
