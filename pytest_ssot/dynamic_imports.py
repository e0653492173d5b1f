"""Dynamic imports seen statically: ``importlib.import_module("app.x")`` and its kin.

grimp reads only ``import`` statements, so a module loaded by name is invisible to
every contract. With ``ssot_static_dynamic_imports`` on, the root packages' sources
are scanned for calls that load a module by name (see ``LOADERS``) whose module
part is a literal, or an f-string / concatenation / ``%`` / ``.format`` whose
leading package part is; those become imports in the graph copy the contracts
check, marked as dynamic in their chains. Calls whose module part is computed
are listed as unresolved. A called name is resolved scope by scope, as Python looks
it up (``_Scopes``): a parameter or local assignment that shadows ``importlib`` is not
a loader, an alias imported in one function serves that function only.

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
from dataclasses import dataclass, field
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


_OTHER = None
"""A binding that is not an import of a module or function: a parameter, an assignment of
something else, a ``def``, a loop variable, ..."""

_AMBIGUOUS = "?"
"""What a name resolves to when its scope binds it to a loader and to something else."""


@dataclass
class _Scope:
    """One Python scope (module, class body, function, lambda or comprehension)."""

    kind: str
    parent: _Scope | None
    bindings: dict[str, list[str | tuple[str, ...] | None]] = field(default_factory=dict)
    """Per name: what each binding binds it to: a dotted path (an import), a dotted name
    to resolve in this scope (an alias assignment ``load = importlib.import_module``), or
    ``_OTHER``."""
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)

    def bind(self, name: str, value: str | tuple[str, ...] | None) -> None:
        self.bindings.setdefault(name, []).append(value)


@dataclass(frozen=True)
class _CallSite:
    call: ast.Call
    scope: _Scope
    type_checking: bool
    """Inside ``if TYPE_CHECKING:``: never runs, like the imports grimp leaves out then."""


def _is_type_checking(test: ast.expr) -> bool:
    name = dotted_name(test)
    return name is not None and name.rpartition(".")[2] == "TYPE_CHECKING"


class _Scopes(ast.NodeVisitor):
    """Every scope of a module, the names each binds, and the scope of every call.

    Python's rules, as far as a static reading can follow them: a name used in a
    function is looked up in the function, then in the enclosing functions (not class
    bodies), then in the module, then in the builtins; ``global`` and ``nonlocal`` send
    it to the module or an enclosing function.
    """

    def __init__(self, tree: ast.Module) -> None:
        self.module = _Scope("module", None)
        self.scope = self.module
        self.type_checking = False
        self.calls: list[_CallSite] = []
        for statement in tree.body:
            self.visit(statement)

    # -- scopes ---------------------------------------------------------------------

    def _enter(self, kind: str, body: Iterable[ast.AST], args: ast.arguments | None = None) -> None:
        outer = self.scope
        self.scope = _Scope(kind, outer)
        if args is not None:
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if arg is not None:
                    self.scope.bind(arg.arg, _OTHER)
        for node in body:
            self.visit(node)
        self.scope = outer

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Decorators, defaults and annotations run in the enclosing scope.
        for expr in (*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)):
            self.visit(expr)
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                self.visit(decorator)
            self.scope.bind(node.name, _OTHER)
            self._enter("function", node.body, node.args)
        else:
            self._enter("function", [node.body], node.args)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(expr)
        self.scope.bind(node.name, _OTHER)
        self._enter("class", node.body)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    ) -> None:
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        outer = self.scope
        self.scope = _Scope("function", outer)
        for number, generator in enumerate(node.generators):
            self.visit(generator.target)
            if number:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self.scope = outer

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        if _is_type_checking(node.test):
            before, self.type_checking = self.type_checking, True
            for statement in node.body:
                self.visit(statement)
            self.type_checking = before
        else:
            for statement in node.body:
                self.visit(statement)
        for statement in node.orelse:
            self.visit(statement)

    # -- bindings -------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.scope.bind(alias.asname, alias.name)
            else:
                head = alias.name.partition(".")[0]
                self.scope.bind(head, head)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                continue
            name = alias.asname or alias.name
            if node.level or not node.module:
                self.scope.bind(name, _OTHER)  # a module of the project, not a loader
            else:
                self.scope.bind(name, f"{node.module}.{alias.name}")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        alias = dotted_name(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name) and alias is not None:
                self.scope.bind(target.id, (alias,))  # load = importlib.import_module
            else:
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            alias = dotted_name(node.value)
            if isinstance(node.target, ast.Name) and alias is not None:
                self.scope.bind(node.target.id, (alias,))
                return
            self.visit(node.target)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.scope.bind(node.id, _OTHER)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.scope.bind(node.name, _OTHER)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.declared_nonlocal.update(node.names)

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append(_CallSite(node, self.scope, self.type_checking))
        self.generic_visit(node)


def _lookup(name: str, scope: _Scope, depth: int = 0) -> str | None:
    """What ``name`` refers to in ``scope``: a dotted path, ``_AMBIGUOUS``, or None."""
    here: _Scope | None = scope
    if name in scope.declared_global:
        here = _module_scope(scope)
    elif name in scope.declared_nonlocal:
        here = _enclosing_function(scope)
    first = True
    while here is not None:
        if (first or here.kind != "class") and name in here.bindings:
            return _resolved(here.bindings[name], here, depth)
        first = False
        here = here.parent
    return "builtins.__import__" if name == "__import__" else None


def _module_scope(scope: _Scope) -> _Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope


def _enclosing_function(scope: _Scope) -> _Scope | None:
    here = scope.parent
    while here is not None and here.kind != "function":
        here = here.parent
    return here


def _resolved(
    bindings: list[str | tuple[str, ...] | None], scope: _Scope, depth: int
) -> str | None:
    values: set[str | None] = set()
    for binding in bindings:
        if isinstance(binding, tuple):  # an alias: what its value names, in this scope
            values.add(_qualified_name(binding[0], scope, depth + 1) if depth < 8 else None)
        else:
            values.add(binding)
    if len(values) == 1:
        return values.pop()
    # Bound to a loader and to something else: which one a call sees depends on the order
    # the code runs in.
    return _AMBIGUOUS if any(v and v != _AMBIGUOUS for v in values) else None


def _qualified_name(dotted: str, scope: _Scope, depth: int = 0) -> str | None:
    head, _, rest = dotted.partition(".")
    base = _lookup(head, scope, depth)
    if base is None or base == _AMBIGUOUS:
        return base
    return f"{base}.{rest}" if rest else base


def _qualified(function: ast.expr, scope: _Scope) -> str | None:
    dotted = dotted_name(function)
    return None if dotted is None else _qualified_name(dotted, scope)


def _maybe_loader(function: ast.expr, scope: _Scope) -> bool:
    """Whether an ambiguous name could be a loader: it is spelled like one."""
    dotted = dotted_name(function)
    return dotted is not None and any(
        loader.endswith("." + dotted.rpartition(".")[2]) for loader in LOADERS
    )


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
    tree: ast.Module,
    module: str,
    is_package: bool,
    source: str,
    exclude_type_checking: bool = False,
) -> tuple[list[tuple[str, int, str, str]], list[Unresolved]]:
    """Loader calls in one module: (name, line, loader, line text) and the unresolved ones.

    Names are resolved scope by scope (``_Scopes``); a call inside ``if TYPE_CHECKING:``
    is left out when ``exclude_type_checking`` (the graph leaves such imports out too).
    """
    scopes = _Scopes(tree)
    lines = source.splitlines()
    found: list[tuple[str, int, str, str]] = []
    unresolved: list[Unresolved] = []

    def shown(node: ast.Call, text: str) -> str:
        call = " ".join((ast.get_source_segment(source, node) or text).split())
        return call if len(call) <= 80 else call[:77] + "..."

    for site in scopes.calls:
        node = site.call
        if site.type_checking and exclude_type_checking:
            continue
        text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
        qualified = _qualified(node.func, site.scope)
        if qualified == _AMBIGUOUS:
            if _maybe_loader(node.func, site.scope):
                unresolved.append(
                    Unresolved(
                        module,
                        node.lineno,
                        f"{shown(node, text)} (its name is bound to a loader and to something "
                        "else in the same scope)",
                    )
                )
            continue
        if qualified is None or qualified not in LOADERS:
            continue
        argument: ast.expr | None = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg in ("name", "path", "import_name", "dotted_path"):
                argument = keyword.value
        if argument is None:
            continue
        prefix = _literal_prefix(argument)
        name = _module_part(*prefix, LOADERS[qualified]) if prefix else None
        if name is not None and name.startswith("."):
            package = _package_argument(node, module, is_package, qualified)
            name = _relative(name, module, is_package, package)
        if name is None:
            unresolved.append(Unresolved(module, node.lineno, shown(node, text)))
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
    *,
    exclude_type_checking: bool = False,
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
        found, missing = scan_tree(
            tree, module, path.name == "__init__.py", source, exclude_type_checking
        )
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
