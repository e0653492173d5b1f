"""Manager declarations (pure parsing) and the small pieces of the instance tracker."""

from __future__ import annotations

import inspect
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.installed import module_exists
from pytest_ssot.managers import (
    KNOWN_KEYS,
    KeyPath,
    ManagerSpec,
    ObjectPath,
    load_manager_specs,
    missing_module,
    missing_name,
    parse_managers,
)
from pytest_ssot.model import ConfigError
from pytest_ssot.paths import ProjectFiles, display_path
from pytest_ssot.runtime.instances.keys import UNREADABLE, Binder, read_key
from pytest_ssot.runtime.instances.watching import DeclaredModuleFinder
from pytest_ssot.sources import load_sources

pytestmark = pytest.mark.library_surface


def parse(text: str) -> list[ManagerSpec]:
    text = textwrap.dedent(text)
    return parse_managers(tomllib.loads(text), "m.toml", text)


def test_a_full_declaration() -> None:
    [spec] = parse(
        """
        [tool.other]
        x = 1

        [[tool.ssot.managers]]
        name = "websocket-manager"
        classes = ["a.b:Impl", "a.c:Impl", "a.b:Impl"]
        key = "user_context.user_id"
        max = 2
        factories = ["a.reg:get", "a.reg:Factory.make"]
        allow_direct_in_tests = false
        guidance = "  use get()  "
        """
    )
    assert spec.name == "websocket-manager"
    assert spec.classes == (ObjectPath("a.b", "Impl"), ObjectPath("a.c", "Impl"))
    assert spec.scope == "key"
    assert spec.key == KeyPath("user_context", ("user_id",))
    assert spec.max == 2
    assert [f.text for f in spec.factories] == ["a.reg:get", "a.reg:Factory.make"]
    assert not spec.allow_direct_in_tests
    assert spec.guidance == "use get()"
    assert spec.where == "m.toml:5"
    assert spec.modules == {"a.b", "a.c"}
    assert spec.describe_rule() == (
        "at most 2 live instances per user_context.user_id in each test, "
        "created only by a.reg:get or Factory.make"
    )


@pytest.mark.parametrize(
    ("extra", "scope", "rule"),
    [
        ("", "process", "at most 1 live instance in the process"),
        ('scope = "test"', "test", "at most 1 live instance in each test"),
        ('key = "ctx"', "key", "at most 1 live instance per ctx in each test"),
        (
            'key = "ctx"\nscope = "process"',
            "process",
            "at most 1 live instance per ctx in the process",
        ),
    ],
)
def test_scope_defaults_and_rule_text(extra: str, scope: str, rule: str) -> None:
    [spec] = parse(f'[[tool.ssot.managers]]\nname = "m"\nclasses = ["a:B"]\n{extra}\n')
    assert (spec.scope, spec.describe_rule()) == (scope, rule)
    assert spec.allow_direct_in_tests and spec.max == 1 and spec.factories == ()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('classes = ["a:B"]', "m.toml:1: manager #1: has no 'name'*"),
        ('name = "a b"\nclasses = ["a:B"]', "*manager 'a b': the name may contain only *"),
        ('name = "m"', "m.toml:1: manager 'm': 'classes' must be a non-empty list *"),
        ('name = "m"\nclasses = "a:B"', "*'classes' must be a non-empty list*"),
        ('name = "m"\nclasses = ["a.B"]', "*classes: 'a.B' must look like 'package.module:Name'*"),
        ('name = "m"\nclasses = ["a-b:B"]', "*classes: 'a-b:B': 'a-b' is not a module name"),
        ('name = "m"\nclasses = ["a:1B"]', "*classes: 'a:1B': '1B' is not a (dotted) attribute*"),
        ('name = "m"\nclasses = ["a:B"]\nscope = "key"', "*scope 'key' needs a 'key'*"),
        (
            'name = "m"\nclasses = ["a:B"]\nscope = 3',
            "*scope 3 is not one of 'process', 'test', 'key'",
        ),
        (
            'name = "m"\nclasses = ["a:B"]\nscope = "test"\nkey = "k"',
            "*scope 'test' counts all instances; to count per key in each test use scope 'key'",
        ),
        ('name = "m"\nclasses = ["a:B"]\nkey = "a..b"', "*key: 'a..b' must be a constructor *"),
        ('name = "m"\nclasses = ["a:B"]\nkey = 1', "*'key' must be a string*"),
        (
            'name = "m"\nclasses = ["a:B"]\nmax = true',
            "*'max' must be a whole number of at least 1*",
        ),
        ('name = "m"\nclasses = ["a:B"]\nmax = 1.5', "*'max' must be a whole number*"),
        ('name = "m"\nclasses = ["a:B"]\nfactories = "a:f"', "*'factories' must be a list*"),
        ('name = "m"\nclasses = ["a:B"]\nfactories = ["f"]', "*factories: 'f' must look like*"),
        ('name = "m"\nclasses = ["a:B"]\nallow_direct_in_tests = 1', "*must be true or false"),
        ('name = "m"\nclasses = ["a:B"]\nguidance = 1', "*'guidance' must be a string"),
        (
            'name = "m"\nclasses = ["a:B"]\nsize = 1\ncolour = 2',
            "m.toml:1: manager 'm': unknown keys 'colour', 'size' (known keys: *)",
        ),
    ],
)
def test_every_mistake_names_the_file_and_the_manager(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(f"[[tool.ssot.managers]]\n{table}\n")
    assert info.match(_glob_to_regex(message))


def _glob_to_regex(pattern: str) -> str:
    import fnmatch

    return fnmatch.translate(pattern).removesuffix(r"\Z").replace(r"(?s:", "(?s:^", 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool]\nssot = 1\n", "m.toml: [tool.ssot] must be a table"),
        ("[tool.ssot]\nmanagers = 1\n", "m.toml: tool.ssot.managers must be an array of tables"),
    ],
)
def test_malformed_tables(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).startswith(message)


def test_nothing_declared() -> None:
    assert parse("[tool.ssot]\nother = 1\n") == []
    assert parse("[project]\nname = 'x'\n") == []


def test_unknown_keys_list_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        parse('[[tool.ssot.managers]]\nname = "m"\nclasses = ["a:B"]\nscop = "key"\n')
    assert str(info.value).endswith(f"(known keys: {', '.join(KNOWN_KEYS)})")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*KNOWN_KEYS, "other"]),
        st.one_of(
            st.text(max_size=12),
            st.integers(-2, 3),
            st.booleans(),
            st.lists(st.text(max_size=10), max_size=3),
            st.just(["a.b:C"]),
        ),
    )
)
def test_any_table_is_accepted_or_refused_with_a_config_error(table: dict[str, Any]) -> None:
    try:
        parse_managers({"tool": {"ssot": {"managers": [table]}}}, "m.toml")
    except ConfigError as exc:
        assert str(exc).startswith("m.toml: manager ")


def test_load_reads_pyproject_and_toml_contract_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.ssot.managers]]\nname = "one"\nclasses = ["a:B"]\n'
    )
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "two.toml").write_text(
        '# comment\n[[tool.ssot.managers]]\nname = "two"\nclasses = ["a:C"]\n'
    )
    (contracts / "legacy.ini").write_text("[importlinter]\nroot_package = a\n")
    (contracts / "broken.toml").write_text("not toml [")  # reported by the contract loader
    specs = load_manager_specs(tmp_path, ["contracts", "missing-entry"])
    assert [(s.name, s.where) for s in specs] == [
        ("one", "pyproject.toml:1"),
        ("two", "contracts/two.toml:2"),
    ]
    (contracts / "three.toml").write_text(
        '[[tool.ssot.managers]]\nname = "one"\nclasses = ["a:D"]\n'
    )
    with pytest.raises(
        ConfigError, match=r"contracts/three\.toml:1: manager 'one' is declared twice"
    ):
        load_manager_specs(tmp_path, ["contracts"])


def test_contract_files_holding_only_managers_are_not_empty_sources(tmp_path: Path) -> None:
    (tmp_path / "managers.toml").write_text(
        '[[tool.ssot.managers]]\nname = "one"\nclasses = ["a:B"]\n'
    )
    (tmp_path / "empty.toml").write_text("[tool.ssot]\nmanagers = []\n")
    assert load_sources(tmp_path, ["managers.toml"]) == []
    with pytest.raises(ConfigError, match="no import-linter configuration found"):
        load_sources(tmp_path, [])
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.ssot.managers]]\nname = "one"\nclasses = ["a:B"]\n'
    )
    assert load_sources(tmp_path, []) == []
    [loaded] = load_sources(tmp_path, ["empty.toml"])
    assert loaded.error is not None and "has no [tool.importlinter] section" in str(loaded.error)


# ---------------------------------------------------------------------------
# Reading the key


def _signature_cases() -> st.SearchStrategy[tuple[inspect.Signature, list[Any], dict[str, Any]]]:
    kinds = [
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ]

    @st.composite
    def build(draw: st.DrawFn) -> tuple[inspect.Signature, list[Any], dict[str, Any]]:
        count = draw(st.integers(1, 5))
        chosen = sorted(draw(st.lists(st.sampled_from(kinds), min_size=count, max_size=count)))
        var_positional = draw(st.booleans())
        var_keyword = draw(st.booleans())
        params = []
        seen_default = False
        for index, kind in enumerate(chosen):
            if kind is inspect.Parameter.KEYWORD_ONLY and var_positional:
                params.append(inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL))
                var_positional = False
            has_default = draw(st.booleans()) or (
                seen_default and kind is not inspect.Parameter.KEYWORD_ONLY
            )
            seen_default = seen_default or (
                has_default and kind is not inspect.Parameter.KEYWORD_ONLY
            )
            default = f"default{index}" if has_default else inspect.Parameter.empty
            params.append(inspect.Parameter(f"p{index}", kind, default=default))
        if var_positional:
            params.append(inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL))
        if var_keyword:
            params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
        signature = inspect.Signature(params)
        # A call that binds: positionals first, then some as keywords.
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        positional_phase = True
        for param in params:
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                if positional_phase:
                    args.extend(draw(st.lists(st.integers(), max_size=2)))
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                if draw(st.booleans()):
                    kwargs["extra"] = 1
                continue
            required = param.default is inspect.Parameter.empty
            if not required and not draw(st.booleans()):
                if param.kind is not inspect.Parameter.KEYWORD_ONLY:
                    positional_phase = False
                continue
            value = f"value-{param.name}"
            as_positional = param.kind is inspect.Parameter.POSITIONAL_ONLY or (
                param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and draw(st.booleans())
            )
            if as_positional and positional_phase:
                args.append(value)
                continue
            positional_phase = False
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                return draw(build())
            kwargs[param.name] = value
        return signature, args, kwargs

    return build()


@settings(max_examples=150, deadline=None)
@given(_signature_cases(), st.data())
def test_binder_reads_what_signature_bind_binds(
    case: tuple[inspect.Signature, list[Any], dict[str, Any]], data: st.DataObject
) -> None:
    signature, args, kwargs = case
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return  # not a valid call; the constructor itself would refuse it
    bound.apply_defaults()
    names = [
        p.name
        for p in signature.parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    name = data.draw(st.sampled_from(names))

    def func(*a: Any, **k: Any) -> None: ...

    func.__signature__ = signature  # type: ignore[attr-defined]
    binder = Binder.for_callable(func, name, bound=True)
    assert binder.value(tuple(args), kwargs) == bound.arguments[name]


class Ctx:
    def __init__(self, user_id: str | None) -> None:
        self.user_id = user_id

    @property
    def broken(self) -> str:
        raise RuntimeError("nope")


class Manager:
    def __init__(self, user_context: Ctx | None = None, *, label: str = "m") -> None:
        self.user_context = user_context


def key_of(*args: Any, path: str = "user_context.user_id", **kwargs: Any) -> tuple[Any, Any]:
    key = KeyPath.parse(path)
    binder = Binder.for_callable(Manager.__init__, key.parameter, key.attributes)
    return read_key(binder, args, kwargs)


def test_read_key_explains_none_and_unreadable_keys() -> None:
    assert key_of(Ctx("alice")) == ("alice", None)
    assert key_of(user_context=Ctx("bob")) == ("bob", None)
    assert key_of() == (None, "user_context is None")
    assert key_of(Ctx(None)) == (None, "user_context.user_id is None")
    key, note = key_of(Ctx("a"), path="user_context.broken.x")
    assert key is UNREADABLE
    assert note == "user_context.broken could not be read (RuntimeError: nope)"
    assert key_of(Ctx("a"), path="label") == ("m", None)


def test_unhashable_keys_are_compared_by_repr() -> None:
    key, _ = key_of(Ctx(["a"]))  # type: ignore[arg-type]
    other, _ = key_of(Ctx(["a"]))  # type: ignore[arg-type]
    assert key == other and hash(key) == hash(other) and repr(key) == "['a']"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ctx", "names no parameter of the constructor (self, user_context: *"),
        ("self", "names no parameter*"),
    ],
)
def test_binder_refuses_names_that_are_no_parameter(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=_glob_to_regex(message)):
        Binder.for_callable(Manager.__init__, name)


def test_binder_accepts_any_name_through_kwargs() -> None:
    def init(self: object, **options: Any) -> None: ...

    binder = Binder.for_callable(init, "ctx")
    assert binder.value((), {"ctx": 1}) == 1
    with pytest.raises(ValueError, match=r"'options' is the \*\*options parameter"):
        Binder.for_callable(init, "options")


# ---------------------------------------------------------------------------
# Paths, modules, the import watcher


def test_paths_show_project_files_relative_and_know_test_files(tmp_path: Path) -> None:
    paths = ProjectFiles(tmp_path, test_patterns=["check_*.py"])
    inside = str(tmp_path / "app" / "mod.py")
    assert display_path(inside, tmp_path, outside="as-given") == "app/mod.py"
    assert display_path("/elsewhere/x.py", tmp_path, outside="as-given") == "/elsewhere/x.py"
    assert paths.is_project(inside)
    assert not paths.is_project(str(tmp_path / ".venv/lib/site-packages/x.py"))
    assert not paths.is_project("/elsewhere/x.py")
    assert paths.is_test_file(str(tmp_path / "tests" / "check_it.py"))
    assert paths.is_test_file(str(tmp_path / "conftest.py"))
    assert not paths.is_test_file(str(tmp_path / "test_it.py"))  # not this project's pattern


def test_module_exists_imports_nothing_new() -> None:
    import json  # noqa: F401  (imported: its submodules can be looked up without side effects)

    before = set(sys.modules)
    assert module_exists("json") is True
    assert module_exists("json.decoder") is True
    assert module_exists("no_such_module_at_all") is False
    assert module_exists("json.no_such_submodule") is False
    assert module_exists("no_such_package.sub") is False
    if "xmlrpc" not in sys.modules:  # told by file, without importing the package
        assert module_exists("xmlrpc.client") is True
        assert module_exists("xmlrpc.no_such_submodule") is False
    assert set(sys.modules) == before


def test_module_exists_below_packages_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by file level by level; "cannot tell" where importing could change the answer."""
    for name, text in {
        "ssot_me_app/__init__.py": "",
        "ssot_me_app/ws/__init__.py": "",
        "ssot_me_app/ws/manager.py": "",
        "ssot_me_app/ns/deep.py": "",  # a namespace package inside a regular one
        "ssot_me_app/extended/__init__.py": "__path__.append('/elsewhere')\n",
        "ssot_me_app/plain.py": "",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    assert module_exists("ssot_me_app.ws.manager") is True
    assert module_exists("ssot_me_app.ns.deep") is True
    assert module_exists("ssot_me_app.ws.gone") is False
    assert module_exists("ssot_me_app.gone.manager") is False
    assert module_exists("ssot_me_app.extended.anything") is None  # its __path__ may grow
    assert module_exists("ssot_me_app.plain.sub") is None  # a module may fill sys.modules
    assert set(sys.modules) == before


def test_the_import_watcher_answers_only_for_the_declared_modules() -> None:
    loaded: list[str] = []
    watcher = DeclaredModuleFinder(
        frozenset({"json.tool"}), lambda name, module: loaded.append(name)
    )
    assert watcher.find_spec("json.decoder", None) is None
    assert watcher.find_spec("anything", None) is None
    import json

    spec = watcher.find_spec("json.tool", json.__path__)
    assert spec is not None and type(spec.loader).__name__ == "DeclaredModuleLoader"
    assert watcher.find_spec("no_such_module_at_all", None) is None


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("class Manager:\n    pass\n", "bound"),
        ("from .impl import Other as Manager\n", "bound"),
        ("import app.manager as Manager\n", "bound"),
        ("Manager, Other = make(), make()\n", "bound"),
        ("try:\n    from fast import Manager\nexcept ImportError:\n    Manager = None\n", "bound"),
        ("if True:\n    with open('x') as Manager:\n        pass\n", "bound"),
        ("for Manager in []:\n    pass\n", "bound"),
        ("class Other:\n    pass\n\n\ndef make():\n    Manager = 1\n", "missing"),
        ("Managers = 1\n# Manager\n", "missing"),
        ("from .impl import *\n", "cannot tell"),
        ("def __getattr__(name):\n    return 1\n", "cannot tell"),
        ("globals()['Manager'] = type('Manager', (), {})\n", "cannot tell"),
        ("class Broken(\n", "cannot tell"),
    ],
)
def test_a_declared_class_missing_from_its_module_is_found_without_importing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, verdict: str
) -> None:
    package = tmp_path / "ssot_mn_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    (package / "mod.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ssot_mn_pkg", raising=False)
    problem = missing_name(ObjectPath("ssot_mn_pkg.mod", "Manager.Inner"))
    if verdict == "missing":
        assert problem == (
            "ssot_mn_pkg.mod:Manager.Inner: module ssot_mn_pkg.mod has no 'Manager.Inner'"
        )
    else:
        assert problem is None
    assert "ssot_mn_pkg" not in sys.modules


def test_a_module_found_only_beside_the_rootdir_is_named_as_not_importable(
    tmp_path: Path,
) -> None:
    """No `pythonpath`, no install: the contracts find the package (they put the rootdir
    on sys.path), the test run cannot import it; the message says that, not "no module"."""
    (tmp_path / "ssot_nr_app").mkdir()
    (tmp_path / "ssot_nr_app" / "__init__.py").write_text("")
    (tmp_path / "ssot_nr_app" / "ws.py").write_text("class Manager:\n    pass\n")
    assert str(tmp_path) not in sys.path
    problem = missing_module(ObjectPath("ssot_nr_app.ws", "Manager"), str(tmp_path))
    assert problem is not None
    assert problem.startswith(
        "ssot_nr_app.ws:Manager: module 'ssot_nr_app.ws' cannot be imported in this run: it is "
        "found only with the rootdir on sys.path"
    )
    gone = missing_module(ObjectPath("ssot_nr_app.gone", "Manager"), str(tmp_path))
    assert gone == "ssot_nr_app.gone:Manager: there is no module named 'ssot_nr_app.gone'"
    assert missing_module(ObjectPath("ssot_nr_app.ws", "Manager")) == (
        "ssot_nr_app.ws:Manager: there is no module named 'ssot_nr_app.ws'"
    )
    assert str(tmp_path) not in sys.path and "ssot_nr_app" not in sys.modules
