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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("output", type=Path, help="folder that receives bigapp/")
    parser.add_argument("--modules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    manifest = generate(args.output, args.modules, args.seed)
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
