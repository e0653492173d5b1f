"""The one place that touches import-linter and grimp.

Their documented surface is small (``grimp.build_graph``, ``Contract`` and
``ContractCheck`` for contract types); what a plugin needs beyond it (built-in
contract classes, the shape of each type's ``metadata``, the Rich console that
contracts print to) moves between minor versions. Everything version-sensitive
lives here, behind functions that speak our model, and is tested against both
ends of ``SUPPORTED``. Importing this module is the moment pytest-ssot becomes
expensive, so only ``--ssot`` runs do it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import importlib
import operator
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grimp
import importlinter.configuration
from importlinter.application import output as il_output
from importlinter.domain.contract import Contract, ContractCheck, InvalidContractOptions
from importlinter.domain.helpers import MissingImport

from pytest_ssot.installed import PackageNotFound, library_versions, package_folders
from pytest_ssot.model import (
    ContractError,
    ContractSpec,
    DynamicImport,
    GraphError,
    GraphKey,
    Hop,
    RawResult,
    RedundantIgnore,
    Violation,
)
from pytest_ssot.ports import Graph

# Tested at both ends in CI (.ci/run); pyproject.toml pins the same range.
SUPPORTED = {"import-linter": (">=2.16", "<2.18"), "grimp": (">=3.19", "<3.21")}

BUILT_IN_TYPES: Mapping[str, str] = {
    "forbidden": "importlinter.contracts.forbidden:ForbiddenContract",
    "layers": "importlinter.contracts.layers:LayersContract",
    "independence": "importlinter.contracts.independence:IndependenceContract",
    "protected": "importlinter.contracts.protected:ProtectedContract",
    "acyclic_siblings": "importlinter.contracts.acyclic_siblings:AcyclicSiblingsContract",
    # New in import-linter 2.17; resolving it on 2.16 says so.
    "private_modules": "importlinter.contracts.private_modules:PrivateModulesContract",
}

# pytest-ssot's own types, which a config registers with contract_types.
OWN_TYPES: Mapping[str, str] = {
    "single_source": "pytest_ssot.contract_types.SingleSourceContract",
    "unique_definition": "pytest_ssot.contract_types.UniqueDefinitionContract",
}

# Options of the built-in types without which a contract checks nothing and passes.
# import-linter accepts them empty; we do not (a misconfigured --ssot run must fail).
MUST_NAME_SOMETHING: Mapping[str, tuple[str, ...]] = {
    BUILT_IN_TYPES["forbidden"]: ("source_modules", "forbidden_modules"),
    BUILT_IN_TYPES["layers"]: ("layers",),
    BUILT_IN_TYPES["independence"]: ("modules",),
    BUILT_IN_TYPES["protected"]: ("protected_modules",),
    BUILT_IN_TYPES["acyclic_siblings"]: ("ancestors",),
}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_configured = False


def _ensure_configured() -> None:
    # Contract checks read import-linter's settings (its timer, file system);
    # its CLI and api modules configure them on import, its use cases do not.
    global _configured
    if not _configured:
        importlinter.configuration.configure()
        _configured = True


# ---------------------------------------------------------------------------
# Graphs


@dataclass
class BuiltGraph:
    """A grimp graph plus what we need to show files and lines for its modules."""

    key: GraphKey
    graph: Any  # grimp.ImportGraph; Any keeps grimp's types inside this module
    package_dirs: dict[str, tuple[Path, ...]]
    """Every folder of each root package: a namespace package can have several."""
    build_ms: float
    modules: int
    imports: int
    _files: dict[str, Path | None] = field(default_factory=dict)

    def module_file(self, module: str) -> Path | None:
        # Memoised: a contract with thousands of chains names the same modules often.
        try:
            return self._files[module]
        except KeyError:
            pass
        found: Path | None = None
        # The root it belongs to, the longest first: a dotted root ("nestednamespace.foo")
        # is a root package too.
        for root in sorted(self.package_dirs, key=len, reverse=True):
            if module != root and not module.startswith(root + "."):
                continue
            rest = module[len(root) + 1 :]
            for base in self.package_dirs[root]:  # each portion of a namespace package
                target = base.joinpath(*rest.split(".")) if rest else base
                module_py = (target.with_suffix(".py"),) if rest else ()
                found = next((c for c in (*module_py, target / "__init__.py") if c.is_file()), None)
                if found is not None:
                    break
            break
        self._files[module] = found
        return found


def built(graph: Graph) -> BuiltGraph:
    """``graph`` as the BuiltGraph it must be: these functions take only graphs built here."""
    if not isinstance(graph, BuiltGraph):
        raise TypeError(f"not a graph built by pytest_ssot.adapter: {type(graph).__name__}")
    return graph


def build_graph(key: GraphKey, cache_dir: Path | None) -> BuiltGraph:
    """Build the graph for one set of root packages. Raises GraphError with our message."""
    package_dirs: dict[str, tuple[Path, ...]] = {}
    for name in key.root_packages:
        package_dirs[name] = _package_dirs(name)
    folders = [folder for dirs in package_dirs.values() for folder in dirs]
    # grimp follows symlinked folders without end and crashes on a broken .py link:
    # find them first, and name them.
    problems = find_link_problems(folders)
    if problems:
        if len(problems) == 1:
            raise GraphError(f"cannot build the import graph for {key.describe()}: {problems[0]}")
        raise GraphError(
            f"cannot build the import graph for {key.describe()}:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    started = time.perf_counter()
    try:
        with _assembled_in_order(), _packages_found_in(package_dirs):
            graph = grimp.build_graph(
                *key.root_packages,
                include_external_packages=key.include_external_packages,
                exclude_type_checking_imports=key.exclude_type_checking_imports,
                cache_dir=str(cache_dir) if cache_dir is not None else None,
            )
    except grimp.exceptions.SourceSyntaxError as exc:
        raise GraphError(_syntax_error_message(key, exc, folders)) from None
    except (ValueError, grimp.exceptions.GrimpException) as exc:
        raise GraphError(f"cannot build the import graph for {key.describe()}: {exc}") from None
    except OSError as exc:
        raise GraphError(
            f"cannot build the import graph for {key.describe()}: cannot read "
            f"{exc.filename or 'a source file'}: {exc.strerror or exc}"
        ) from None
    build_ms = (time.perf_counter() - started) * 1000
    return BuiltGraph(
        key=key,
        graph=graph,
        package_dirs=package_dirs,
        build_ms=build_ms,
        modules=len(graph.modules),
        imports=graph.count_imports(),
    )


@contextlib.contextmanager
def _assembled_in_order() -> Iterator[None]:
    """grimp adds modules and imports to the graph in the order its scan returns them
    (threads, set and hash order), and that order decides which of several equally short
    chains its searches return: the same code gave 88, 91 and 91 distinct chain ends in
    three processes on sympy, so a baseline could see "new" violations that were ties.
    During our build its assembly step gets the modules, each module's imports and the
    namespace packages in sorted order: every process then builds the same graph.
    """
    from grimp.application import usecases

    original: Callable[..., Any] = usecases._assemble_graph

    def assemble(found_packages: Any, imports_by_module: Any) -> Any:
        packages = [
            dataclasses.replace(found, namespace_packages=tuple(sorted(found.namespace_packages)))
            for found in sorted(found_packages, key=lambda found: (found.name, found.directory))
        ]
        ordered = {
            module: sorted(imports, key=_import_order)
            for module, imports in sorted(imports_by_module.items(), key=_module_order)
        }
        return original(packages, ordered)

    usecases._assemble_graph = assemble
    try:
        yield
    finally:
        usecases._assemble_graph = original


@contextlib.contextmanager
def _packages_found_in(package_dirs: Mapping[str, tuple[Path, ...]]) -> Iterator[None]:
    """During our build, grimp takes the root packages' folders we found (``package_folders``:
    on sys.path, not from ``sys.modules``) instead of looking again with ``find_spec``,
    which answers with whatever copy the test run imported first."""
    from grimp.application.config import settings

    original = settings.PACKAGE_FINDER

    class _Found:
        def determine_package_directories(self, package_name: str, file_system: Any) -> set[str]:
            folders = package_dirs.get(package_name)
            if folders is None:
                return set(original.determine_package_directories(package_name, file_system))
            return {str(folder) for folder in folders}

    settings.configure(PACKAGE_FINDER=_Found())
    try:
        yield
    finally:
        settings.configure(PACKAGE_FINDER=original)


def _module_order(item: tuple[Any, Any]) -> str:
    return str(item[0].name)


_import_order = operator.attrgetter("imported.name", "line_number", "line_contents")
"""An import's place among its module's imports (attrgetter: 60,000 of them on 10k modules)."""


def _package_dirs(name: str) -> tuple[Path, ...]:
    try:
        return tuple(Path(folder) for folder in package_folders(name))
    except PackageNotFound as exc:
        raise GraphError(str(exc)) from None


def _syntax_error_message(
    key: GraphKey, exc: grimp.exceptions.SourceSyntaxError, folders: Sequence[Path]
) -> str:
    # grimp stops at the first file it cannot parse; list them all so one run
    # tells the user everything to fix.
    broken = sorted(set(find_unparsable_files(folders)))
    first = f"{exc.filename}:{exc.lineno or '?'}"
    lines = [
        f"cannot build the import graph for {key.describe()}: "
        f"a source file does not parse ({first}: {exc.text or 'invalid syntax'}).",
    ]
    if broken:
        lines.append(
            f"Files that do not parse on Python {sys.version_info[0]}.{sys.version_info[1]}:"
        )
        lines.extend(f"  {path}:{line}: {message}" for path, line, message in broken)
    lines.append(
        "grimp reads every module of the root packages; fix these files, or move them out of "
        "the packages the contracts check."
    )
    return "\n".join(lines)


def find_link_problems(folders: Iterable[Path]) -> list[str]:
    """Symlinks below the root packages that the graph build cannot survive.

    A symlinked folder that leads back to a folder above it (grimp, which follows
    links, would walk it forever), a link that points to itself or round in a circle,
    and a ``.py`` link to nothing. Walked as grimp walks, links followed, with the
    real paths of the folders above, so each loop is found once and the walk ends.
    Plain strings and os functions: this runs over every folder of a cold build.
    """
    problems: list[str] = []
    for folder in folders:
        top = os.path.realpath(folder)
        stack: list[tuple[str, frozenset[str]]] = [(str(folder), frozenset({top}))]
        while stack:
            path, above = stack.pop()
            try:
                with os.scandir(path) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError:
                continue  # grimp reads what it can; an unreadable folder is not a hang
            for entry in entries:
                if entry.name == "__pycache__":
                    continue
                if not entry.is_symlink():
                    if entry.is_dir(follow_symlinks=False):
                        real = os.path.join(os.path.realpath(path), entry.name)  # noqa: PTH118
                        stack.append((entry.path, above | {real}))
                    continue
                target = os.readlink(entry.path)  # noqa: PTH115
                try:
                    is_dir = entry.is_dir()
                    os.stat(entry.path)  # noqa: PTH116
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        problems.append(
                            f"{entry.path} is a symlink loop (it points to {target}, which "
                            "leads back to the link itself); remove or re-point the link."
                        )
                    elif entry.name.endswith(".py"):
                        problems.append(
                            f"{entry.path} is a dangling symlink (it points to {target}, "
                            "which does not exist); remove or re-point the link."
                        )
                    continue
                if not is_dir:
                    continue
                real = os.path.realpath(entry.path)
                if real in above:
                    problems.append(
                        f"{entry.path} is a symlink loop: it points to {target}, a folder that "
                        "contains the link, so the package never ends; remove the link."
                    )
                    continue
                stack.append((entry.path, above | {real}))
    return problems


def find_unparsable_files(folders: Iterable[Path]) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            try:
                source = path.read_bytes()
                compile(source, str(path), "exec", dont_inherit=True, flags=1024)  # PyCF_ONLY_AST
            except SyntaxError as error:
                found.append((str(path), error.lineno or 0, error.msg))
            except (OSError, ValueError) as error:
                found.append((str(path), 0, str(error)))
    return found


def direct_imports(graph: BuiltGraph) -> Iterator[tuple[str, set[str]]]:
    """Each module of the root packages with the modules it imports directly."""
    roots = set(graph.key.root_packages)
    imported_by = graph.graph.find_modules_directly_imported_by
    for module in graph.graph.modules:
        if module.partition(".")[0] in roots:
            yield module, imported_by(module)


def copy_graph(graph: BuiltGraph) -> Any:
    return copy.deepcopy(graph.graph)


def module_names(graph: BuiltGraph) -> set[str]:
    """Every module of the graph (internal ones, and squashed external ones when included)."""
    return set(graph.graph.modules)


def with_extra_imports(graph: BuiltGraph, extra: Sequence[DynamicImport]) -> BuiltGraph:
    """A copy of ``graph`` with more imports (modules loaded by name), each with its line."""
    copied = copy.deepcopy(graph.graph)
    for found in extra:
        copied.add_import(
            importer=found.importer,
            imported=found.imported,
            line_number=found.line,
            line_contents=found.text,
        )
    return BuiltGraph(
        key=graph.key,
        graph=copied,
        package_dirs=graph.package_dirs,
        build_ms=graph.build_ms,
        modules=len(copied.modules),
        imports=copied.count_imports(),
        _files=graph._files,
    )


def with_imports(graph: BuiltGraph, imports: Iterable[tuple[str, str]]) -> BuiltGraph:
    """A copy of ``graph`` with more direct imports, for "would this import break a contract".

    Imports between modules the graph does not hold are left out: no contract on this
    graph can see them.
    """
    copied = copy.deepcopy(graph.graph)
    modules = copied.modules
    for importer, imported in sorted(set(imports)):
        if importer in modules and imported in modules:
            copied.add_import(importer=importer, imported=imported)
    return BuiltGraph(
        key=graph.key,
        graph=copied,
        package_dirs=graph.package_dirs,
        build_ms=0.0,
        modules=len(modules),
        imports=copied.count_imports(),
        _files=graph._files,
    )


def importers_of(graph: BuiltGraph, module: str) -> set[str]:
    if module not in graph.graph.modules:
        return set()
    return set(graph.graph.find_modules_that_directly_import(module))


def import_lines(graph: BuiltGraph, importer: str, imported: str) -> list[str]:
    """The source lines (stripped, as grimp read them) of ``importer``'s imports of
    ``imported``; empty when the graph lacks either."""
    modules = graph.graph.modules
    if importer not in modules or imported not in modules:
        return []
    details = graph.graph.get_import_details(importer=importer, imported=imported)
    return [str(detail.get("line_contents") or "") for detail in details]


# ---------------------------------------------------------------------------
# Contract types


def resolve_contract_class(type_name: str, contract_types: Sequence[str]) -> type[Any]:
    """The class for a contract type; custom ``contract_types`` may shadow built-ins."""
    for entry in contract_types:
        name, _, dotted = entry.partition(": ")
        if name == type_name:
            module_name, _, class_name = dotted.rpartition(".")
            return _load_class(f"{module_name}:{class_name}", f"contract_types entry {entry!r}")
    if type_name in BUILT_IN_TYPES:
        return _load_class(BUILT_IN_TYPES[type_name], f"built-in type {type_name!r}")
    known = sorted({*BUILT_IN_TYPES, *(e.partition(": ")[0] for e in contract_types)})
    ours = OWN_TYPES.get(type_name)
    if ours is not None:
        # pytest-ssot's own types are not built in: each config registers them, so
        # that lint-imports reads the same file the same way.
        raise ContractError(
            f"unknown contract type {type_name!r}: it is one of pytest-ssot's own types, "
            "which are registered per config file with contract_types. Add to the file's "
            "[tool.importlinter] (or [importlinter]) section:\n"
            f'    contract_types = ["{type_name}: {ours}"]\n'
            "(INI: contract_types =\n"
            f"    {type_name}: {ours}). See docs/contract-types.md, 'Registering them'. "
            f"Known types here: {', '.join(known)}."
        )
    raise ContractError(
        f"unknown contract type {type_name!r}. Known types: {', '.join(known)}. "
        "Register your own with contract_types = name: package.module.ClassName "
        "(see docs/contract-types.md)."
    )


def _load_class(target: str, what: str) -> type[Any]:
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if module_name.startswith("importlinter."):
            raise ContractError(
                f"{what} needs import-linter {library_versions()['import-linter']} to provide "
                f"{module_name}, which it does not ({exc})."
            ) from None
        raise ContractError(f"{what}: cannot import {module_name!r}: {exc}") from None
    except Exception as exc:
        raise ContractError(
            f"{what}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Contract):
        raise ContractError(
            f"{what}: {module_name}.{class_name} is not a subclass of importlinter.Contract"
        )
    return cls


def instantiate(spec: ContractSpec) -> Any:
    """Build the import-linter contract object, validating its options."""
    _ensure_configured()
    cls = resolve_contract_class(spec.type, spec.session.contract_types)
    try:
        contract = cls(
            name=spec.name,
            session_options=dict(spec.session.raw),
            contract_options=dict(spec.options),
        )
    except InvalidContractOptions as exc:
        details = "\n".join(f"  {field}: {message}" for field, message in exc.errors.items())
        raise ContractError(f"invalid options for a {spec.type} contract:\n{details}") from None
    except ContractError:
        raise
    except Exception as exc:
        raise ContractError(
            f"the {spec.type} contract type rejected its options: {type(exc).__name__}: {exc}"
        ) from None
    empty = _options_naming_nothing(cls, spec)
    if empty:
        details = "\n".join(
            f"  {name}: is empty, so the contract checks nothing: list at least one module "
            "(or remove the contract)."
            for name in empty
        )
        article = "an" if spec.type[:1] in "aeiou" else "a"
        raise ContractError(f"invalid options for {article} {spec.type} contract:\n{details}")
    return contract


def _options_naming_nothing(cls: type[Any], spec: ContractSpec) -> list[str]:
    """The options of a built-in type that are present but list nothing."""
    target = f"{cls.__module__}:{cls.__qualname__}"
    empty = [
        name
        for name in MUST_NAME_SOMETHING.get(target, ())
        if not _option_items(spec.options.get(name))
    ]
    if empty:
        return empty
    # One module is independent of nothing; one plain layer is above and below nothing.
    if target == BUILT_IN_TYPES["independence"]:
        modules = _option_items(spec.options.get("modules"))
        if len(modules) == 1 and "*" not in modules[0]:
            raise ContractError(
                "invalid options for an independence contract:\n"
                f"  modules: names only {modules[0]!r}, so the contract checks nothing: "
                "list at least two modules (or a wildcard expression)."
            )
    if target == BUILT_IN_TYPES["layers"]:
        layers = _option_items(spec.options.get("layers"))
        exhaustive = str(spec.options.get("exhaustive", "")).strip().lower() == "true"
        if len(layers) == 1 and not exhaustive and not any(c in layers[0] for c in "|:"):
            raise ContractError(
                "invalid options for a layers contract:\n"
                f"  layers: names only the layer {layers[0]!r}, so the contract checks nothing: "
                "list at least two layers (or make the contract exhaustive)."
            )
    return []


def _option_items(value: Any) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return [str(item).strip() for item in items if str(item).strip()]


def leaves_graph_unchanged(contract: Any) -> bool:
    """Whether the contract promises that its ``check`` only reads the graph.

    pytest-ssot's own types make that promise (``leaves_graph_unchanged()``, true only for
    their own ``check``); every other contract (import-linter's types remove their
    ``ignore_imports`` from the graph) gets a copy of its own.
    """
    promise = getattr(contract, "leaves_graph_unchanged", None)
    if not callable(promise):
        return False
    try:
        return promise() is True
    except Exception:
        return False


def check(contract: Any, graph: BuiltGraph) -> RawResult:
    """Check one contract on its own copy of the graph, or on the graph itself when the
    contract only reads it (``leaves_graph_unchanged``)."""
    _ensure_configured()
    started = time.perf_counter()
    try:
        given = graph.graph if leaves_graph_unchanged(contract) else copy_graph(graph)
        result: ContractCheck = contract.check(given, verbose=False)
    except MissingImport as exc:
        raise ContractError(
            f"ignore_imports names imports that do not exist:\n{_indent(str(exc))}\n"
            "Remove them, or set unmatched_ignore_imports_alerting = warn (or none)."
        ) from None
    except (ValueError, grimp.exceptions.GrimpException) as exc:
        raise ContractError(
            f"{_clean_message(exc)}\n(root packages: {graph.key.describe()})"
        ) from None
    except Exception as exc:
        raise ContractError(_crash_message(contract, exc)) from None
    if not isinstance(result, ContractCheck):
        shown = repr(result)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ContractError(
            f"the contract type {type(contract).__module__}.{type(contract).__name__}: check() "
            f"returned {type(result).__name__} {shown}, not an importlinter.ContractCheck"
        )
    check_ms = (time.perf_counter() - started) * 1000
    violations: tuple[Violation, ...] = ()
    fallback = ""
    if not result.kept:
        try:
            violations = tuple(read_violations(result.metadata))
        except (KeyError, TypeError, AttributeError, IndexError):
            violations = ()
        if not violations:
            fallback = render_with_contract(contract, result)
    try:
        return RawResult(
            kept=bool(result.kept),
            violations=violations,
            warnings=tuple(str(w) for w in result.warnings or ()),
            ignored_import_count=int(getattr(result, "ignored_import_count", 0) or 0),
            fallback_text=fallback,
            check_ms=check_ms,
        )
    except (TypeError, ValueError) as exc:
        raise ContractError(
            f"the contract type {type(contract).__module__}.{type(contract).__name__}: check() "
            f"returned a ContractCheck that cannot be read: {type(exc).__name__}: {exc}"
        ) from None


def _clean_message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text


def _crash_message(contract: Any, exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [
        f
        for f in frames
        if "importlinter" not in Path(f.filename).parts
        and "grimp" not in Path(f.filename).parts
        and Path(f.filename).name != "adapter.py"
    ]
    where = f" at {own[-1].filename}:{own[-1].lineno}" if own else ""
    return (
        f"the contract type {type(contract).__module__}.{type(contract).__name__} crashed"
        f"{where}: {type(exc).__name__}: {exc}"
    )


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def render_with_contract(contract: Any, result: Any) -> str:
    """The contract type's own text for a broken check, for types we cannot read."""
    try:
        with il_output.console.capture() as capture:
            contract.render_broken_contract(result)
    except Exception as exc:
        return f"(the contract type could not describe its findings: {type(exc).__name__}: {exc})"
    return _ANSI.sub("", capture.get()).strip()


# ---------------------------------------------------------------------------
# ignore_imports entries that no longer matter

MONOTONE_TYPES = frozenset(
    {
        "importlinter.contracts.forbidden",
        "importlinter.contracts.layers",
        "importlinter.contracts.independence",
        "importlinter.contracts.protected",
        "importlinter.contracts.private_modules",
    }
)
"""Built-in types whose violations can only grow when imports are added to the graph, and
which apply ``ignore_imports`` through import-linter's own matching."""


def _ignore_entries(contract: Any) -> list[str]:
    entries = getattr(contract, "ignore_imports", None) or ()
    return sorted({str(entry) for entry in entries})


def _fingerprints(result: ContractCheck, contract: Any) -> frozenset[str] | None:
    """The violations of a check as fingerprints; None when they cannot be read."""
    if result.kept:
        return frozenset()
    try:
        found = frozenset(_fingerprints_of(contract, result.metadata))
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    return found or None


def _chain_fingerprint(links: Sequence[Mapping[str, Any]]) -> str:
    # Violation.fingerprint of _chain_violation(links), without reading every hop.
    return f"import: {links[0]['importer']} -> {links[-1]['imported']}"


def _route_fingerprints(route: Mapping[str, Any]) -> Iterator[str]:
    chain = list(route["chain"])
    yield _chain_fingerprint(chain)
    for first in route.get("extra_firsts", ()):
        yield _chain_fingerprint([first, *chain[1:]])
    for last in route.get("extra_lasts", ()):
        yield _chain_fingerprint([*chain[:-1], last])


def _fingerprints_of(contract: Any, metadata: Mapping[str, Any]) -> Iterator[str]:
    """The fingerprints of ``read_violations(metadata)``, read from the chains' ends only.

    A broken contract's every trial in the redundant-ignore search lists all its chains
    (900 on sympy's worst case); building each hop there took 40% of the search's CPU.
    """
    if "invalid_chains" in metadata:  # forbidden, independence
        for group in metadata["invalid_chains"]:
            for chain in group["chains"]:
                if isinstance(chain, Mapping):
                    yield from _route_fingerprints(chain)
                else:
                    yield _chain_fingerprint(chain)
        return
    if "invalid_dependencies" in metadata and not metadata.get("undeclared_modules"):  # layers
        for dependency in metadata["invalid_dependencies"]:
            for route in dependency["routes"]:
                yield from _route_fingerprints(route)
        return
    yield from (v.fingerprint for v in read_violations(metadata))


def find_redundant_ignores(
    spec: ContractSpec,
    contract: Any,
    graph: BuiltGraph,
    raw: RawResult,
    *,
    budget_s: float | None = None,
) -> tuple[tuple[RedundantIgnore, ...], tuple[str, ...]]:
    """The contract's ``ignore_imports`` entries that no longer matter.

    An entry is *shadowed* when every import it matches is matched by another entry
    still in force, and has *no effect* when taking it out adds no violation
    fingerprint (so neither the verdict nor the baseline changes). Entries are taken
    out one after the other, each tried with the ones found before it already out, so
    every entry reported can be removed *together*: two entries that each cut the same
    chain are not both reported. Entries that match nothing are import-linter's to
    report (``unmatched_ignore_imports_alerting``).

    For the built-in types whose violations only grow with the graph, one copy of the
    graph serves every trial: all ignored imports are removed once, and an entry's own
    imports are added back for its trial (and kept back when it does not matter). When
    all of them back at once add nothing, one check settles every entry. Other types
    are checked once per entry, on a copy, with the entry left out of their options.

    With ``budget_s``, no trial starts once that many seconds have passed (the first
    always runs): the entries left untried are returned as the second item, unchecked.
    """
    entries = _ignore_entries(contract)
    if not entries or raw.fallback_text:
        return (), ()  # nothing to try, or violations we cannot read and so cannot compare
    baseline = frozenset(v.fingerprint for v in raw.violations)
    module = type(contract).__module__
    budget = _Budget(budget_s)
    if not module.startswith("importlinter.contracts."):
        # A contract type of its own may read ignore_imports its own way: ask it.
        out = _redundant_on_copies(spec, graph, entries, entries, baseline, budget)
        return tuple(RedundantIgnore(e, "no-effect") for e in out), tuple(budget.unchecked)
    source = graph.graph
    matched: dict[str, set[tuple[str, str]]] = {}
    for entry in entries:
        try:
            found = source.find_matching_direct_imports(import_expression=entry)
        except (ValueError, grimp.exceptions.GrimpException):
            continue
        if found:
            matched[entry] = {(str(m["importer"]), str(m["imported"])) for m in found}
    in_force = set(matched)

    def own(entry: str) -> set[tuple[str, str]]:
        others: set[tuple[str, str]] = set()
        for other in in_force - {entry}:
            others |= matched[other]
        return matched[entry] - others

    redundant: list[RedundantIgnore] = []
    for entry in sorted(matched, key=lambda e: (len(matched[e]), e)):
        if not own(entry):
            in_force.discard(entry)
            by = tuple(sorted(o for o in in_force if matched[o] & matched[entry]))
            redundant.append(RedundantIgnore(entry, "shadowed", shadowed_by=by))
    candidates = sorted(in_force)
    if candidates:
        if module in MONOTONE_TYPES:
            out = _redundant_in_place(spec, source, matched, in_force, own, baseline, budget)
        else:
            kept = [e for e in entries if e not in in_force] + candidates
            out = _redundant_on_copies(spec, graph, candidates, kept, baseline, budget)
        redundant += [
            RedundantIgnore(e, "no-effect", tuple(f"{a} -> {b}" for a, b in sorted(matched[e])))
            for e in out
        ]
    return tuple(sorted(redundant, key=lambda r: r.expression)), tuple(budget.unchecked)


_clock = time.perf_counter
"""What the search's budget is measured with (a test may count instead)."""


class _Budget:
    """The time the search may take; the entries it had no time left to try."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else _clock() + seconds
        self.unchecked: list[str] = []
        self.trials = 0

    def allows(self, entry: str) -> bool:
        """Whether ``entry`` may be tried now (the first trial always may); else noted."""
        if self.unchecked or (
            self.trials and self.deadline is not None and _clock() > self.deadline
        ):
            self.unchecked.append(entry)
            return False
        self.trials += 1
        return True


def _without_ignores(spec: ContractSpec, keep: Sequence[str] = ()) -> Any:
    # Every kept entry matched before, so the alerting options need no change.
    options = {k: v for k, v in spec.options.items() if k != "ignore_imports"}
    if keep:
        options["ignore_imports"] = list(keep)
    cls = resolve_contract_class(spec.type, spec.session.contract_types)
    return cls(name=spec.name, session_options=dict(spec.session.raw), contract_options=options)


def _adds_violation(contract: Any, graph: Any, baseline: frozenset[str]) -> bool:
    try:
        result = contract.check(graph, verbose=False)
    except Exception:
        return True  # cannot tell: keep the entry
    found = _fingerprints(result, contract)
    return found is None or not found <= baseline


def _details(source: Any, pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    added: list[dict[str, Any]] = []
    for importer, imported in sorted(pairs):
        details = source.get_import_details(importer=importer, imported=imported)
        if not details:
            added.append({"importer": importer, "imported": imported})
        for detail in details:
            added.append(
                {
                    "importer": importer,
                    "imported": imported,
                    "line_number": detail.get("line_number"),
                    "line_contents": detail.get("line_contents"),
                }
            )
    return added


def _redundant_in_place(
    spec: ContractSpec,
    source: Any,
    matched: Mapping[str, set[tuple[str, str]]],
    in_force: set[str],
    own: Any,
    baseline: frozenset[str],
    budget: _Budget,
) -> list[str]:
    """Entries of ``in_force`` (taken out of it as found) that no longer matter."""
    _ensure_configured()
    try:
        bare = _without_ignores(spec)
    except Exception:
        return []
    ignored = {pair for entry in in_force for pair in matched[entry]}

    def fresh() -> Any:
        work = copy.deepcopy(source)
        for importer, imported in ignored:
            work.remove_import(importer=importer, imported=imported)
        return work

    work = fresh()

    def trial(pairs: set[tuple[str, str]]) -> bool:
        """Whether the graph without ``ignored`` but with ``pairs`` adds no violation."""
        nonlocal work
        before = work.count_imports()
        for detail in _details(source, pairs):
            work.add_import(**detail)
        harmless = not _adds_violation(bare, work, baseline)
        if harmless:
            ignored.difference_update(pairs)  # they stay in the graph from now on
        if work.count_imports() != before + len(pairs):
            work = fresh()  # the contract changed the graph: go on from a clean copy
        elif not harmless:
            for importer, imported in pairs:
                work.remove_import(importer=importer, imported=imported)
        return harmless

    everything = set(in_force)
    budget.trials += 1
    if trial(set(ignored)):
        in_force.clear()
        return sorted(everything)  # all of them back at once add nothing
    found: list[str] = []
    for entry in sorted(everything):
        pairs = own(entry)
        if pairs and not budget.allows(entry):
            continue
        if not pairs or trial(pairs):
            in_force.discard(entry)
            found.append(entry)
    return found


def _redundant_on_copies(
    spec: ContractSpec,
    graph: BuiltGraph,
    candidates: Sequence[str],
    entries: Sequence[str],
    baseline: frozenset[str],
    budget: _Budget,
) -> list[str]:
    """One check per candidate on its own copy, with it and those found before left out."""
    _ensure_configured()
    out: list[str] = []
    for entry in candidates:
        if not budget.allows(entry):
            continue
        keep = [e for e in entries if e != entry and e not in out]
        try:
            contract = _without_ignores(spec, keep)
        except Exception:
            continue
        given = graph.graph if leaves_graph_unchanged(contract) else copy_graph(graph)
        if not _adds_violation(contract, given, baseline):
            out.append(entry)
    return out


# ---------------------------------------------------------------------------
# Reading each built-in type's metadata into violations


def _hop(link: Mapping[str, Any]) -> Hop:
    numbers = tuple(n for n in link.get("line_numbers", ()) if isinstance(n, int) and n >= 0)
    return Hop(importer=str(link["importer"]), imported=str(link["imported"]), line_numbers=numbers)


def _chain_violation(links: Sequence[Mapping[str, Any]], heading: str) -> Violation:
    hops = tuple(_hop(link) for link in links)
    return Violation(
        kind="import",
        importer=hops[0].importer,
        imported=hops[-1].imported,
        hops=hops,
        heading=heading,
    )


def _route_violations(route: Mapping[str, Any], heading: str) -> Iterator[Violation]:
    """A detailed chain: its main chain, and every other head and tail as its own import."""
    chain = list(route["chain"])
    yield _chain_violation(chain, heading)
    for first in route.get("extra_firsts", ()):
        yield _chain_violation([first, *chain[1:]], heading)
    for last in route.get("extra_lasts", ()):
        yield _chain_violation([*chain[:-1], last], heading)


def read_violations(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    """The violations in a broken check's ``metadata``, whichever type's shape it has.

    Raises KeyError, TypeError, AttributeError or IndexError on a shape it does not know
    in part; yields nothing for metadata of a type it does not know at all (the caller
    then shows the contract type's own rendering).
    """
    # One shape of metadata per contract type: the first key found names the shape.
    for key, read in _METADATA_SHAPES:
        if key in metadata:
            yield from read(metadata)
            return


def _invalid_chains(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    # forbidden, independence
    for group in metadata["invalid_chains"]:
        heading = (
            f"{group['downstream_module']} is not allowed to import {group['upstream_module']}"
        )
        for chain in group["chains"]:
            # forbidden gives a list of links; independence (since import-linter
            # 2.17) gives a detailed chain with extra heads and tails.
            if isinstance(chain, Mapping):
                yield from _route_violations(chain, heading)
            else:
                yield _chain_violation(chain, heading)


def _invalid_dependencies(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    # layers
    for dependency in metadata["invalid_dependencies"]:
        heading = f"{dependency['importer']} is not allowed to import {dependency['imported']}"
        for route in dependency["routes"]:
            yield from _route_violations(route, heading)
    for module in sorted(metadata.get("undeclared_modules", ())):
        yield Violation(
            kind="undeclared",
            importer=str(module),
            imported=str(module),
            heading="Modules not listed as layers (the contract is exhaustive)",
            message=f"{module} is not listed in any layer",
        )


def _illegal_imports(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    # protected (objects), private_modules (links)
    for entry in metadata["illegal_imports"]:
        if isinstance(entry, Mapping):
            yield _chain_violation([entry], "Imports of private modules")
            continue
        heading = f"Illegal imports of protected package {entry.top_level_module}"
        for link in entry.illegal_links:
            yield _chain_violation([link], heading)


def _cycle_breakers(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    # acyclic_siblings
    for package, breakers in sorted(metadata["cycle_breakers_by_package"].items()):
        for importer, imported in sorted(breakers):
            yield Violation(
                kind="cycle",
                importer=str(importer),
                imported=str(imported),
                heading=f"No cycles are allowed in {package}",
                message=f"{importer} -> {imported} (removing it helps break the cycle)",
            )


def _ssot_violations(metadata: Mapping[str, Any]) -> Iterator[Violation]:
    # pytest-ssot's own contract types
    for item in metadata["ssot_violations"]:
        if isinstance(item, Violation):
            yield item


_METADATA_SHAPES: tuple[tuple[str, Callable[[Mapping[str, Any]], Iterator[Violation]]], ...] = (
    ("invalid_chains", _invalid_chains),
    ("invalid_dependencies", _invalid_dependencies),
    ("illegal_imports", _illegal_imports),
    ("cycle_breakers_by_package", _cycle_breakers),
    ("ssot_violations", _ssot_violations),
)
