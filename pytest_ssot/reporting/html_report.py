"""The HTML migration map (``--ssot-html=PATH``): one self-contained page made from the JSON report.

``render_html(report, history)`` is pure: it takes the report dict that
``--ssot-report`` writes (the single source of truth) and the history records,
and returns one HTML document with everything inlined: styles, script, data
(the report itself, as a JSON block) and the drawings as SVG. Its Content
Security Policy forbids every request, so the page works offline from the file
system and cannot reach a network even by mistake.

The map of each contract is laid out here, in Python, with networkx: import
cycles are folded into their strongly connected components, the modules are
layered by topological generations, and each column is ordered by the
barycentre of its neighbours. networkx is an optional dependency
(``pytest-ssot[html]``), imported only when a page is drawn.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_ssot.fileio import write_atomic
from pytest_ssot.installed import module_exists
from pytest_ssot.model import runtime_status
from pytest_ssot.reporting.history import entry_from_report

ASSETS = Path(__file__).with_name("assets")
COLLAPSE_LIMIT = 200
"""A map with more modules than this is drawn with packages instead of modules."""
INSTALL_HINT = "pip install networkx (the only thing the 'html' extra of pytest-ssot adds)"

ROLES = ("importer", "via", "legacy", "canonical")
ROLE_LABELS = {
    "importer": "still imports the legacy side",
    "via": "passed through (intermediate hop)",
    "legacy": "legacy side (forbidden)",
    "canonical": "canonical",
}
COLUMN_TITLES = {
    "importer": "importers \u2192",
    "via": "via \u2192",
    "legacy": "legacy side",
    "canonical": "canonical side",
}
STATUSES = ("new", "frozen", "fixed")
CHECK_TITLES = {
    "duplicate-instance": "Duplicate instances",
    "factory-bypass": "Constructed outside the factory",
    "manager-declaration": "Manager rules that cannot be checked",
    "shared-state": "State shared between users (keys)",
    "outlived-test": "Instances that outlive their test",
    "shared-ok-unmatched": "shared_ok entries that matched nothing",
    "dynamic-import": "Dynamic imports of forbidden modules",
    "double-load": "Modules loaded twice",
    "hidden-folder": "Folders invisible to the import graph",
}
CHART_SERIES = (
    ("violations", "violations"),
    ("frozen", "frozen"),
    ("new", "new"),
    ("runtime_findings", "runtime findings"),
)

# Map geometry, in SVG pixels.
CHAR_WIDTH = 7.3
NODE_HEIGHT = 22
ROW_PITCH = 30
COLUMN_GAP = 90
PADDING = 16
TITLE_SPACE = 24

COUNT_CLASS = ' class="count"'


def missing_html_dependency(setting: str = "--ssot-html") -> str | None:
    """Why the HTML report cannot be drawn here, or None when it can.

    ``setting``: what asked for the report, as the user set it (the option, or
    "the ini key 'ssot_html'").
    """
    if not module_exists("networkx"):
        return (
            f"{setting} needs the networkx package, which lays out the migration map; "
            f"install it with {INSTALL_HINT}"
        )
    return None


# -- the map: nodes and edges from the chains ---------------------------------------------


@dataclass
class Node:
    key: str
    name: str
    """A module, or with collapsed maps a package prefix."""
    role: str
    modules: set[str] = field(default_factory=set)
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0

    @property
    def collapsed(self) -> bool:
        return len(self.modules) > 1 or self.modules != {self.name}

    @property
    def label(self) -> str:
        if not self.collapsed:
            return self.name
        count = len(self.modules)
        return f"{self.name}.* ({count} module{'s' if count != 1 else ''})"


@dataclass
class MapEdge:
    source: str
    target: str
    counts: Counter[str] = field(default_factory=Counter)
    imports: set[tuple[str, str]] = field(default_factory=set)

    @property
    def status(self) -> str:
        """new over frozen over fixed: an edge is as bad as the worst chain it carries."""
        return next(s for s in STATUSES if self.counts[s])


@dataclass
class ContractMap:
    contract_id: str
    nodes: dict[str, Node]
    edges: dict[tuple[str, str], MapEdge]
    module_count: int
    depths: dict[str, int] = field(default_factory=dict)
    """Per role, how many name parts the collapsed modules keep (absent: one node per module)."""
    internal: int = 0
    """Imports inside one collapsed package, not drawn."""
    width: float = 0.0
    height: float = 0.0
    columns: list[tuple[float, str]] = field(default_factory=list)

    @property
    def collapsed(self) -> bool:
        return bool(self.depths)


def expression_pattern(expression: str) -> re.Pattern[str]:
    """import-linter's module expressions (``a.*.b``, ``a.**``), matching the module or below it."""
    parts = []
    for part in expression.strip().split("."):
        if part == "**":
            parts.append(r"[^.]+(?:\.[^.]+)*")
        elif part == "*":
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(part))
    return re.compile(r"\.".join(parts) + r"(?:\..+)?\Z")


def _matcher(expressions: Iterable[str]) -> re.Pattern[str] | None:
    patterns = [expression_pattern(e).pattern for e in expressions if e and e.strip()]
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _fixed_edges(contract: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The imports the contract's fixed baseline entries stood for (the report's fixed_imports)."""
    return [(str(e["importer"]), str(e["imported"])) for e in contract.get("fixed_imports", [])]


def has_map(contract: Mapping[str, Any]) -> bool:
    return any(v.get("chain") for v in contract.get("violations", [])) or bool(
        _fixed_edges(contract)
    )


def build_map(contract: Mapping[str, Any], *, limit: int = COLLAPSE_LIMIT) -> ContractMap:
    """Nodes and edges of one contract's chains, collapsed into packages above ``limit`` modules.

    A module is *legacy* when it is (or is below) one of the contract's legacy or
    forbidden modules or the far end of one of its chains, *canonical* when the
    contract names it so, an *importer* when a chain starts there, and *via*
    otherwise (an intermediate hop: often a shim or a module of the import cycle).
    """
    roles = contract.get("roles") or {}
    imports: dict[tuple[str, str], Counter[str]] = {}
    starts: set[str] = set()
    legacy_ends: set[str] = set(roles.get("legacy", []))
    for violation in contract.get("violations", []):
        chain = violation.get("chain") or []
        if not chain:
            continue
        starts.add(chain[0]["importer"])
        legacy_ends.add(chain[-1]["imported"])
        for hop in chain:
            pair = (str(hop["importer"]), str(hop["imported"]))
            imports.setdefault(pair, Counter())[violation.get("status", "new")] += 1
    for fixed in _fixed_edges(contract):
        starts.add(fixed[0])
        legacy_ends.add(fixed[1])
        imports.setdefault(fixed, Counter())["fixed"] += 1

    legacy = _matcher(legacy_ends)
    canonical = _matcher(roles.get("canonical", []))

    def role_of(module: str) -> str:
        if legacy is not None and legacy.match(module):
            return "legacy"
        if canonical is not None and canonical.match(module):
            return "canonical"
        return "importer" if module in starts else "via"

    modules = {m for pair in imports for m in pair}
    role = {m: role_of(m) for m in sorted(modules)}
    depths = _collapse_depths(role, limit)

    def key_of(module: str) -> tuple[str, str]:
        depth = depths.get(role[module])
        name = module if depth is None else ".".join(module.split(".")[:depth])
        return f"{role[module]}:{name}", name

    nodes: dict[str, Node] = {}
    for module in role:
        key, name = key_of(module)
        node = nodes.setdefault(key, Node(key=key, name=name, role=role[module]))
        node.modules.add(module)
    edges: dict[tuple[str, str], MapEdge] = {}
    internal = 0
    for (importer, imported), counts in sorted(imports.items()):
        source, target = key_of(importer)[0], key_of(imported)[0]
        if source == target:
            internal += 1
            continue
        edge = edges.setdefault((source, target), MapEdge(source, target))
        edge.counts.update(counts)
        edge.imports.add((importer, imported))
    return ContractMap(
        contract_id=str(contract.get("id", "")),
        nodes=nodes,
        edges=edges,
        module_count=len(modules),
        depths=depths,
        internal=internal,
    )


def _collapse_depths(role: Mapping[str, str], limit: int) -> dict[str, int]:
    """Per role, the longest package prefix that fits; empty when the modules fit as they are.

    Fits: at most a third of ``limit`` nodes in one role (one band of columns),
    so that the map stays within ``limit`` and no column grows into a wall of
    boxes. A role with few modules (the legacy side, usually) keeps its modules.
    """
    if len(role) <= limit:
        return {}
    share = max(limit // 3, 1)
    groups: dict[str, list[str]] = {}
    for module, r in role.items():
        groups.setdefault(r, []).append(module)
    depths: dict[str, int] = {}
    for r, modules in groups.items():
        if len(modules) <= share:
            continue
        deepest = max(m.count(".") + 1 for m in modules)
        depths[r] = next(
            (
                depth
                for depth in range(deepest - 1, 0, -1)
                if len({".".join(m.split(".")[:depth]) for m in modules}) <= share
            ),
            1,
        )
    return depths


def natural(name: str) -> tuple[str | int, ...]:
    """Sort key that puts pkg2 before pkg10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def layout_map(cmap: ContractMap) -> None:
    """Give every node a column and a row (networkx does the graph work), then pixels.

    Columns go left to right in bands: the modules that still import the legacy
    side and the hops on the way, then the legacy side, then the canonical side.
    Inside a band, a module's column is its topological generation (cycles are
    folded into one strongly connected component first), so every chain reads
    left to right. Rows are ordered by the barycentre of the neighbours already
    placed, which keeps chains straight and crossings few.
    """
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(sorted(cmap.nodes))
    graph.add_edges_from(cmap.edges)
    bands = (("importer", "via"), ("legacy",), ("canonical",))
    offset = 0
    for band in bands:
        members = [k for k, n in cmap.nodes.items() if n.role in band]
        if not members:
            continue
        sub = graph.subgraph(members)
        folded = nx.condensation(sub)
        generations = list(nx.topological_generations(folded))
        for index, generation in enumerate(generations):
            for component in generation:
                for key in folded.nodes[component]["members"]:
                    cmap.nodes[key].layer = offset + index
        offset += len(generations)

    layers: dict[int, list[str]] = {}
    for key in sorted(cmap.nodes, key=lambda k: natural(cmap.nodes[k].name)):
        layers.setdefault(cmap.nodes[key].layer, []).append(key)
    order = sorted(layers)
    row: dict[str, float] = {}

    def place(layer: int, neighbours: Callable[[str], Iterable[str]]) -> None:
        def centre(key: str) -> float:
            seen = [row[n] for n in neighbours(key) if n in row]
            return sum(seen) / len(seen) if seen else math.inf

        keys = sorted(layers[layer], key=lambda k: (centre(k), natural(cmap.nodes[k].name)))
        for index, key in enumerate(keys):
            row[key] = index - (len(keys) - 1) / 2  # columns are centred on one line
        layers[layer] = keys

    for layer in order:  # forward: line modules up with their importers
        place(layer, graph.predecessors)
    for layer in reversed(order[:-1]):  # backward: and with what they import
        place(layer, graph.successors)

    tallest = max((len(v) for v in layers.values()), default=0)
    x = float(PADDING)
    for layer in order:
        keys = layers[layer]
        for key in keys:
            cmap.nodes[key].width = len(cmap.nodes[key].label) * CHAR_WIDTH + 16
        width = max(cmap.nodes[k].width for k in keys)
        top = PADDING + TITLE_SPACE + (tallest - len(keys)) * ROW_PITCH / 2
        for index, key in enumerate(keys):
            node = cmap.nodes[key]
            node.x, node.y = x, top + index * ROW_PITCH
        roles = {cmap.nodes[k].role for k in keys}
        title = next((r for r in ROLES if r in roles), "via")
        cmap.columns.append((x, title))
        x += width + COLUMN_GAP
    cmap.width = max(x - COLUMN_GAP + PADDING, 200)
    cmap.height = PADDING * 2 + TITLE_SPACE + max(tallest, 1) * ROW_PITCH


# -- the page ------------------------------------------------------------------------------


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def verdict_label(contract: Mapping[str, Any]) -> str:
    """kept, frozen (broken only by frozen violations), broken, or error."""
    status = contract.get("status")
    if status == "error":
        return "error"
    if status == "kept":
        return "kept"
    return "frozen" if contract.get("passed") else "broken"


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def json_block(data: Any) -> str:
    """JSON that is safe inside a <script> element (no '</script>', no HTML specials)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def shown_time(created: str | None) -> str:
    if not created:
        return "an unknown time"
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return created
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if not offset:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat(sep=" ", timespec="seconds")


def render_html(
    report: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]] = (),
    *,
    collapse_limit: int = COLLAPSE_LIMIT,
) -> str:
    """The whole page for one report, with ``history`` (oldest first) for the progress chart."""
    style = _asset("report.css")
    script = _asset("report.js")
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )
    tool = report.get("tool", {})
    version = tool.get("pytest-ssot", "unknown")
    created = shown_time(report.get("created"))
    contracts = list(report.get("contracts", []))
    runtime = list(report.get("runtime", []))
    points = [dict(h) for h in history] or [entry_from_report(report)]
    made = f"made {created} by pytest-ssot {version}"
    others = ", ".join(f"{esc(k)} {esc(v)}" for k, v in tool.items() if k != "pytest-ssot")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="pytest-ssot {esc(version)}">',
        '<link rel="icon" href="data:,">',
        f"<title>pytest-ssot migration map: {esc(Path(str(report.get('rootdir', ''))).name)}"
        "</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        '<header class="top">',
        "<h1>pytest-ssot migration map</h1>",
        f'<div class="meta" id="ssot-made" data-version="{esc(version)}" '
        f'data-created="{esc(report.get("created", ""))}">{esc(made)}'
        f"{' (' + others + ')' if others else ''}<br>{esc(report.get('rootdir', ''))}</div>",
        '<nav><a href="#contracts">Contracts</a><a href="#maps">Maps</a>'
        '<a href="#progress">Progress</a><a href="#runtime">Runtime findings</a></nav>',
        '<div class="search"><input id="ssot-search" type="search" '
        'placeholder="Filter modules, e.g. routes.chat" aria-label="Filter modules">'
        '<button id="ssot-search-clear" type="button">Clear</button>'
        '<span class="status" id="ssot-search-status" aria-live="polite"></span></div>',
        "</header>",
        "<main>",
        _summary_cards(report),
        _contract_table(contracts),
        _maps_section(contracts, collapse_limit),
        _progress_section(points, bool(history)),
        _runtime_section(runtime),
        "</main>",
        f"<footer>{esc(made)}. Generated from the pytest-ssot JSON report (schema "
        f"{esc(report.get('schema', ''))} version {esc(report.get('version', ''))}), "
        "embedded below as the element #ssot-report.</footer>",
        f'<script type="application/json" id="ssot-report">{json_block(report)}</script>',
        f'<script type="application/json" id="ssot-history">{json_block(points)}</script>',
        f"<script>{script}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def write_html(path: Path, text: str) -> None:
    write_atomic(path, text)


def _summary_cards(report: Mapping[str, Any]) -> str:
    summary = report.get("summary", {})
    contracts = report.get("contracts", [])
    verdicts = Counter(verdict_label(c) for c in contracts)
    cards = [
        (summary.get("contracts", len(contracts)), "contracts"),
        (verdicts["broken"], "broken"),
        (verdicts["frozen"], "frozen (baseline only)"),
        (verdicts["kept"], "kept"),
        (summary.get("new", 0), "new violations"),
        (summary.get("frozen", 0), "frozen violations"),
        (summary.get("fixed", 0), "fixed since the baseline"),
        (summary.get("runtime_findings", len(report.get("runtime", []))), "runtime findings"),
    ]
    failing = sum(1 for f in report.get("runtime", []) if shown_status(f) == "failing")
    if report.get("runtime"):
        cards.append((failing, "runtime findings failing"))
    if verdicts["error"]:
        cards.insert(4, (verdicts["error"], "could not be checked"))
    body = "".join(
        f'<div class="card"><div class="num">{esc(n)}</div><div class="lbl">{esc(label)}</div>'
        "</div>"
        for n, label in cards
    )
    graphs = "; ".join(
        f"{esc(', '.join(g.get('root_packages', [])))}: {esc(g.get('modules'))} modules, "
        f"{esc(g.get('imports'))} imports"
        for g in report.get("graphs", [])
    )
    note = f'<p class="muted">Import graphs: {graphs}</p>' if graphs else ""
    return f'<div class="cards" id="ssot-summary">{body}</div>{note}'


def _contract_table(contracts: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for c in contracts:
        v = verdict_label(c)
        counts = c.get("counts", {})
        where = f"{c.get('source', '')}:{c['line']}" if c.get("line") else c.get("source", "")
        name = esc(c.get("id"))
        if has_map(c) or c.get("violations"):
            name = f'<a href="#map-{esc(_anchor(c.get("id", "")))}">{name}</a>'
        extra = ""
        if c.get("error"):
            extra = f'<div class="muted">could not be checked: {esc(c["error"])}</div>'
        rows.append(
            f'<tr class="contract" data-verdict="{v}" data-id="{esc(c.get("id"))}">'
            f'<td><span class="badge v-{v}">{v}</span></td>'
            f"<td><code>{name}</code><div>{esc(c.get('name'))}</div>{extra}</td>"
            f"<td>{esc(c.get('type'))}</td><td><code>{esc(where)}</code></td>"
            f'<td class="n">{len(c.get("violations", []))}</td>'
            f'<td class="n">{esc(counts.get("new", 0))}</td>'
            f'<td class="n">{esc(counts.get("frozen", 0))}</td>'
            f'<td class="n">{esc(counts.get("fixed", 0))}</td></tr>'
        )
    if not rows:
        body = '<p class="note">No contract ran.</p>'
    else:
        body = (
            '<table id="ssot-contracts"><thead><tr><th>verdict</th><th>contract</th><th>type</th>'
            '<th>defined at</th><th class="n">violations</th><th class="n">new</th>'
            '<th class="n">frozen</th><th class="n">fixed</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table>"
        )
    return (
        '<section class="part" id="contracts"><h2>Contracts</h2>'
        '<p class="muted">frozen: broken only by violations the baseline already lists (the test '
        "item passes); broken: at least one new violation.</p>"
        f"{body}</section>"
    )


def _anchor(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value)


def _maps_section(contracts: Sequence[Mapping[str, Any]], limit: int) -> str:
    shown = [c for c in contracts if c.get("violations") or has_map(c)]
    if not shown:
        body = '<p class="note">No contract is broken or frozen: there is nothing to map.</p>'
    else:
        body = "".join(_contract_block(c, limit) for c in shown)
    return (
        '<section class="part" id="maps"><h2>Migration maps</h2>'
        '<p class="muted">One map per broken or frozen contract. Left: the modules that still '
        "import the legacy side and the modules their chains pass through; then the legacy side; "
        "then the canonical side. Click a module to filter to it.</p>"
        f"{body}</section>"
    )


def _legend() -> str:
    roles = "".join(
        f'<span><span class="sw r-{r}"></span>{esc(ROLE_LABELS[r])}</span>' for r in ROLES
    )
    lines = "".join(
        f'<span><span class="ln s-{s}"></span>{s}</span>' for s in ("new", "frozen", "fixed")
    )
    return f'<div class="legend">{roles}{lines}</div>'


def _contract_block(contract: Mapping[str, Any], limit: int) -> str:
    cid = str(contract.get("id", ""))
    v = verdict_label(contract)
    counts = contract.get("counts", {})
    head = (
        f'<h3><span class="badge v-{v}">{v}</span> <code>{esc(cid)}</code> '
        f"{esc(contract.get('name'))}</h3>"
        f'<div class="muted">{len(contract.get("violations", []))} violations: '
        f"{esc(counts.get('new', 0))} new, {esc(counts.get('frozen', 0))} frozen, "
        f"{esc(counts.get('fixed', 0))} fixed since the baseline</div>"
        f"{_fix_counts(contract)}"
    )
    svg = ""
    if has_map(contract):
        cmap = build_map(contract, limit=limit)
        layout_map(cmap)
        note = ""
        if cmap.collapsed:
            grouped = ", ".join(
                f"{ROLE_LABELS[r]} grouped by the first {d} parts of their names"
                for r, d in sorted(cmap.depths.items(), key=lambda i: ROLES.index(i[0]))
            )
            note = (
                f'<p class="muted collapsed-note">{cmap.module_count} modules, drawn as '
                f"{len(cmap.nodes)} boxes ({esc(grouped)}). A box's number counts its modules; "
                "click it to list its chains below, where every module is named.</p>"
            )
        svg = f'{_legend()}{note}<div class="map-scroll">{_svg_map(cmap)}</div>'
    else:
        svg = '<p class="note">No import chain to draw: see the findings below.</p>'
    block_id = f"chains-{_anchor(cid)}"
    return (
        f'<div class="contract-map" id="map-{esc(_anchor(cid))}" data-contract="{esc(cid)}">'
        f"{head}{svg}{_chain_lists(contract, block_id)}</div>"
    )


def _fix_counts(contract: Mapping[str, Any]) -> str:
    """How many of the contract's violations ``pytest --ssot --ssot-fix`` can fix."""
    fixes = contract.get("fixes") or {}
    fixable, manual = int(fixes.get("fixable", 0)), int(fixes.get("not_fixable", 0))
    if not fixable and not manual:
        return ""
    return (
        f'<div class="muted fix-counts" data-fixable="{fixable}" data-not-fixable="{manual}">'
        f"{fixable} fixable by <code>pytest --ssot --ssot-fix</code>, "
        f"{manual} need a human</div>"
    )


def _edge_path(cmap: ContractMap, edge: MapEdge) -> str:
    a, b = cmap.nodes[edge.source], cmap.nodes[edge.target]
    ay, by = a.y + NODE_HEIGHT / 2, b.y + NODE_HEIGHT / 2
    if b.layer > a.layer:
        x1, x2 = a.x + a.width, b.x
        bend = max((x2 - x1) / 2, 30)
        return (
            f"M{x1:.1f},{ay:.1f} C{x1 + bend:.1f},{ay:.1f} "
            f"{x2 - bend:.1f},{by:.1f} {x2:.1f},{by:.1f}"
        )
    # Same column or backwards (a cycle, a canonical module importing legacy): loop out right.
    x1, x2 = a.x + a.width, b.x + b.width
    reach = max(x1, x2) + 40 + abs(ay - by) / 6
    return f"M{x1:.1f},{ay:.1f} C{reach:.1f},{ay:.1f} {reach:.1f},{by:.1f} {x2 + 6:.1f},{by:.1f}"


def _svg_map(cmap: ContractMap) -> str:
    out = [
        f'<svg class="ssot-map" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'data-contract="{esc(cmap.contract_id)}" data-nodes="{len(cmap.nodes)}" '
        f'data-edges="{len(cmap.edges)}" data-collapsed="{str(cmap.collapsed).lower()}" '
        f'width="{cmap.width:.0f}" height="{cmap.height:.0f}" '
        f'viewBox="0 0 {cmap.width:.0f} {cmap.height:.0f}">',
        f"<title>Import chains of contract {esc(cmap.contract_id)}</title>",
        "<defs>",
    ]
    colours = {"new": "#c62828", "frozen": "#4a6fa5", "fixed": "#2e7d32"}
    for status, colour in colours.items():
        out.append(
            f'<marker id="arrow-{status}-{esc(_anchor(cmap.contract_id))}" viewBox="0 0 10 10" '
            'refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" '
            'orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    previous = ""
    for x, role in cmap.columns:
        if role != previous:  # one title where a band starts
            out.append(
                f'<text class="column-title" x="{x:.1f}" y="{PADDING + 10}">'
                f"{esc(COLUMN_TITLES[role])}</text>"
            )
        previous = role
    for edge in sorted(cmap.edges.values(), key=lambda e: STATUSES.index(e.status), reverse=True):
        chains = sum(edge.counts.values())
        parts = ", ".join(f"{edge.counts[s]} {s}" for s in STATUSES if edge.counts[s])
        a, b = cmap.nodes[edge.source], cmap.nodes[edge.target]
        search = " ".join(sorted({m for pair in edge.imports for m in pair})).lower()
        width = 1.4 + min(math.log2(chains), 4.0)
        out.append(
            f'<path class="edge s-{edge.status}" data-status="{edge.status}" '
            f'data-source="{esc(a.name)}" data-target="{esc(b.name)}" data-search="{esc(search)}" '
            f'd="{_edge_path(cmap, edge)}" stroke-width="{width:.1f}" '
            f'marker-end="url(#arrow-{edge.status}-{esc(_anchor(cmap.contract_id))})">'
            f"<title>{esc(a.label)} \u2192 {esc(b.label)}: {chains} chain hop"
            f"{'s' if chains != 1 else ''} ({esc(parts)})</title></path>"
        )
    for node in sorted(cmap.nodes.values(), key=lambda n: (n.layer, n.y)):
        members = sorted(node.modules)
        tip = esc(ROLE_LABELS[node.role]) + ": " + esc(node.label)
        if node.collapsed:
            shown = members[:30]
            more = len(members) - len(shown)
            tip += "\n" + esc("\n".join(shown)) + (f"\n... and {more} more" if more else "")
        search = (node.name + " " + " ".join(members)).lower()
        out.append(
            f'<g class="node r-{node.role}" tabindex="0" role="button" '
            f'data-role="{node.role}" data-module="{esc(node.name)}" '
            f'data-filter="{esc(node.name.lower())}" data-search="{esc(search)}" '
            f'data-count="{len(members)}" transform="translate({node.x:.1f},{node.y:.1f})">'
            f"<title>{tip}</title>"
            f'<rect width="{node.width:.1f}" height="{NODE_HEIGHT}" rx="4"/>'
            f'<text x="8" y="15"{COUNT_CLASS if node.collapsed else ""}>'
            f"{esc(node.label)}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _package(module: str) -> str:
    return module.rpartition(".")[0] or module


def _location(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    return f"{file}:{line}" if line else file


def _chain_lists(contract: Mapping[str, Any], block_id: str) -> str:
    violations = list(contract.get("violations", []))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for violation in sorted(
        violations, key=lambda v: (v.get("status") != "new", v.get("importer", ""))
    ):
        groups.setdefault(_package(str(violation.get("importer", ""))), []).append(violation)
    open_all = len(violations) <= 60
    sections = []
    for package in sorted(groups):
        items = groups[package]
        tally = Counter(str(v.get("status", "new")) for v in items)
        label = ", ".join(f"{tally[s]} {s}" for s in STATUSES if tally[s])
        rows = "".join(_chain_item(v) for v in items)
        sections.append(
            f'<details class="group" data-package="{esc(package)}"{" open" if open_all else ""}>'
            f"<summary><code>{esc(package)}</code> \u2014 {len(items)} "
            f"violation{'s' if len(items) != 1 else ''} ({esc(label)})</summary>"
            f"<ol>{rows}</ol></details>"
        )
    fixed = list(contract.get("fixed", []))
    if fixed:
        rows = "".join(
            f'<li class="chain status-fixed" data-search="{esc(fp.lower())}">'
            f'<span class="badge b-fixed">fixed</span> <code>{esc(fp)}</code></li>'
            for fp in fixed
        )
        sections.append(
            f'<details class="group" data-package="(fixed)"{" open" if open_all else ""}>'
            f"<summary>Fixed since the baseline \u2014 {len(fixed)} (drop them with "
            f"<code>--ssot-baseline-prune</code>)</summary><ol>{rows}</ol></details>"
        )
    if not sections:
        return ""
    tools = (
        f'<div class="tools" data-for="{esc(block_id)}">'
        '<button type="button" data-open="true">Expand all</button>'
        '<button type="button" data-open="false">Collapse all</button></div>'
    )
    return f'{tools}<div class="chains" id="{esc(block_id)}">{"".join(sections)}</div>'


def _chain_item(violation: Mapping[str, Any]) -> str:
    status = str(violation.get("status", "new"))
    chain = violation.get("chain") or []
    modules = [chain[0]["importer"], *(hop["imported"] for hop in chain)] if chain else []
    search = " ".join([*modules, violation.get("importer", ""), violation.get("imported", "")])
    if chain:
        path = " \u2192 ".join(esc(m) for m in modules)
        hops = "".join(
            f'<li><code class="where">'
            f"{esc(_location(hop.get('file'), (hop.get('line_numbers') or [None])[0]))}</code> "
            f"<code>{esc(hop['importer'])} \u2192 {esc(hop['imported'])}</code>"
            + (
                ' <span class="muted">(also lines '
                f"{esc(', '.join(map(str, hop['line_numbers'][1:])))})</span>"
                if len(hop.get("line_numbers") or []) > 1
                else ""
            )
            + "</li>"
            for hop in chain
        )
        body = f'<code>{path}</code><ul class="hops">{hops}</ul>'
    else:
        where = _location(violation.get("file"), violation.get("line"))
        body = (
            f"<code>{esc(violation.get('importer'))} \u2192 {esc(violation.get('imported'))}</code>"
            + (f' <code class="where">{esc(where)}</code>' if where else "")
            + (f"<div>{esc(violation.get('message'))}</div>" if violation.get("message") else "")
        )
    heading = violation.get("heading")
    title = f' title="{esc(heading)}"' if heading else ""
    return (
        f'<li class="chain status-{esc(status)}" data-status="{esc(status)}" '
        f'data-search="{esc(search.lower())}"{title}>'
        f'<span class="badge b-{esc(status)}">{esc(status)}</span> {body}</li>'
    )


# -- progress chart ------------------------------------------------------------------------


def _nice_ceiling(value: float) -> tuple[float, float]:
    """A round top for the y axis and its tick step."""
    if value <= 0:
        return 1.0, 1.0
    step = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value / (step * factor) <= 5:
            step *= factor
            break
    return math.ceil(value / step) * step, step


def _times(points: Sequence[Mapping[str, Any]]) -> list[datetime] | None:
    try:
        times = [datetime.fromisoformat(str(p.get("created"))) for p in points]
    except ValueError:
        return None
    try:
        increasing = all(a < b for a, b in itertools.pairwise(times))
    except TypeError:  # naive and aware mixed
        return None
    return times if increasing and len(times) > 1 else None


def render_chart(points: Sequence[Mapping[str, Any]]) -> str:
    """An SVG line chart of the totals of every run (x: time, or run order if times tie)."""
    width, height = 820, 280
    left, right, top, bottom = 52, 20, 16, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    values = {
        key: [int(p.get("totals", {}).get(key, 0)) for p in points] for key, _ in CHART_SERIES
    }
    peak, step = _nice_ceiling(max((max(v) for v in values.values() if v), default=0))
    times = _times(points)
    count = len(points)

    def x_of(index: int) -> float:
        if times is not None:
            span = (times[-1] - times[0]).total_seconds()
            return left + plot_w * (times[index] - times[0]).total_seconds() / span
        return left + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / peak

    out = [
        f'<svg id="ssot-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'data-points="{count}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        "<title>Migration progress: totals per run</title>",
    ]
    tick = 0.0
    while tick <= peak + 1e-9:
        y = y_of(tick)
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    out.append(
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>'
        f'<line class="axis" x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
    )
    label_at = sorted({0, count - 1} | ({count // 2} if count > 4 else set()))
    for index in label_at:
        anchor = "start" if index == 0 and count > 1 else "end" if index == count - 1 else "middle"
        if count == 1:
            anchor = "middle"
        out.append(
            f'<text x="{x_of(index):.1f}" y="{top + plot_h + 18}" text-anchor="{anchor}">'
            f"{esc(shown_time(str(points[index].get('created', ''))))}</text>"
        )
    axis_note = "time of each run" if times is not None else "runs, oldest first"
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
        f"{axis_note}</text>"
    )
    for key, label in CHART_SERIES:
        series = values[key]
        coords = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(series))
        out.append(
            f'<polyline class="series k-{key}" data-series="{key}" points="{coords}">'
            f"<title>{esc(label)}</title></polyline>"
        )
        for index, value in enumerate(series):
            when = shown_time(str(points[index].get("created", "")))
            out.append(
                f'<circle class="point k-{key}" data-series="{key}" data-index="{index}" '
                f'data-value="{value}" cx="{x_of(index):.1f}" cy="{y_of(value):.1f}" r="3.6">'
                f"<title>{esc(when)}: {value} {esc(label)}</title></circle>"
            )
    out.append("</svg>")
    return "".join(out)


def _progress_section(points: Sequence[Mapping[str, Any]], from_history: bool) -> str:
    legend = "".join(
        f'<span><span class="ln k-{key}"></span>{esc(label)}</span>' for key, label in CHART_SERIES
    )
    note = ""
    if not from_history:
        note = (
            '<p class="note">This run only: set the ini key <code>ssot_history</code> (for example '
            "<code>ssot_history = .ssot-history.jsonl</code>) to keep one line per run, and the "
            "chart shows how the counts move.</p>"
        )
    elif len(points) < 2:
        note = '<p class="note">One run so far: the chart grows by one point per run.</p>'
    first, last = points[0], points[-1]
    ids = list(dict.fromkeys([*first.get("contracts", {}), *last.get("contracts", {})]))
    rows = []
    for cid in ids:
        before = first.get("contracts", {}).get(cid)
        after = last.get("contracts", {}).get(cid)
        b = before.get("violations", 0) if before else None
        a = after.get("violations", 0) if after else None
        change = "" if a is None or b is None else f"{a - b:+d}" if a != b else "0"
        rows.append(
            f'<tr data-id="{esc(cid)}"><td><code>{esc(cid)}</code></td>'
            f'<td class="n">{"" if b is None else b}</td>'
            f'<td class="n">{"" if a is None else a}</td>'
            f'<td class="n">{change}</td></tr>'
        )
    table = (
        '<table id="ssot-progress-table"><thead><tr><th>contract</th>'
        f'<th class="n">violations at {esc(shown_time(str(first.get("created", ""))))}</th>'
        f'<th class="n">now ({esc(shown_time(str(last.get("created", ""))))})</th>'
        '<th class="n">change</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
        if rows
        else ""
    )
    return (
        '<section class="part" id="progress"><h2>Migration progress</h2>'
        f'<p class="muted">{len(points)} run{"s" if len(points) != 1 else ""}. '
        "violations = new + frozen; fewer is better.</p>"
        f'<div class="legend chart-legend">{legend}</div>{render_chart(points)}{note}{table}'
        "</section>"
    )


# -- runtime findings ----------------------------------------------------------------------


def _runtime_section(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return (
            '<section class="part" id="runtime"><h2>Runtime findings</h2>'
            '<p class="note">No runtime finding in this run.</p></section>'
        )
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(str(finding.get("check", "other")), []).append(finding)
    counts = Counter(shown_status(f) for f in findings)
    tally = ", ".join(
        f'<span class="badge b-{status}">{counts[status]} {status}</span>'
        for status in STATUS_ORDER
        if counts[status]
    )
    blocks = []
    for check, items in groups.items():
        title = CHECK_TITLES.get(check, check)
        articles = []
        for f in sorted(items, key=lambda f: STATUS_ORDER.index(shown_status(f))):
            status = shown_status(f)
            where = _location(f.get("file"), f.get("line"))
            meta = " \u00b7 ".join(
                part
                for part in (
                    f"rule <code>{esc(f.get('rule'))}</code>" if f.get("rule") else "",
                    esc(f.get("phase")) if f.get("phase") else "",
                    f"<code>{esc(where)}</code>" if where else "",
                )
                if part
            )
            articles.append(
                f'<article class="finding status-{status}" data-check="{esc(check)}" '
                f'data-status="{status}">'
                f'<div><span class="badge b-{status}">{status}</span> '
                f"<strong>{esc(f.get('summary'))}</strong></div>"
                f'<div class="meta">{meta}</div>'
                f"<pre>{esc(f.get('details'))}</pre></article>"
            )
        blocks.append(
            f'<section class="finding-group" data-check="{esc(check)}">'
            f'<h3>{esc(title)} <span class="muted">({len(items)}, check '
            f"<code>{esc(check)}</code>)</span></h3>{''.join(articles)}</section>"
        )
    return (
        '<section class="part" id="runtime"><h2>Runtime findings</h2>'
        '<p class="muted">What the tests did at run time that the import graph cannot show. '
        "Duplicate instances list where each instance was created. Only <em>failing</em> "
        "findings failed a test or the run; <em>frozen</em> ones are in the baseline, "
        "<em>allowed</em> ones are allowed by their test's marker.</p>"
        f'<p id="ssot-runtime-tally">{tally}</p>'
        f"{''.join(blocks)}</section>"
    )


STATUS_ORDER = ("failing", "warning", "frozen", "allowed")
"""How a runtime finding ended, worst first (the report's ``runtime[].status``)."""


def shown_status(finding: Mapping[str, Any]) -> str:
    """The finding's status, also for reports written before it had one."""
    status = finding.get("status")
    if status in STATUS_ORDER:
        return str(status)
    severity = "warning" if finding.get("severity") == "warning" else "error"
    return runtime_status(severity, bool(finding.get("frozen")), bool(finding.get("allowed")))
