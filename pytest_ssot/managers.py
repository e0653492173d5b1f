"""Manager declarations: which classes pytest-ssot watches while the tests run, and the rule.

A manager is declared in a ``[[tool.ssot.managers]]`` table, in the project's
``pyproject.toml`` or in any TOML file listed by the ``ssot_contracts`` ini
option::

    [[tool.ssot.managers]]
    name = "websocket-manager"
    classes = ["wsapp.websocket_core.unified_manager:_UnifiedWebSocketManagerImplementation"]
    scope = "key"                     # "process", "test" or "key"
    key = "user_context.user_id"      # a constructor parameter, then attributes
    max = 1
    factories = ["wsapp.websocket_core.registry:get_websocket_manager"]
    shared_ok = ["._config"]          # attribute paths that instances of different keys may share
    must_not_outlive = "test"         # opt-in: no instance may survive its test

Parsing and validation only: pure functions of the file contents, no imports
of the declared modules (that happens when the tests import them).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ssot.installed import module_exists, module_source
from pytest_ssot.model import ConfigError, Finding, Phase
from pytest_ssot.sources import Declarations, is_dotted_name, read_declarations
from pytest_ssot.syspath import importable_from

DECLARATION = "manager-declaration"
"""The check that reports a declaration that cannot be applied as written."""
PROCESS = "process"
TEST = "test"
KEY = "key"
SCOPES = (PROCESS, TEST, KEY)
KNOWN_KEYS = (
    "name",
    "classes",
    "scope",
    "key",
    "max",
    "factories",
    "allow_direct_in_tests",
    "guidance",
    "shared_state",
    "shared_depth",
    "shared_ok",
    "must_not_outlive",
)
OUTLIVE_CHOICES = ("test",)
DEFAULT_SHARED_DEPTH = 2
_MANAGER_HEADER_RE = re.compile(r"^\s*\[\[\s*tool\s*\.\s*ssot\s*\.\s*managers\s*\]\]")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ObjectPath:
    """``package.module:Qual.Name``: where a class or a factory lives."""

    module: str
    qualname: str

    @property
    def text(self) -> str:
        return f"{self.module}:{self.qualname}"

    @property
    def shown(self) -> str:
        """How a factory is named in messages: ``Class.method`` for a method,
        ``module:function`` for a function."""
        return self.qualname if "." in self.qualname else self.text

    @classmethod
    def parse(cls, text: str) -> ObjectPath:
        """Parse a path; ValueError says what is wrong with it."""
        module, sep, qualname = text.strip().partition(":")
        if not sep:
            raise ValueError(f"{text!r} must look like 'package.module:Name' (with a colon)")
        if not is_dotted_name(module):
            raise ValueError(f"{text!r}: {module!r} is not a module name")
        if not is_dotted_name(qualname):
            raise ValueError(f"{text!r}: {qualname!r} is not a (dotted) attribute name")
        return cls(module, qualname)

    def resolve(self, module: object) -> object:
        """The object this path names inside an imported module (AttributeError if absent)."""
        found = module
        for part in self.qualname.split("."):
            found = getattr(found, part)
        return found


@dataclass(frozen=True)
class KeyPath:
    """``parameter.attr.attr``: the constructor argument that partitions the instances."""

    parameter: str
    attributes: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join((self.parameter, *self.attributes))

    @classmethod
    def parse(cls, text: str) -> KeyPath:
        if not is_dotted_name(text.strip()):
            raise ValueError(
                f"{text!r} must be a constructor parameter name, optionally followed by "
                "attributes (for example 'user_context.user_id')"
            )
        first, *rest = text.strip().split(".")
        return cls(first, tuple(rest))


@dataclass(frozen=True)
class ManagerSpec:
    """One declared manager: the classes that make up one concept, and its rule.

    Holds the classes, the key and scope that partition the count, the maximum, the
    factories allowed to construct them, the shared-state settings and where it was
    declared. Made by ``parse_manager`` from one ``[[tool.ssot.managers]]`` table
    (``load_manager_specs`` reads them once per run); the instance tracker and the
    isolation checks enforce it.
    """

    name: str
    classes: tuple[ObjectPath, ...]
    scope: str
    key: KeyPath | None
    max: int
    factories: tuple[ObjectPath, ...]
    allow_direct_in_tests: bool
    guidance: str
    source: str
    """The declaring file, as shown to users (relative to the rootdir)."""
    line: int | None = None
    shared_state: bool = True
    """Check that instances of different keys share no mutable state (keyed managers only)."""
    shared_depth: int = DEFAULT_SHARED_DEPTH
    """How many attribute hops the shared-state check follows from each instance."""
    shared_ok: tuple[str, ...] = ()
    """Attribute path patterns that instances of different keys may share."""
    must_not_outlive: str | None = None
    """"test": an instance created in a test must be gone after its teardown."""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(path.module for path in self.classes)

    def describe_rule(self) -> str:
        """The rule in one line, e.g. 'at most 1 live instance per user_context.user_id ...'."""
        noun = "instance" if self.max == 1 else "instances"
        if self.key is not None:
            window = "in the process" if self.scope == PROCESS else "in each test"
            text = f"at most {self.max} live {noun} per {self.key.text} {window}"
        elif self.scope == PROCESS:
            text = f"at most {self.max} live {noun} in the process"
        else:
            text = f"at most {self.max} live {noun} in each test"
        if self.factories:
            text += ", created only by " + " or ".join(self.factory_names)
        return text

    @property
    def factory_names(self) -> list[str]:
        """The factories as messages name them (``module:Class.method`` where two methods
        share a name)."""
        shown = [f.shown for f in self.factories]
        return [f.text if shown.count(f.shown) > 1 else f.shown for f in self.factories]


def _where(display: str, line: int | None) -> str:
    return f"{display}:{line}" if line else display


def _string_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def parse_manager(
    table: Mapping[str, Any], display: str, line: int | None, index: int
) -> ManagerSpec:
    """Validate one ``[[tool.ssot.managers]]`` table. ConfigError names the file and manager."""
    raw_name = table.get("name")
    label = f"manager {raw_name!r}" if isinstance(raw_name, str) else f"manager #{index + 1}"
    where = _where(display, line)

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {label}: {problem}", line=line)

    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        plural = "key" if len(unknown) == 1 else "keys"
        names = ", ".join(map(repr, unknown))
        raise fail(f"unknown {plural} {names} (known keys: {', '.join(KNOWN_KEYS)})")
    if not isinstance(raw_name, str) or not raw_name.strip():
        raise fail("has no 'name' (a short id such as \"websocket-manager\")")
    name = raw_name.strip()
    if not _NAME_RE.match(name):
        raise fail("the name may contain only letters, digits, '.', '_' and '-'")

    classes_raw = _string_list(table.get("classes"))
    if not classes_raw:
        raise fail(
            "'classes' must be a non-empty list of class paths like [\"package.module:ClassName\"]"
        )
    classes = _object_paths(classes_raw, "classes", fail)
    key, scope = _key_and_scope(table, fail)

    raw_max = table.get("max", 1)
    if isinstance(raw_max, bool) or not isinstance(raw_max, int) or raw_max < 1:
        raise fail(f"'max' must be a whole number of at least 1, not {raw_max!r}")

    raw_factories = table.get("factories", [])
    factories_list = _string_list(raw_factories)
    if factories_list is None:
        raise fail("'factories' must be a list of function paths like [\"package.module:get_x\"]")
    factories = _object_paths(factories_list, "factories", fail)

    allow_direct = table.get("allow_direct_in_tests", True)
    if not isinstance(allow_direct, bool):
        raise fail("'allow_direct_in_tests' must be true or false")
    guidance = table.get("guidance", "")
    if not isinstance(guidance, str):
        raise fail("'guidance' must be a string")
    shared_state, depth, shared_ok = _shared_state(table, key, fail)
    outlive = table.get("must_not_outlive")
    if outlive is not None and outlive not in OUTLIVE_CHOICES:
        raise fail(f"'must_not_outlive' must be \"test\" (or left out), not {outlive!r}")

    return ManagerSpec(
        name=name,
        classes=tuple(dict.fromkeys(classes)),
        scope=scope,
        key=key,
        max=raw_max,
        factories=tuple(dict.fromkeys(factories)),
        allow_direct_in_tests=allow_direct,
        guidance=guidance.strip(),
        source=display,
        line=line,
        shared_state=shared_state,
        shared_depth=depth,
        shared_ok=tuple(dict.fromkeys(p.strip() for p in shared_ok)),
        must_not_outlive=outlive,
    )


_Fail = Callable[[str], ConfigError]


def _object_paths(texts: Sequence[str], setting: str, fail: _Fail) -> list[ObjectPath]:
    paths: list[ObjectPath] = []
    for text in texts:
        try:
            paths.append(ObjectPath.parse(text))
        except ValueError as exc:
            raise fail(f"{setting}: {exc}") from None
    return paths


def _key_and_scope(table: Mapping[str, Any], fail: _Fail) -> tuple[KeyPath | None, str]:
    raw_key = table.get("key")
    key: KeyPath | None = None
    if raw_key is not None:
        if not isinstance(raw_key, str):
            raise fail("'key' must be a string such as \"user_context.user_id\"")
        try:
            key = KeyPath.parse(raw_key)
        except ValueError as exc:
            raise fail(f"key: {exc}") from None

    raw_scope = table.get("scope", KEY if key is not None else PROCESS)
    if raw_scope not in SCOPES:
        raise fail(f"scope {raw_scope!r} is not one of {', '.join(map(repr, SCOPES))}")
    scope = str(raw_scope)
    if scope == KEY and key is None:
        raise fail("scope 'key' needs a 'key' (for example key = \"user_context.user_id\")")
    if scope == TEST and key is not None:
        raise fail(
            "scope 'test' counts all instances; to count per key in each test use scope 'key'"
        )
    return key, scope


def _shared_state(
    table: Mapping[str, Any], key: KeyPath | None, fail: _Fail
) -> tuple[bool, int, list[str]]:
    """``shared_state``, ``shared_depth`` and ``shared_ok``, checked together."""
    shared_state = table.get("shared_state", True)
    if not isinstance(shared_state, bool):
        raise fail("'shared_state' must be true or false")
    depth = table.get("shared_depth", DEFAULT_SHARED_DEPTH)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 8:
        raise fail(f"'shared_depth' must be a whole number from 1 to 8, not {depth!r}")
    shared_ok = _string_list(table.get("shared_ok", []))
    if shared_ok is None:
        raise fail(
            "'shared_ok' must be a list of attribute paths such as "
            '["._config", "._registry._queues"]'
        )
    for pattern in shared_ok:
        problem = shared_ok_problem(pattern)
        if problem:
            raise fail(f"shared_ok: {pattern!r} {problem}")
    if (shared_ok or "shared_depth" in table) and key is None:
        raise fail(
            "'shared_ok' and 'shared_depth' need a 'key': the shared-state check compares the "
            "instances of different keys"
        )
    return shared_state, depth, shared_ok


_SHARED_OK_RE = re.compile(r"^(?:\.(?:[A-Za-z_*][A-Za-z0-9_*]*)|\[[^\]]*\])+$")


def shared_ok_problem(pattern: str) -> str | None:
    """Why a ``shared_ok`` entry is not an attribute path pattern, or None if it is one."""
    if not _SHARED_OK_RE.match(pattern.strip()):
        return (
            "is not an attribute path: write it as reached from an instance, starting with a "
            'dot, for example "._registry" or "._registry._queues" (\'*\' matches any name)'
        )
    return None


def parse_managers(data: Mapping[str, Any], display: str, text: str = "") -> list[ManagerSpec]:
    """The managers declared in one parsed TOML document (empty if it declares none)."""
    tool = data.get("tool")
    ssot = tool.get("ssot") if isinstance(tool, dict) else None
    if ssot is None:
        return []
    if not isinstance(ssot, dict):
        raise ConfigError(f"{display}: [tool.ssot] must be a table")
    raw = ssot.get("managers")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(
            f"{display}: tool.ssot.managers must be an array of tables ([[tool.ssot.managers]])"
        )
    lines = [n for n, line in enumerate(text.splitlines(), 1) if _MANAGER_HEADER_RE.match(line)]
    specs = []
    for index, table in enumerate(raw):
        line = lines[index] if index < len(lines) and len(lines) == len(raw) else None
        specs.append(parse_manager(table, display, line, index))
    return specs


def check_unique_names(specs: Iterable[ManagerSpec]) -> None:
    seen: dict[str, ManagerSpec] = {}
    for spec in specs:
        other = seen.get(spec.name)
        if other is not None:
            raise ConfigError(
                f"{spec.where}: manager {spec.name!r} is declared twice (also at {other.where}); "
                "manager names must be unique"
            )
        seen[spec.name] = spec


def load_manager_specs(
    rootdir: Path, contract_entries: Sequence[str], declarations: Declarations | None = None
) -> list[ManagerSpec]:
    """Every declared manager: the rootdir's pyproject.toml, then the ssot_contracts TOML files.

    ``declarations``: the run's ``[tool.ssot]`` tables, if already read
    (``sources.read_declarations``, which the contract loader shares).
    """
    if declarations is None:
        declarations = read_declarations(rootdir, contract_entries)
    specs = [
        spec
        for declared in declarations.files
        for spec in parse_managers(declared.data, declared.display, declared.text)
    ]
    check_unique_names(specs)
    return specs


def declaration_fingerprint(spec: ManagerSpec, detail: str) -> str:
    return f"{DECLARATION}: {spec.name}: {detail}"


def declaration_finding(spec: ManagerSpec, problem: str, phase: Phase, fingerprint: str) -> Finding:
    """A declaration that cannot be applied, as an error finding."""
    return Finding(
        check=DECLARATION,
        rule=spec.name,
        summary=f"manager {spec.name!r} ({spec.where}): {problem}",
        details=(
            f"The declaration of manager {spec.name!r} at {spec.where} cannot be applied "
            f"as written (found during {phase.describe()}). Fix the declaration: until "
            "then this part of the rule is not checked."
        ),
        phase=phase,
        fingerprint=fingerprint,
    )


def missing_module(path: ObjectPath, rootdir: str | None = None) -> str | None:
    """The problem of a declared path whose module cannot exist, found without importing.

    ``rootdir``: when the module is found only with the rootdir on ``sys.path`` (where
    the contracts look for packages), the problem says that this run cannot import it.
    """
    if module_exists(path.module) is not False:
        return None
    if rootdir is not None:
        with importable_from(rootdir):
            beside = module_exists(path.module)
        if beside is not False:
            return (
                f"{path.text}: module {path.module!r} cannot be imported in this run: it is "
                "found only with the rootdir on sys.path, which this run does not have (set "
                'pytest\'s pythonpath, for example pythonpath = ["."], or install the project)'
            )
    return f"{path.text}: there is no module named {path.module!r}"


def missing_name(path: ObjectPath) -> str | None:
    """The problem of a declared path whose module exists but surely binds no such name,
    found by reading its source without importing it.

    Only the first part of the qualified name is looked for, among the names the module
    binds at its top level (in ``if``/``try``/``with`` blocks too). Whatever could bind
    it otherwise (a star import, a module ``__getattr__``, ``globals()`` or ``setattr``)
    makes the answer "cannot tell": no problem is reported then.
    """
    source = module_source(path.module)
    if source is None:
        return None
    try:
        with open(source, "rb") as handle:  # noqa: PTH123
            data = handle.read()
        tree = ast.parse(data, filename=source)
    except (OSError, SyntaxError, ValueError):
        return None  # unreadable or broken: the import will say what is wrong
    if any(word in data for word in (b"globals()", b"setattr(", b"__dict__")):
        return None
    bound = _module_names(tree.body)
    if bound is None or path.qualname.partition(".")[0] in bound:
        return None
    return f"{path.text}: module {path.module} has no {path.qualname!r}"


_BLOCKS = (ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)


def _module_names(body: Sequence[ast.stmt]) -> set[str] | None:
    """The names statements at a module's top level bind; None when that cannot be told."""
    names: set[str] = set()
    for node in body:
        bound = _bound_by(node)
        if bound is None:
            return None
        names |= bound
        if isinstance(node, _BLOCKS):
            inner = _module_names(_block_body(node))
            if inner is None:
                return None
            names |= inner
    return names


def _targets(*nodes: ast.AST | None) -> set[str]:
    return {
        n.id
        for node in nodes
        if node is not None
        for n in ast.walk(node)
        if isinstance(n, ast.Name)
    }


def _bound_by(node: ast.stmt) -> set[str] | None:
    """What one statement binds itself (a block's own targets, not its body)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None if node.name == "__getattr__" else {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if any(alias.name == "*" for alias in node.names):
            return None
        return {alias.asname or alias.name.partition(".")[0] for alias in node.names}
    if isinstance(node, ast.Assign):
        return _targets(*node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        return _targets(node.target)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return _targets(*(item.optional_vars for item in node.items))
    if isinstance(node, (ast.Try, ast.TryStar)):
        return {handler.name for handler in node.handlers if handler.name}
    if isinstance(node, ast.Match):
        return None  # capture patterns bind names: rare here, not worth guessing
    return set()


def _block_body(node: ast.stmt) -> list[ast.stmt]:
    inner: list[ast.stmt] = []
    for field in ("body", "orelse", "finalbody"):
        inner += getattr(node, field, [])
    for handler in getattr(node, "handlers", []):
        inner += handler.body
    return inner


def declaration_problem(path: ObjectPath, rootdir: str | None = None) -> str | None:
    """What reading the files says is wrong with a declared path: its module cannot exist
    (or, with ``rootdir``, cannot be imported by this run), or surely has no such name.
    Nothing is imported."""
    return missing_module(path, rootdir) or missing_name(path)
