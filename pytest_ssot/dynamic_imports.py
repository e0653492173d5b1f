"""Dynamic imports seen statically: ``importlib.import_module("app.x")`` and its kin.

grimp reads only ``import`` statements, so a module loaded by name is invisible to
every contract. With ``ssot_static_dynamic_imports`` on, the root packages' sources
are scanned for calls that load a module by name (see ``LOADERS``) whose module
part is a literal, or an f-string / concatenation / ``%`` / ``.format`` whose
leading package part is; those become imports in the graph copy the contracts
check, marked as dynamic in their chains. Calls whose module part is computed
are listed as unresolved.

Files are read through the contract types' source cache (one read per file per
process, and only files whose text mentions a loader are parsed); the results end
up in the result cache with the contracts' results.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_ssot.contract_types._source_index import (
    CACHE,
    SourceCache,
    SourceIndex,
    dotted_name,
)
from pytest_ssot.model import DynamicImport

LOADERS: Mapping[str, str] = {
    "importlib.import_module": "module",
    "importlib.__import__": "module",
    "builtins.__import__": "module",
    "importlib.util.find_spec": "module",
    "importlib.util.spec_from_file_location": "module",
    "pkgutil.resolve_name": "object",
    "pydoc.locate": "object",
    "django.utils.module_loading.import_string": "object",
    "werkzeug.utils.import_string": "object",
}
"""Functions that load a module by name, and whether the name is a module or an object
(``pkg.mod:attr`` or ``pkg.mod.attr``, of which the module part is taken)."""

_MENTIONS = re.compile(
    r"import_module|__import__|find_spec|spec_from_file_location|resolve_name|"
    r"import_string|\blocate\b"
)
"""Files whose text matches nothing here are not parsed."""


@dataclass(frozen=True)
class Unresolved:
    """A loader call whose module name is computed."""

    module: str
    """The module that makes the call."""
    line: int
    call: str
    """The call as written (shortened)."""


@dataclass(frozen=True)
class ScanResult:
    """What the dynamic-import scan of a project found.

    The imports it adds to the graph (a module loaded by a literal name), the calls
    whose module name is computed, and the files it could not parse. Made by
    ``scan``, which the static checker calls when the scan is on; ``imports`` join
    the graph, the rest is reported through ``GraphStats``.
    """

    imports: tuple[DynamicImport, ...]
    unresolved: tuple[Unresolved, ...]
    parse_failures: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# One file


class _Bindings(ast.NodeVisitor):
    """Every name an import binds anywhere in the module (scopes are not told apart)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                head = alias.name.partition(".")[0]
                self.names[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            if alias.name != "*":
                self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"


def _qualified(function: ast.expr, names: Mapping[str, str]) -> str | None:
    dotted = dotted_name(function)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head in names:
        base = names[head]
        return f"{base}.{rest}" if rest else base
    if dotted == "__import__":
        return "builtins.__import__"
    return None


def _literal_prefix(node: ast.expr) -> tuple[str, bool] | None:
    """The literal text a name starts with, and whether that is all of it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.JoinedStr):
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                text += value.value
            else:
                return text, False
        return text, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _literal_prefix(node.left)
        if left is None:
            return None
        text, whole = left
        if not whole:
            return text, False
        right = _literal_prefix(node.right)
        if right is None:
            return text, False
        return text + right[0], right[1]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "app.%s" % name
        left = _literal_prefix(node.left)
        return None if left is None else (left[0].split("%", 1)[0], False)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        left = _literal_prefix(node.func.value)
        return None if left is None else (left[0].split("{", 1)[0], False)
    return None


_NAME = re.compile(r"^\.*[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def _module_part(text: str, whole: bool, kind: str) -> str | None:
    """The module a (possibly partial) literal name certainly loads, or None."""
    if kind == "object":
        if ":" in text:
            text, whole = text.partition(":")[0], True
        elif whole:
            text = text.rpartition(".")[0]  # pkg.mod.attr: the module is at most pkg.mod
    if not whole:
        # Only complete segments before the computed part count: f"app.plugins.{name}"
        # certainly loads app.plugins, f"app.plug{x}" tells nothing past "app".
        text = text.rpartition(".")[0]
    text = text.strip()
    if not text or not _NAME.match(text):
        return None
    return text


def _relative(name: str, module: str, is_package: bool, package: str | None) -> str | None:
    if not name.startswith("."):
        return name
    base = package
    if base is None:
        return None
    level = len(name) - len(name.lstrip("."))
    parts = base.split(".")
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    if not parts:
        return None
    rest = name[level:]
    return ".".join(parts + ([rest] if rest else []))


def _package_argument(call: ast.Call, module: str, is_package: bool, qualified: str) -> str | None:
    """``package=`` of import_module / find_spec (literal, __name__ or __package__)."""
    value: ast.expr | None = None
    if qualified in ("importlib.import_module", "importlib.util.find_spec") and len(call.args) > 1:
        value = call.args[1]
    for keyword in call.keywords:
        if keyword.arg == "package":
            value = keyword.value
    if value is None:
        return None
    own_package = module if is_package else module.rpartition(".")[0]
    if isinstance(value, ast.Name) and value.id == "__package__":
        return own_package
    if isinstance(value, ast.Name) and value.id == "__name__":
        return module if is_package else own_package
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def scan_tree(
    tree: ast.Module, module: str, is_package: bool, source: str
) -> tuple[list[tuple[str, int, str, str]], list[Unresolved]]:
    """Loader calls in one module: (name, line, loader, line text) and the unresolved ones."""
    bindings = _Bindings()
    bindings.visit(tree)
    lines = source.splitlines()
    found: list[tuple[str, int, str, str]] = []
    unresolved: list[Unresolved] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        qualified = _qualified(node.func, bindings.names)
        if qualified is None or qualified not in LOADERS:
            continue
        argument: ast.expr | None = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg in ("name", "path", "import_name", "dotted_path"):
                argument = keyword.value
        if argument is None:
            continue
        text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
        prefix = _literal_prefix(argument)
        name = _module_part(*prefix, LOADERS[qualified]) if prefix else None
        if name is not None and name.startswith("."):
            package = _package_argument(node, module, is_package, qualified)
            name = _relative(name, module, is_package, package)
        if name is None:
            call = ast.get_source_segment(source, node) or text
            call = " ".join(call.split())
            unresolved.append(
                Unresolved(module, node.lineno, call if len(call) <= 80 else call[:77] + "...")
            )
            continue
        found.append((name, node.lineno, qualified, text))
    return found, unresolved


# ---------------------------------------------------------------------------
# The root packages


def _parse(path: Path) -> tuple[ast.Module, str] | str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return tree, importlib.util.decode_source(data)


def scan(
    root_packages: Iterable[str],
    modules: Iterable[str],
    known: Iterable[str],
    cache: SourceCache = CACHE,
) -> ScanResult:
    """Scan ``modules`` (the graph's internal modules) for loader calls.

    ``known`` are the modules of the graph: a literal name is resolved to the longest
    of them it starts with (``app.x.Handler`` -> ``app.x``); a name in the root packages
    that matches none is reported as unresolved, a name outside them is left alone.
    """
    roots = tuple(root_packages)
    index = SourceIndex(roots, cache)
    graph_modules = set(known)
    imports: list[DynamicImport] = []
    unresolved: list[Unresolved] = []
    failures: list[str] = []
    for module in sorted(modules):
        path = index.module_file(module)
        if path is None or not cache.text_matches(path, _MENTIONS):
            continue
        parsed = cache.derived(path, "dynamic-imports", _parse)
        if isinstance(parsed, str):
            failures.append(f"{module}: {parsed}")
            continue
        tree, source = parsed
        found, missing = scan_tree(tree, module, path.name == "__init__.py", source)
        unresolved.extend(missing)
        for name, line, loader, text in found:
            target = _known_prefix(name, graph_modules)
            if target is None:
                if name.partition(".")[0] in roots:
                    unresolved.append(Unresolved(module, line, f"{text} (no module {name})"))
                continue
            if target != module:
                imports.append(DynamicImport(module, target, line, loader, text))
    return ScanResult(tuple(imports), tuple(unresolved), tuple(failures))


def _known_prefix(name: str, modules: set[str]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None
