"""Generate ``bigapp``: a deterministic package of 10,000 modules and about 60,000 imports.

Used by ``bench/run.py``; it can also be run on its own::

    python bench/generate.py OUTPUT_DIR [--modules 10000] [--seed 7]

Shape (the default sizes):

- ``bigapp.api``, ``bigapp.services``, ``bigapp.domain``, ``bigapp.infra``: four layers of about
  2,250 modules each, in nested subpackages (``bigapp.<layer>.sNN.pN.modNNNN``). A module imports
  modules of its own subpackage, of its own layer and of the layers below it, never above it,
  except for a few planted upward imports (the layers contract's violations).
- ``bigapp.infra.compat``: the only modules meant to import the legacy package.
- ``bigapp.legacy``: 200 modules, imported by ``infra.compat`` and by a few planted modules in
  the layers and plugins (the legacy contract's violations).
- ``bigapp.plugins.pN``: ten plugins of 80 modules each; they import their own modules and the
  domain and infra layers, never each other (the independence contract is kept).

The modules that carry planted violations, and the compat modules, are never imported by other
modules, so each violation shows up as exactly one chain. About one import in ten sits inside a
function (grimp sees those too), half use ``import a.b.c`` and half ``from a.b import c``.

The same seed and sizes always give byte-identical files. The output folder gets a
``manifest.json`` with the parameters, the counts and the planted violations; a second call with
the same parameters and the same generator finds it and writes nothing (so file times, and
therefore the tools' caches, stay valid between benchmark runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "bigapp"
LAYERS = ("api", "services", "domain", "infra")  # highest first
LEGACY_MODULES = 200
PLUGINS = 10
PLUGIN_MODULES = 80  # per plugin, including its __init__
COMPAT_MODULES = 20
SUBPACKAGES = 8  # per layer
SUBSUBPACKAGES = 6  # per subpackage
MEAN_IMPORTS = 6.1  # per non-package module
PACKAGE_IMPORTS = 2  # per __init__ module (re-exports of two children)
LEGACY_VIOLATORS = {"api": 2, "services": 2, "domain": 1, "plugins": 1}
UPWARD_IMPORTS = (("domain", "services"), ("services", "api"), ("infra", "api"))
MANIFEST = "manifest.json"


@dataclass
class Module:
    name: str
    is_package: bool
    group: str  # api, services, domain, infra, compat, legacy, plugins.pN
    imports: list[str] = field(default_factory=list)
    lazy: set[str] = field(default_factory=set)  # imports placed inside a function

    @property
    def parent(self) -> str:
        return self.name.rpartition(".")[0]

    def relative_path(self) -> Path:
        parts = self.name.split(".")
        if self.is_package:
            return Path(*parts, "__init__.py")
        return Path(*parts[:-1], parts[-1] + ".py")


@dataclass
class Plan:
    modules: dict[str, Module]
    legacy_violations: list[tuple[str, str]]
    layer_violations: list[tuple[str, str]]

    @property
    def import_count(self) -> int:
        return sum(len(m.imports) for m in self.modules.values())


def _layer_tree(layer: str, size: int) -> list[Module]:
    """A layer of ``size`` modules: packages first, then leaves spread round-robin."""
    root = f"{PACKAGE}.{layer}"
    packages = [Module(root, True, layer)]
    leaves_parents: list[str] = []
    for s in range(SUBPACKAGES):
        sub = f"{root}.s{s:02d}"
        packages.append(Module(sub, True, layer))
        for p in range(SUBSUBPACKAGES):
            subsub = f"{sub}.p{p}"
            packages.append(Module(subsub, True, layer))
            leaves_parents.append(subsub)
    if layer == "infra":
        packages.append(Module(f"{root}.compat", True, "compat"))
    leaves = size - len(packages)
    modules = list(packages)
    if layer == "infra":
        modules += [
            Module(f"{root}.compat.adapter{i:02d}", False, "compat") for i in range(COMPAT_MODULES)
        ]
        leaves -= COMPAT_MODULES
    for i in range(leaves):
        parent = leaves_parents[i % len(leaves_parents)]
        modules.append(Module(f"{parent}.mod{i:04d}", False, layer))
    return modules


def _flat_package(root: str, group: str, size: int, subpackages: int) -> list[Module]:
    modules = [Module(root, True, group)]
    parents = []
    for s in range(subpackages):
        modules.append(Module(f"{root}.part{s}", True, group))
        parents.append(f"{root}.part{s}")
    for i in range(size - len(modules)):
        modules.append(Module(f"{parents[i % len(parents)]}.old{i:03d}", False, group))
    return modules


def plan(total_modules: int, seed: int) -> Plan:  # noqa: C901, PLR0915  one pass that lays out the whole generated tree, step by step
    rng = random.Random(seed)
    fixed = 1 + 1 + PLUGINS * PLUGIN_MODULES + LEGACY_MODULES  # bigapp, bigapp.plugins, ...
    per_layer, extra = divmod(total_modules - fixed, len(LAYERS))
    if per_layer < 1 + SUBPACKAGES * (1 + SUBSUBPACKAGES) + COMPAT_MODULES + 1 + 50:
        raise SystemExit(f"--modules {total_modules} is too small for this package shape")
    modules: list[Module] = [Module(PACKAGE, True, "root")]
    for index, layer in enumerate(LAYERS):
        modules += _layer_tree(layer, per_layer + (1 if index < extra else 0))
    modules.append(Module(f"{PACKAGE}.plugins", True, "plugins"))
    for p in range(PLUGINS):
        modules += _flat_package(f"{PACKAGE}.plugins.p{p}", f"plugins.p{p}", PLUGIN_MODULES, 4)
    modules += _flat_package(f"{PACKAGE}.legacy", "legacy", LEGACY_MODULES, 4)
    by_name = {m.name: m for m in modules}
    assert len(by_name) == total_modules, (len(by_name), total_modules)

    leaves: dict[str, list[str]] = {}
    for m in modules:
        if not m.is_package:
            leaves.setdefault(m.group, []).append(m.name)
    by_parent: dict[str, list[str]] = {}
    for m in modules:
        if not m.is_package:
            by_parent.setdefault(m.parent, []).append(m.name)

    # The planted violations: their importers are never imported by anything else.
    legacy_violations: list[tuple[str, str]] = []
    excluded: set[str] = set(leaves["compat"])
    for group, count in LEGACY_VIOLATORS.items():
        members = leaves[group] if group != "plugins" else leaves[f"plugins.p{PLUGINS - 1}"]
        for importer in rng.sample(sorted(set(members) - excluded), count):
            legacy_violations.append((importer, rng.choice(leaves["legacy"])))
            excluded.add(importer)
    layer_violations: list[tuple[str, str]] = []
    for low, high in UPWARD_IMPORTS:
        importer = rng.choice(sorted(set(leaves[low]) - excluded))
        candidates = sorted(set(leaves[high]) - excluded)
        layer_violations.append((importer, rng.choice(candidates)))
        excluded.add(importer)

    pools = {g: [n for n in names if n not in excluded] for g, names in leaves.items()}
    local_pools = {p: [n for n in names if n not in excluded] for p, names in by_parent.items()}
    sub_pools: dict[str, list[str]] = {}
    for layer in LAYERS:
        for name in pools[layer]:
            sub_pools.setdefault(".".join(name.split(".")[:3]), []).append(name)

    def targets_for(m: Module) -> list[tuple[float, list[str]]]:
        """Weighted pools of modules that ``m`` may import without breaking a contract."""
        if m.group in LAYERS:
            below = LAYERS[LAYERS.index(m.group) + 1 :]
            weighted = [
                (0.35, local_pools.get(m.parent, [])),
                (0.15, sub_pools.get(".".join(m.name.split(".")[:3]), [])),
                (0.15, pools[m.group]),
            ]
            for depth, layer in enumerate(below):
                weighted.append((0.35 / (depth + 1), pools[layer]))
            return weighted
        if m.group.startswith("plugins."):
            return [(0.6, pools[m.group]), (0.25, pools["domain"]), (0.15, pools["infra"])]
        if m.group == "legacy":
            return [(0.8, pools["legacy"]), (0.2, pools["infra"])]
        if m.group == "compat":
            return [(0.5, pools["legacy"]), (0.5, pools["infra"])]
        return []

    for m in modules:
        if m.is_package:
            m.imports = local_pools.get(m.name, [])[:PACKAGE_IMPORTS]
            continue
        weighted = [(w, p) for w, p in targets_for(m) if p]
        count = max(1, round(rng.gauss(MEAN_IMPORTS, 1.5)))
        chosen: list[str] = []
        attempts = 0
        weights = [w for w, _ in weighted]
        while len(chosen) < count and attempts < count * 20:
            attempts += 1
            candidates = rng.choices([p for _, p in weighted], weights=weights)[0]
            target = rng.choice(candidates)
            if target != m.name and target not in chosen:
                chosen.append(target)
        m.imports = chosen
        m.lazy = {t for t in chosen if rng.random() < 0.1}
    for importer, imported in legacy_violations + layer_violations:
        by_name[importer].imports.append(imported)
    return Plan(by_name, legacy_violations, layer_violations)


def _import_line(target: str, index: int) -> str:
    if index % 2 == 0:
        return f"import {target}"
    parent, _, leaf = target.rpartition(".")
    return f"from {parent} import {leaf}"


def render(m: Module) -> str:
    short = m.name.rpartition(".")[2]
    top = [_import_line(t, i) for i, t in enumerate(m.imports) if t not in m.lazy]
    lazy = [_import_line(t, i) for i, t in enumerate(m.imports) if t in m.lazy]
    lines = [f'"""Generated module {m.name}: benchmark data, not real code."""', ""]
    lines += ["from __future__ import annotations", ""]
    if top:
        lines += [*top, ""]
    if m.is_package:
        lines += [f"__all__ = {[t.rpartition('.')[2] for t in m.imports]!r}", ""]
        return "\n".join(lines)
    cls = "".join(part.capitalize() for part in short.split("_")) + "Service"
    lines += [
        f"LIMIT = {len(m.name) * 7}",
        "",
        "",
        f"class {cls}:",
        '    """A small class so that the file is not only imports."""',
        "",
        "    def __init__(self, value: int = 0) -> None:",
        "        self.value = value",
        "",
        "    def run(self, items: list[int]) -> int:",
        "        total = self.value",
        "        for item in items:",
        "            if item > LIMIT:",
        "                total -= item",
        "            else:",
        "                total += item * 3",
        "        return total",
        "",
        "",
        f"def build_{short}(value: int) -> {cls}:",
    ]
    lines += [f"    {line}" for line in lazy]
    lines += [f"    return {cls}(value)", ""]
    return "\n".join(lines)


def generator_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def generate(output: Path, total_modules: int = 10_000, seed: int = 7) -> dict[str, object]:
    """Write ``output/bigapp`` (unless an identical one is there) and return the manifest."""
    wanted = {"modules": total_modules, "seed": seed, "generator": generator_hash()}
    manifest_path = output / MANIFEST
    if manifest_path.is_file():
        try:
            existing = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            existing = {}
        if existing.get("parameters") == wanted and (output / PACKAGE).is_dir():
            return dict(existing)
    the_plan = plan(total_modules, seed)
    target = output / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    manifest_path.unlink(missing_ok=True)  # an interrupted run must not look complete
    for m in the_plan.modules.values():
        path = output / m.relative_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(m), encoding="utf-8")
    manifest: dict[str, object] = {
        "parameters": wanted,
        "package": PACKAGE,
        "modules": len(the_plan.modules),
        "imports": the_plan.import_count,
        "legacy_violations": [list(v) for v in the_plan.legacy_violations],
        "layer_violations": [list(v) for v in the_plan.layer_violations],
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


EDITED_MODULE = "bigapp/infra/s00/p0/mod0000.py"
"""The file bench/run.py edits for its edit figures (exists with the default seed)."""
ADDED_IMPORT = "bigapp.infra.s00.p0.mod0048"
"""The import it adds to that file: a module of the same subpackage, so no contract changes."""

CONTRACTS = f"""\
[importlinter]
root_packages =
    {PACKAGE}

[importlinter:contract:legacy-contained]
name = Only bigapp.infra.compat imports the legacy package
type = forbidden
source_modules =
    {PACKAGE}.api
    {PACKAGE}.services
    {PACKAGE}.domain
    {PACKAGE}.plugins
forbidden_modules =
    {PACKAGE}.legacy

[importlinter:contract:plugins-use-the-core]
name = Plugins use the domain and infra layers, not the api or services
type = forbidden
source_modules =
    {PACKAGE}.plugins
forbidden_modules =
    {PACKAGE}.api
    {PACKAGE}.services

[importlinter:contract:layers]
name = api over services over domain over infra
type = layers
layers =
    {PACKAGE}.api
    {PACKAGE}.services
    {PACKAGE}.domain
    {PACKAGE}.infra

[importlinter:contract:independent-plugins]
name = Plugins do not import each other
type = independence
modules =
    {PACKAGE}.plugins.*
"""
"""The contracts checked on bigapp: two forbidden (one broken), layers (broken), independence."""


# ---------------------------------------------------------------------------
# ``backend``: a codebase for the SSOT contract types (issue 15)

SSOT_PACKAGE = "backend"
SSOT_AREAS = ("api", "services", "models", "tasks", "utils")  # plus realtime and legacy
SSOT_BIG_FILES = 6  # files of 3,000+ lines, among them the canonical module
SSOT_CANONICAL = f"{SSOT_PACKAGE}.realtime.core"
SSOT_LEGACY = (f"{SSOT_PACKAGE}.legacy.ws", f"{SSOT_PACKAGE}.legacy.sessions")
SSOT_CONCEPTS = ("WebSocketManager", "ConnectionRegistry", "SessionStore", "EventBus")
"""The names the unique_definition contract declares; the canonical module defines them."""
SSOT_CANONICAL_CLASSES = (
    *SSOT_CONCEPTS,
    "Channel",
    "Subscription",
    "Heartbeat",
    "PresenceTracker",
    "MessageEnvelope",
    "RetryPolicy",
)
SSOT_EDITED_MODULE = "backend/services/s01/mod0007.py"
"""The file bench/run.py edits in the SSOT section (exists with the default seed)."""
SSOT_ADDED_IMPORT = "backend.services.s01.mod0015"


def _ssot_class(name: str, rng: random.Random, methods: int, bases: str = "") -> list[str]:
    lines = [f"class {name}{bases}:", f'    """{name}: generated benchmark code, not real."""', ""]
    lines += ["    def __init__(self, registry=None, limit: int = 10) -> None:"]
    lines += [
        "        self.registry = registry",
        "        self.limit = limit",
        "        self.items = []",
    ]
    for m in range(methods):
        verb = rng.choice(("handle", "send", "close", "open", "flush", "route", "check", "load"))
        lines += [
            "",
            f"    def {verb}_{m}(self, payload: dict, retries: int = {rng.randint(1, 9)}) -> int:",
            f'        """{verb.capitalize()} step {m} of {name}; returns a count."""',
            "        total = 0",
            "        for key, value in sorted(payload.items()):",
            "            if isinstance(value, int) and value > self.limit:",
            f"                total += value * {rng.randint(2, 97)} - retries",
            "            elif key.startswith('_'):",
            "                continue",
            "            else:",
            f"                self.items.append((key, value, {rng.randint(0, 999)}))",
            "        # keep the old behaviour: callers count on a non-negative total",
            "        return max(total, 0)",
        ]
    return lines


def _ssot_render(
    name: str,
    imports: list[str],
    uses: list[tuple[str, str]],
    rng: random.Random,
    lines_wanted: int,
    extra_classes: list[tuple[str, str]],
) -> str:
    """One module: imports, the concept names it uses, classes until ``lines_wanted``."""
    short = name.rpartition(".")[2]
    lines = [f'"""Module {name}: generated for the benchmark of the SSOT contract types."""', ""]
    lines += ["from __future__ import annotations", "", "import logging", ""]
    lines += [_import_line(t, i) for i, t in enumerate(imports)]
    lines += [f"from {module} import {concept}" for module, concept in uses]
    lines += ["", "log = logging.getLogger(__name__)", ""]
    for cls, bases in extra_classes:
        lines += ["", *_ssot_class(cls, rng, 3, bases), ""]
    for module, imported in uses:
        concept = imported.rpartition(" ")[2]
        lines += [
            "",
            f"def use_{concept.lower()}_{short}(registry=None) -> int:",
            f'    """Uses {concept} from {module}."""',
            f"    manager = {concept}(registry)",
            "    return manager.handle_0({'seen': 1})",
            "",
        ]
    index = 0
    while len(lines) < lines_wanted:
        cls = f"{short.capitalize()}Part{index}"
        lines += ["", *_ssot_class(cls, rng, rng.randint(4, 14)), ""]
        index += 1
    return "\n".join(lines) + "\n"


def ssot_plan(total_modules: int, seed: int) -> tuple[dict[str, Module], dict[str, Any]]:
    """The modules of ``backend`` with their imports, and what is planted where."""
    rng = random.Random(seed)
    modules: dict[str, Module] = {}

    def add(name: str, is_package: bool, group: str) -> None:
        modules[name] = Module(name, is_package, group)

    add(SSOT_PACKAGE, True, "root")
    add(f"{SSOT_PACKAGE}.realtime", True, "realtime")
    add(SSOT_CANONICAL, False, "realtime")
    add(f"{SSOT_PACKAGE}.legacy", True, "legacy")
    for legacy in SSOT_LEGACY:
        add(legacy, False, "legacy")
    fixed = len(modules)
    per_area = (total_modules - fixed) // len(SSOT_AREAS)
    leaves: list[str] = []
    for area in SSOT_AREAS:
        add(f"{SSOT_PACKAGE}.{area}", True, area)
        subs = [f"{SSOT_PACKAGE}.{area}.s{s:02d}" for s in range(10)]
        for sub in subs:
            add(sub, True, area)
        count = (
            per_area
            - 11
            + (total_modules - fixed - per_area * len(SSOT_AREAS) if area == SSOT_AREAS[-1] else 0)
        )
        for i in range(count):
            name = f"{subs[i % len(subs)]}.mod{i // len(subs):04d}"
            add(name, False, area)
            leaves.append(name)
    assert len(modules) == total_modules, (len(modules), total_modules)
    for name in leaves:
        m = modules[name]
        siblings = [n for n in (f"{m.parent}.mod{k:04d}" for k in range(40)) if n in modules]
        chosen = rng.sample(siblings, min(len(siblings), 3))
        chosen += rng.sample(leaves, 3)
        m.imports = [t for t in dict.fromkeys(chosen) if t != name]
    planted = {
        "legacy_importers": rng.sample(leaves, 3),
        "duplicate": rng.choice(leaves),
        "shadow": rng.choice(leaves),
        "big": rng.sample(leaves, SSOT_BIG_FILES - 1),
    }
    return modules, planted


def generate_ssot(
    output: Path, total_modules: int = 4_000, seed: int = 11, megabytes: float = 60.0
) -> dict[str, object]:
    """Write ``output/backend`` (unless an identical one is there) and return its manifest.

    About ``total_modules`` modules and ``megabytes`` of source, of which a few files have
    3,000 to 6,000 lines; ``backend.realtime.core`` (one of them) defines the concepts,
    ``backend.legacy.*`` forward them, about one module in six uses one. Planted: three
    modules import a legacy shim (single_source), one defines ``SessionStore`` again
    (unique_definition), one subclasses ``WebSocketManager`` under its name (both).
    """
    wanted = {
        "modules": total_modules,
        "seed": seed,
        "megabytes": megabytes,
        "generator": generator_hash(),
    }
    manifest_path = output / MANIFEST
    if manifest_path.is_file():
        try:
            existing = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            existing = {}
        if existing.get("parameters") == wanted and (output / SSOT_PACKAGE).is_dir():
            return dict(existing)
    modules, planted = ssot_plan(total_modules, seed)
    rng = random.Random(seed + 1)
    target = output / SSOT_PACKAGE
    if target.exists():
        shutil.rmtree(target)
    manifest_path.unlink(missing_ok=True)
    big = set(planted["big"])
    legacy_importers = set(planted["legacy_importers"])
    regular = total_modules - len(big) - 1
    # Lines per ordinary module so that the whole is about ``megabytes`` (about 50 bytes a line).
    budget = megabytes * 1_000_000 / 50 - len(big) * 4_000 - 4_500
    mean_lines = max(60, int(budget / max(regular, 1)))
    total_bytes = 0
    for m in modules.values():
        path = output / m.relative_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if m.is_package:
            text = f'"""Package {m.name}."""\n'
        elif m.name == SSOT_CANONICAL:
            classes = [(c, "") for c in SSOT_CANONICAL_CLASSES]
            text = _ssot_render(m.name, [], [], rng, 4_500, classes)
        elif m.name in SSOT_LEGACY:
            names = ", ".join(SSOT_CONCEPTS)
            text = (
                f'"""Legacy home of the realtime classes: forwards to {SSOT_CANONICAL}."""\n\n'
                f"from {SSOT_CANONICAL} import {names}\n\n__all__ = {list(SSOT_CONCEPTS)!r}\n"
            )
        else:
            uses: list[tuple[str, str]] = []
            if m.name in legacy_importers:
                uses.append((SSOT_LEGACY[0], "WebSocketManager"))
            elif rng.random() < 1 / 6:
                uses.append((SSOT_CANONICAL, rng.choice(SSOT_CONCEPTS)))
            extra: list[tuple[str, str]] = []
            if m.name == planted["duplicate"]:
                extra.append(("SessionStore", ""))
            if m.name == planted["shadow"]:
                uses.append((SSOT_CANONICAL, "WebSocketManager as BaseWebSocketManager"))
                extra.append(("WebSocketManager", "(BaseWebSocketManager)"))
            size = (
                rng.randint(3_000, 6_000)
                if m.name in big
                else int(mean_lines * rng.uniform(0.4, 1.6))
            )
            text = _ssot_render(m.name, m.imports, uses, rng, size, extra)
        path.write_text(text, encoding="utf-8")
        total_bytes += len(text.encode())
    manifest: dict[str, object] = {
        "parameters": wanted,
        "package": SSOT_PACKAGE,
        "modules": len(modules),
        "imports": sum(len(m.imports) for m in modules.values()),
        "bytes": total_bytes,
        "planted": planted,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


SSOT_CONTRACTS = f"""\
[importlinter]
root_packages =
    {SSOT_PACKAGE}
contract_types =
    single_source: pytest_ssot.contract_types.SingleSourceContract
    unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract

[importlinter:contract:realtime-single-source]
name = The realtime classes live in backend.realtime.core; backend.legacy only forwards
type = single_source
canonical_modules =
    {SSOT_CANONICAL}
legacy_modules =
    {SSOT_PACKAGE}.legacy

[importlinter:contract:realtime-unique]
name = Each realtime class is defined once
type = unique_definition
names =
    {chr(10).join("    " + c for c in SSOT_CONCEPTS).lstrip()}
canonical_modules =
    {SSOT_CANONICAL}
"""
"""One single_source and one unique_definition contract, both broken by the planted code."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("output", type=Path, help="folder that receives bigapp/")
    parser.add_argument("--modules", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--ssot", action="store_true", help="generate backend/ (the SSOT contract types' case)"
    )
    args = parser.parse_args(argv)
    if args.ssot:
        manifest = generate_ssot(args.output, args.modules or 4_000, args.seed or 11)
    else:
        manifest = generate(args.output, args.modules or 10_000, args.seed or 7)
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
