"""Which calls load a module by name, and what name they load (pytest_ssot.dynamic_imports)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pytest_ssot.dynamic_imports import scan_tree


def loads(source: str, module: str = "app.plugins", is_package: bool = False) -> list[str]:
    text = textwrap.dedent(source)
    found, unresolved = scan_tree(ast.parse(text), module, is_package, text)
    return [f"{name} ({loader}, {line})" for name, line, loader, _ in found] + [
        f"? {u.call} ({u.line})" for u in unresolved
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "import importlib\nimportlib.import_module('app.x')",
            ["app.x (importlib.import_module, 2)"],
        ),
        (
            "import importlib as il\nil.import_module('app.x')",
            ["app.x (importlib.import_module, 2)"],
        ),
        (
            "from importlib import import_module\ndef f():\n    import_module('app.x')",
            ["app.x (importlib.import_module, 3)"],
        ),
        ("__import__('app.x')", ["app.x (builtins.__import__, 1)"]),
        (
            "import importlib.util\nimportlib.util.find_spec('app.x')",
            ["app.x (importlib.util.find_spec, 2)"],
        ),
        (
            "from importlib import util\nutil.spec_from_file_location('app.x', 'x.py')",
            ["app.x (importlib.util.spec_from_file_location, 2)"],
        ),
        (
            "import pkgutil\npkgutil.resolve_name('app.x:Handler')",
            ["app.x (pkgutil.resolve_name, 2)"],
        ),
        (
            "import pkgutil\npkgutil.resolve_name('app.x.Handler')",
            ["app.x (pkgutil.resolve_name, 2)"],
        ),
        (
            "from django.utils.module_loading import import_string\nimport_string('app.x.View')",
            ["app.x (django.utils.module_loading.import_string, 2)"],
        ),
        # f-strings, concatenation, % and .format: the complete segments before the computed part.
        (
            "import importlib\nimportlib.import_module(f'app.ws.{n}')",
            ["app.ws (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module(f'app.ws{n}')",
            ["app (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module('app.ws.' + n)",
            ["app.ws (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module('app.' + 'ws')",
            ["app.ws (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module('app.ws.%s' % n)",
            ["app.ws (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module('app.ws.{}'.format(n))",
            ["app.ws (importlib.import_module, 2)"],
        ),
        # Relative names with a known package.
        (
            "import importlib\nimportlib.import_module('.x', package=__package__)",
            ["app.x (importlib.import_module, 2)"],
        ),
        (
            "import importlib\nimportlib.import_module('..y', 'app.sub')",
            ["app.y (importlib.import_module, 2)"],
        ),
        # Computed names: unresolved.
        (
            "import importlib\nimportlib.import_module(name)",
            ["? importlib.import_module(name) (2)"],
        ),
        (
            "import importlib\nimportlib.import_module(f'{base}.x')",
            ["? importlib.import_module(f'{base}.x') (2)"],
        ),
        (
            "import importlib\nimportlib.import_module('.x')",
            ["? importlib.import_module('.x') (2)"],
        ),
        # Not a loader: a method of that name on something else, or a shadowed name.
        ("obj.import_module('app.x')", []),
        ("def import_module(x): pass\nimport_module('app.x')", []),
    ],
)
def test_loader_calls(source: str, expected: list[str]) -> None:
    assert loads(source) == expected


def test_package_relative_to_a_package_module() -> None:
    source = "import importlib\nimportlib.import_module('.x', package=__name__)"
    assert loads(source, module="app.plugins", is_package=True) == [
        "app.plugins.x (importlib.import_module, 2)"
    ]
