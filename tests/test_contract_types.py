"""The single_source and unique_definition contract types, end to end.

Every case writes a small project (package ``shop``: canonical ``shop.payments``,
legacy ``shop.old_payments``), runs ``pytest --ssot`` on it in-process and
asserts the exact findings: kind, the two ends of the fingerprint, and
``file:line`` of each place. The base project keeps both contracts; each
failing case changes one file to break one check. A few cases also run the real
``lint-imports`` on the same config and compare the places it prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

import pytest_ssot.contract_types  # noqa: F401  (loaded once, not in every inner run)
from pytest_ssot.items import ContractItem
from pytest_ssot.model import ContractResult
from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

Row = tuple[str, str, str, tuple[str, ...]]

CONTRACT_TYPES = """
contract_types = [
    "single_source: pytest_ssot.contract_types.SingleSourceContract",
    "unique_definition: pytest_ssot.contract_types.UniqueDefinitionContract",
]
"""

BASE: dict[str, str] = {
    "shop/__init__.py": "",
    "shop/payments/__init__.py": '''
        """The canonical payments package."""

        from shop.payments.gateway import Gateway, PaymentGateway, make_gateway

        __all__ = ["Gateway", "PaymentGateway", "make_gateway"]
        ''',
    "shop/payments/gateway.py": '''
        """The one gateway implementation."""


        class _GatewayImpl:
            def charge(self, cents: int) -> int:
                return cents


        Gateway = _GatewayImpl
        PaymentGateway = _GatewayImpl


        def make_gateway() -> _GatewayImpl:
            return _GatewayImpl()
        ''',
    # Legacy package: a deprecation shim that re-exports, also from a legacy sibling.
    "shop/old_payments/__init__.py": '''
        """Deprecated: use shop.payments."""

        import warnings

        from shop.old_payments.gateway import Gateway
        from shop.payments import make_gateway

        warnings.warn("shop.old_payments is deprecated", DeprecationWarning, stacklevel=2)

        __all__ = ["Gateway", "make_gateway"]
        ''',
    # Legacy module: aliases, a warning through another spelling, __getattr__ forwarding.
    "shop/old_payments/gateway.py": '''
        """Old home of the gateway; forwards everything."""

        from typing import TYPE_CHECKING
        from warnings import warn as _warn

        from shop.payments import gateway as _new
        from shop.payments.gateway import _GatewayImpl

        if TYPE_CHECKING:
            from shop.payments.gateway import make_gateway

        Gateway = _GatewayImpl
        PaymentGateway = _new.PaymentGateway
        _warn("shop.old_payments.gateway is deprecated", DeprecationWarning, stacklevel=2)


        def __getattr__(name: str) -> object:
            return getattr(_new, name)
        ''',
    "shop/checkout.py": '''
        """Checkout uses the canonical package."""

        from shop.payments import make_gateway


        def pay(cents: int) -> int:
            return make_gateway().charge(cents)
        ''',
    "shop/util.py": """
        def audit(message: str) -> None:
            print(message)
        """,
    # Names lie: a class named like the canonical one that is not a subclass of it.
    "shop/reports.py": '''
        """Reports: its own PaymentReport, nothing to do with gateways."""


        class PaymentReport:
            pass
        ''',
}


def pyproject(single_source: str = "", unique_definition: str = "") -> str:
    return f"""
[tool.pytest.ini_options]
minversion = "8.0"

[tool.importlinter]
root_packages = ["shop"]
{CONTRACT_TYPES}

[[tool.importlinter.contracts]]
id = "payments"
name = "shop.payments is the single source of payment gateways"
type = "single_source"
canonical_modules = ["shop.payments"]
legacy_modules = ["shop.old_payments"]
{single_source}

[[tool.importlinter.contracts]]
id = "gateways"
name = "Each gateway name is defined once"
type = "unique_definition"
names = ["*Gateway*", "make_gateway"]
canonical_modules = ["shop.payments.gateway"]
{unique_definition}
"""


def shop(
    write: WriteFiles,
    files: Mapping[str, str] | None = None,
    *,
    single_source: str = "",
    unique_definition: str = "",
) -> Path:
    return write(
        {
            **BASE,
            **(files or {}),
            "pyproject.toml": pyproject(single_source, unique_definition),
        }
    )


def run_ssot(pytester: pytest.Pytester, *args: str) -> dict[str, ContractResult]:
    """Run ``pytest --ssot --ssot-only`` in-process; each contract's result by id."""
    # Hypothesis' plugin would import all of hypothesis again in every inner run.
    reprec = pytester.inline_run(
        "--ssot", "--ssot-only", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args
    )
    results: dict[str, ContractResult] = {}
    for call in reprec.getcalls("pytest_itemcollected"):
        item = call.item
        if isinstance(item, ContractItem):
            assert item.result is not None, f"{item.nodeid} did not run"
            results[item.spec.id] = item.result
    assert results, "no contract item ran"
    return results


def places(result: ContractResult) -> list[Row]:
    """(kind, importer, imported, ("file:line", ...)) per finding, in report order."""
    assert result.error is None, result.error
    rows: list[Row] = []
    for violation in result.violations:
        if violation.hops:
            where = tuple(
                f"{hop.importer_file}:{number}"
                for hop in violation.hops
                for number in hop.line_numbers
            )
        else:
            where = (f"{violation.file}:{violation.line}",)
        rows.append((violation.kind, violation.importer, violation.imported, where))
    return rows


def findings(pytester: pytest.Pytester, *args: str) -> dict[str, list[Row]]:
    return {cid: places(result) for cid, result in run_ssot(pytester, *args).items()}


KEPT: dict[str, list[Row]] = {"payments": [], "gateways": []}


_LOCATION = re.compile(r"^ {6}(\S+\.py:\d+)  ", re.MULTILINE)


def lint_imports(cwd: Path, *args: str) -> tuple[int, str]:
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(exe), "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    return proc.returncode, proc.stdout + proc.stderr


def lint_imports_places(cwd: Path, *args: str) -> list[str]:
    """Every file:line that lint-imports prints for our findings."""
    code, out = lint_imports(cwd, *args)
    assert code == 1, out
    return _LOCATION.findall(out)


def all_places(found: Mapping[str, list[Row]]) -> list[str]:
    return [where for rows in found.values() for row in rows for where in row[3]]


# ---------------------------------------------------------------------------
# Passing fixture: both contracts kept


def test_base_project_keeps_both_contracts(pytester: pytest.Pytester, write: WriteFiles) -> None:
    # Kept although: the legacy modules re-export, alias, warn and forward with
    # __getattr__ (check 2); import only canonical and legacy modules (check 3);
    # shop.reports defines a class that is no gateway (checks 5 and unique_definition).
    shop(write)
    assert findings(pytester) == KEPT


# ---------------------------------------------------------------------------
# single_source, check 1: legacy imports


LEGACY_CHECKOUT = '''
    """Checkout still imports the legacy package."""

    from shop.old_payments import make_gateway
    '''
VIEWS = '''
    """Views reach the legacy package through checkout."""

    import shop.checkout
    '''
REFUNDS_VIA_CHECKOUT = '''
    """A canonical module that reaches the legacy package through checkout."""

    from shop.checkout import make_gateway
    '''


def test_legacy_import_is_reported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    shop(write, {"shop/checkout.py": LEGACY_CHECKOUT, "shop/views.py": VIEWS})
    assert findings(pytester) == {
        # Direct imports only by default: shop.views reaches it indirectly.
        "payments": [
            ("legacy-import", "shop.checkout", "shop.old_payments", ("shop/checkout.py:3",)),
        ],
        "gateways": [],
    }


def test_legacy_import_by_an_allowed_importer_is_kept(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(
        write,
        {"shop/checkout.py": LEGACY_CHECKOUT, "shop/views.py": VIEWS},
        single_source='allowed_importers = ["shop.checkout"]\ncheck_indirect_imports = true',
    )
    # With indirect imports on too: going through an allowed importer is allowed.
    assert findings(pytester) == KEPT


def test_indirect_imports_are_reported_as_chains(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(
        write,
        {
            "shop/checkout.py": LEGACY_CHECKOUT,
            "shop/views.py": VIEWS,
            "shop/payments/refunds.py": REFUNDS_VIA_CHECKOUT,
        },
        single_source="check_indirect_imports = true",
    )
    assert findings(pytester)["payments"] == [
        ("legacy-import", "shop.checkout", "shop.old_payments", ("shop/checkout.py:3",)),
        (
            "legacy-import",
            "shop.views",
            "shop.old_payments",
            ("shop/views.py:3", "shop/checkout.py:3"),
        ),
        (
            "canonical-imports-legacy",
            "shop.payments.refunds",
            "shop.old_payments",
            ("shop/payments/refunds.py:3", "shop/checkout.py:3"),
        ),
    ]


def test_ignore_imports_removes_the_import_and_counts_it(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(
        write,
        {"shop/checkout.py": LEGACY_CHECKOUT},
        single_source='ignore_imports = ["shop.checkout -> shop.old_payments"]',
    )
    results = run_ssot(pytester)
    assert places(results["payments"]) == []
    assert results["payments"].ignored_import_count == 1


def test_unmatched_ignore_imports_is_an_error_by_default(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, single_source='ignore_imports = ["shop.util -> shop.old_payments"]')
    result = run_ssot(pytester)["payments"]
    assert result.status == "error"
    assert "ignore_imports entry 'shop.util -> shop.old_payments' matched nothing" in (
        result.error or ""
    )


def test_unmatched_ignores_can_only_warn(pytester: pytest.Pytester, write: WriteFiles) -> None:
    shop(
        write,
        single_source='ignore_imports = ["shop.util -> shop.old_payments"]\n'
        'unmatched_ignore_alerting = "warn"',
        unique_definition='ignore_definitions = ["shop.gone:Gateway"]\n'
        'unmatched_ignore_alerting = "warn"',
    )
    results = run_ssot(pytester, "-W", "ignore::pytest_ssot.items.PytestSsotWarning")
    assert {cid: (r.status, r.warnings) for cid, r in results.items()} == {
        "payments": (
            "kept",
            ("ignore_imports entry 'shop.util -> shop.old_payments' matched nothing.",),
        ),
        "gateways": ("kept", ("ignore_definitions entry 'shop.gone:Gateway' matched nothing.",)),
    }


# ---------------------------------------------------------------------------
# single_source, check 2: shims are pure forwarding

SHIM_WITH_CODE = '''
    """Old home of the gateway, with code of its own."""

    from shop.payments.gateway import _GatewayImpl

    Gateway = _GatewayImpl
    _cache: dict[str, object] = {}


    class Adapter(_GatewayImpl):
        pass


    async def make_legacy_gateway() -> _GatewayImpl:
        return _GatewayImpl()


    print("loaded")
    '''


def test_shim_definitions_are_reported_with_name_and_line(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/old_payments/gateway.py": SHIM_WITH_CODE})
    file = "shop/old_payments/gateway.py"
    assert findings(pytester) == {
        "payments": [
            ("shim-definition", "shop.old_payments.gateway", '<print("loaded")>', (f"{file}:17",)),
            ("shim-definition", "shop.old_payments.gateway", "Adapter", (f"{file}:9",)),
            ("shim-definition", "shop.old_payments.gateway", "_cache", (f"{file}:6",)),
            (
                "shim-definition",
                "shop.old_payments.gateway",
                "make_legacy_gateway",
                (f"{file}:13",),
            ),
        ],
        "gateways": [],
    }


def test_legacy_modules_with_code_may_hold_code(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(
        write,
        {"shop/old_payments/gateway.py": SHIM_WITH_CODE},
        single_source='legacy_modules_with_code = ["shop.old_payments.gateway"]',
    )
    assert findings(pytester) == KEPT


def test_ignore_definitions_drops_matching_definitions(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(
        write,
        {"shop/old_payments/gateway.py": SHIM_WITH_CODE},
        single_source='ignore_definitions = ["shop.old_payments.*:make_*", "shop.**:_cache"]',
    )
    assert [row[2] for row in findings(pytester)["payments"]] == ['<print("loaded")>', "Adapter"]


# ---------------------------------------------------------------------------
# single_source, check 3: shims point forward

SHIM_IMPORTING_UTIL = '''
    """Old home of the gateway; logs through a helper module."""

    from shop.payments.gateway import _GatewayImpl
    from shop.util import audit

    Gateway = _GatewayImpl
    '''


def test_shim_importing_elsewhere_is_reported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    shop(write, {"shop/old_payments/gateway.py": SHIM_IMPORTING_UTIL})
    assert findings(pytester) == {
        "payments": [
            (
                "shim-import",
                "shop.old_payments.gateway",
                "shop.util",
                ("shop/old_payments/gateway.py:4",),
            ),
        ],
        "gateways": [],
    }


# ---------------------------------------------------------------------------
# single_source, check 4: the canonical side does not import the legacy side

REFUNDS_VIA_LEGACY = '''
    """Refunds, inside the canonical package, but written against the old module."""

    from shop.old_payments.gateway import Gateway
    '''


def test_canonical_importing_legacy_is_reported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/payments/refunds.py": REFUNDS_VIA_LEGACY})
    assert findings(pytester) == {
        # Once, as check 4's finding, not also as a legacy-import.
        "payments": [
            (
                "canonical-imports-legacy",
                "shop.payments.refunds",
                "shop.old_payments.gateway",
                ("shop/payments/refunds.py:3",),
            ),
        ],
        "gateways": [],
    }


# ---------------------------------------------------------------------------
# single_source, check 5: the second class object

SHADOW = '''
    """Billing wants one more method on the gateway."""

    from shop.payments import Gateway as _Base


    class PaymentGateway(_Base):
        def refund(self) -> None:
            pass
    '''
NOT_SHADOW = '''
    """Names lie: a PaymentGateway that is no subclass, a subclass under a new name."""

    from shop.payments import Gateway as _Base
    from shop.payments import make_gateway as Gateway


    class PaymentGatewayV2(_Base):
        pass


    class PaymentGateway:
        pass
    '''


def test_subclass_under_a_canonical_public_name_is_reported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # The base is found through an alias (Gateway = _GatewayImpl) and a
    # re-export (shop.payments), not by its name.
    shop(write, {"shop/billing.py": SHADOW})
    assert findings(pytester) == {
        "payments": [
            ("shadow-subclass", "shop.billing", "PaymentGateway", ("shop/billing.py:6",)),
        ],
        "gateways": [],
    }


def test_same_name_without_subclassing_is_no_shadow(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/billing.py": NOT_SHADOW})
    assert findings(pytester) == KEPT


SHIM_WITH_SUBCLASS = '''
    """Old home of the gateway, with its own subclass under the public name."""

    from shop.payments.gateway import _GatewayImpl


    class PaymentGateway(_GatewayImpl):
        pass
    '''


@pytest.mark.parametrize(
    ("single_source", "expected"),
    [
        # A shim's class is check 2's finding only, not also check 5's...
        ("", "shim-definition"),
        # ...but legacy code that is allowed to stay still must not shadow.
        ('legacy_modules_with_code = ["shop.old_payments.gateway"]', "shadow-subclass"),
    ],
)
def test_a_shim_subclass_is_reported_once(
    pytester: pytest.Pytester, write: WriteFiles, single_source: str, expected: str
) -> None:
    shop(write, {"shop/old_payments/gateway.py": SHIM_WITH_SUBCLASS}, single_source=single_source)
    assert findings(pytester)["payments"] == [
        (
            expected,
            "shop.old_payments.gateway",
            "PaymentGateway",
            ("shop/old_payments/gateway.py:6",),
        ),
    ]


# ---------------------------------------------------------------------------
# unique_definition

SECOND_GATEWAY = '''
    """Billing, written before shop.payments existed."""


    class _GatewayImpl:
        pass


    def make_gateway() -> _GatewayImpl:
        return _GatewayImpl()
    '''


def test_second_definitions_are_reported(pytester: pytest.Pytester, write: WriteFiles) -> None:
    shop(write, {"shop/billing.py": SECOND_GATEWAY})
    assert findings(pytester) == {
        "payments": [],
        "gateways": [
            ("duplicate-definition", "shop.billing", "_GatewayImpl", ("shop/billing.py:4",)),
            ("duplicate-definition", "shop.billing", "make_gateway", ("shop/billing.py:8",)),
        ],
    }


def test_without_canonical_modules_every_definition_is_reported(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/billing.py": SECOND_GATEWAY})
    text = (pytester.path / "pyproject.toml").read_text()
    (pytester.path / "pyproject.toml").write_text(
        text.replace('canonical_modules = ["shop.payments.gateway"]\n', "")
    )
    assert findings(pytester)["gateways"] == [
        ("duplicate-definition", "shop.billing", "_GatewayImpl", ("shop/billing.py:4",)),
        (
            "duplicate-definition",
            "shop.payments.gateway",
            "_GatewayImpl",
            ("shop/payments/gateway.py:4",),
        ),
        ("duplicate-definition", "shop.billing", "make_gateway", ("shop/billing.py:8",)),
        (
            "duplicate-definition",
            "shop.payments.gateway",
            "make_gateway",
            ("shop/payments/gateway.py:13",),
        ),
    ]


def test_failure_text_says_where_the_single_source_is(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/billing.py": SECOND_GATEWAY})
    result = pytester.runpytest(
        "--ssot", "--ssot-only", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    result.stdout.fnmatch_lines(
        [
            "_GatewayImpl is defined in 2 modules (1 finding):",
            "  1. shop.billing defines class _GatewayImpl again; the single source is "
            "shop.payments.gateway (line 4)",
            "      shop/billing.py:4  class _GatewayImpl:",
        ]
    )
    result.assert_outcomes(passed=1, failed=1)


def test_definition_fingerprints_survive_line_moves(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/billing.py": SECOND_GATEWAY})
    before = run_ssot(pytester)["gateways"].violations
    billing = pytester.path / "shop/billing.py"
    billing.write_text("# moved\n\n\n" + billing.read_text())  # a new size: the cache re-reads
    after = run_ssot(pytester)["gateways"].violations
    assert [v.line for v in before] == [4, 8]
    assert [v.line for v in after] == [7, 11]
    assert (
        [v.fingerprint for v in after]
        == [v.fingerprint for v in before]
        == [
            "duplicate-definition: shop.billing -> _GatewayImpl",
            "duplicate-definition: shop.billing -> make_gateway",
        ]
    )


# ---------------------------------------------------------------------------
# Files that do not parse

BROKEN_SCRIPT = """
    def make_gateway(:
        pass
    """
SCRIPT = """
    def make_gateway():
        return None
    """


def test_a_file_that_does_not_parse_is_one_finding_and_the_rest_still_appear(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # shop/scripts has no __init__.py: grimp skips it (so the graph builds),
    # scan_unpackaged_dirs reads it.
    shop(
        write,
        {
            "shop/billing.py": SECOND_GATEWAY,
            "shop/scripts/broken.py": BROKEN_SCRIPT,
            "shop/scripts/dup.py": SCRIPT,
        },
        unique_definition="scan_unpackaged_dirs = true",
    )
    assert findings(pytester) == {
        "payments": [],
        "gateways": [
            ("duplicate-definition", "shop.billing", "_GatewayImpl", ("shop/billing.py:4",)),
            ("duplicate-definition", "shop.billing", "make_gateway", ("shop/billing.py:8",)),
            (
                "duplicate-definition",
                "shop.scripts.dup",
                "make_gateway",
                ("shop/scripts/dup.py:1",),
            ),
            (
                "parse-error",
                "shop.scripts.broken",
                "shop.scripts.broken",
                ("shop/scripts/broken.py:1",),
            ),
        ],
    }


def test_unpackaged_dirs_are_not_read_by_default(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/scripts/broken.py": BROKEN_SCRIPT, "shop/scripts/dup.py": SCRIPT})
    assert findings(pytester) == KEPT


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="needs a Python without PEP 695")
def test_a_module_grimp_reads_but_this_python_cannot_parse(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # grimp's parser accepts Python 3.12 syntax; ast on 3.11 does not.
    shop(
        write,
        {
            "shop/checkout.py": LEGACY_CHECKOUT,
            "shop/billing.py": "type Cents = int\n" + textwrap.dedent(SHADOW),
        },
    )
    assert findings(pytester) == {
        "payments": [
            ("legacy-import", "shop.checkout", "shop.old_payments", ("shop/checkout.py:3",)),
            ("parse-error", "shop.billing", "shop.billing", ("shop/billing.py:1",)),
        ],
        "gateways": [
            ("parse-error", "shop.billing", "shop.billing", ("shop/billing.py:1",)),
        ],
    }


# ---------------------------------------------------------------------------
# Options that cannot work are errors, not passes


@pytest.mark.parametrize(
    ("single_source", "unique_definition", "contract", "message"),
    [
        ('ignore_definitions = ["nocolon"]', "", "payments", "'nocolon' must be in the form"),
        ("", 'names = ["two words"]', "gateways", "'two words' is not a name pattern"),
        (
            'legacy_modules_with_code = ["shop.checkout"]',
            "",
            "payments",
            "legacy_modules_with_code: not legacy modules: shop.checkout",
        ),
        (
            'allowed_importers = ["shop.nothing"]',
            "",
            "payments",
            "allowed_importers: module 'shop.nothing' does not exist",
        ),
        (
            "",
            'canonical_modules = ["shop.*.nothing"]',
            "gateways",
            "canonical_modules: module 'shop.*.nothing' matches no module",
        ),
    ],
)
def test_invalid_options_are_errors(
    pytester: pytest.Pytester,
    write: WriteFiles,
    single_source: str,
    unique_definition: str,
    contract: str,
    message: str,
) -> None:
    shop(write, single_source=single_source)
    if unique_definition:
        text = (pytester.path / "pyproject.toml").read_text()
        key = unique_definition.split(" = ")[0]
        lines = [line for line in text.splitlines() if not line.startswith(f"{key} = ")]
        (pytester.path / "pyproject.toml").write_text("\n".join([*lines, unique_definition]))
    result = run_ssot(pytester)[contract]
    assert result.status == "error"
    assert message in (result.error or "")


# ---------------------------------------------------------------------------
# The same findings under lint-imports


def test_lint_imports_prints_the_same_places(pytester: pytest.Pytester, write: WriteFiles) -> None:
    shop(
        write,
        {
            "shop/checkout.py": LEGACY_CHECKOUT,
            "shop/views.py": VIEWS,
            "shop/old_payments/gateway.py": SHIM_WITH_CODE,
            "shop/billing.py": SECOND_GATEWAY,
            "shop/scripts/broken.py": BROKEN_SCRIPT,
        },
        single_source="check_indirect_imports = true",
        unique_definition="scan_unpackaged_dirs = true",
    )
    found = findings(pytester)
    assert len(found["payments"]) == 6 and len(found["gateways"]) == 3
    assert lint_imports_places(pytester.path) == all_places(found)


# ---------------------------------------------------------------------------
# The bundled example: contracts/websocket_ssot.toml on examples/websocket_migration

EXAMPLE_FINDINGS: dict[str, list[Row]] = {
    "websocket-single-source": [
        (
            "legacy-import",
            "wsapp.routes.admin",
            "wsapp.websocket.connection_manager",
            ("wsapp/routes/admin.py:7",),
        ),
        (
            "legacy-import",
            "wsapp.routes.chat",
            "wsapp.websocket.connection_handler",
            ("wsapp/routes/chat.py:4",),
        ),
        (
            "legacy-import",
            "wsapp.routes.status",
            "wsapp.websocket_core.manager",
            ("wsapp/routes/status.py:3",),
        ),
        (
            "legacy-import",
            "wsapp.services.notifier",
            "wsapp.websocket",
            ("wsapp/services/notifier.py:4",),
        ),
        (
            "shim-definition",
            "wsapp.websocket.connection_manager",
            "get_connection_manager",
            ("wsapp/websocket/connection_manager.py:10",),
        ),
        (
            "shim-import",
            "wsapp.websocket.connection_manager",
            "wsapp.context",
            ("wsapp/websocket/connection_manager.py:3",),
        ),
        (
            "canonical-imports-legacy",
            "wsapp.websocket_core.heartbeat",
            "wsapp.websocket_core.connection_manager",
            ("wsapp/websocket_core/heartbeat.py:3",),
        ),
        (
            "shadow-subclass",
            "wsapp.websocket_core.websocket_manager",
            "WebSocketManager",
            ("wsapp/websocket_core/websocket_manager.py:10",),
        ),
    ],
    "websocket-unique-definition": [
        (
            "duplicate-definition",
            "wsapp.services.broadcast",
            "WebSocketManager",
            ("wsapp/services/broadcast.py:13",),
        ),
        (
            "duplicate-definition",
            "wsapp.websocket_core.websocket_manager",
            "WebSocketManager",
            ("wsapp/websocket_core/websocket_manager.py:10",),
        ),
        (
            "duplicate-definition",
            "wsapp.services.broadcast",
            "get_websocket_manager",
            ("wsapp/services/broadcast.py:24",),
        ),
    ],
}


def test_example_reports_exactly_the_seeded_problems(
    pytester: pytest.Pytester, example: Path
) -> None:
    found = findings(
        pytester,
        "-o",
        "ssot_contracts=../../contracts/websocket_ssot.toml",
        # The example holds its tests to a contract of another file, not loaded here.
        "-o",
        "ssot_runtime_outside_code=ignore",
    )
    assert found == EXAMPLE_FINDINGS
    # The interfaces module binds ConnectionHandler to the manager class: a
    # re-export, not a definition, so the one real ConnectionHandler is unique.
    assert not any(row[2] == "ConnectionHandler" for rows in found.values() for row in rows)


def test_example_lint_imports_reports_the_same(pytester: pytest.Pytester, example: Path) -> None:
    printed = lint_imports_places(example, "--config", "../../contracts/websocket_ssot.toml")
    assert printed == all_places(EXAMPLE_FINDINGS)


def test_baseline_freezes_findings_across_line_moves(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    shop(write, {"shop/billing.py": SECOND_GATEWAY, "shop/old_payments/gateway.py": SHIM_WITH_CODE})
    args = ("--ssot", "--ssot-only", "-p", "no:hypothesispytest", "--ssot-baseline=base.json")
    pytester.runpytest(*args, "--ssot-baseline-update").assert_outcomes(passed=2)
    for name in ("shop/billing.py", "shop/old_payments/gateway.py"):
        path = pytester.path / name
        path.write_text('"""Moved down."""\n\n\n' + path.read_text())
    pytester.runpytest(*args).assert_outcomes(passed=2)
    # A new definition is not frozen.
    scripts = pytester.path / "shop/old_payments/gateway.py"
    scripts.write_text(scripts.read_text() + "\n\ndef another() -> None:\n    pass\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*shop.old_payments.gateway has function another of its own*"])


# ---------------------------------------------------------------------------
# One graph for the contracts of a run: no copy for a contract that only reads it


def _ignoring(contract_id: str, ignored: str) -> str:
    return f"""
[[tool.importlinter.contracts]]
id = "{contract_id}"
name = "payments, with an import ignored"
type = "single_source"
canonical_modules = ["shop.payments"]
legacy_modules = ["shop.old_payments"]
ignore_imports = ["{ignored}"]
"""


def _with_contracts(pytester: pytest.Pytester, before: str, after: str, types: str = "") -> None:
    """The shop's pyproject with more contracts before and after its own two."""
    text = (pytester.path / "pyproject.toml").read_text()
    head, marker, rest = text.partition("[[tool.importlinter.contracts]]")
    if types:
        head = head.replace(CONTRACT_TYPES, CONTRACT_TYPES.replace("]\n", f"    {types}\n]\n"))
    (pytester.path / "pyproject.toml").write_text(head + before + "\n" + marker + rest + after)


LEGACY_IMPORT_ROW: Row = (
    "legacy-import",
    "shop.checkout",
    "shop.old_payments",
    ("shop/checkout.py:3",),
)


def test_a_contract_never_sees_the_imports_another_one_ignores(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # Single-source contracts share the run's graph (no copy): the ignored import is left
    # out of what one contract reads, never removed from the graph the next one reads.
    # Contracts on both sides: whichever order they are checked in, one comes first.
    shop(write, {"shop/checkout.py": LEGACY_CHECKOUT})
    ignored = "shop.checkout -> shop.old_payments"
    _with_contracts(pytester, _ignoring("a-ignoring", ignored), _ignoring("z-ignoring", ignored))
    results = run_ssot(pytester)
    assert places(results["payments"]) == [LEGACY_IMPORT_ROW]
    for contract in ("a-ignoring", "z-ignoring"):
        assert places(results[contract]) == []
        assert results[contract].ignored_import_count == 1


def test_an_ignore_entry_that_only_repeats_an_earlier_one_is_unmatched(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # As when import-linter removes each entry's imports in turn: the second entry finds
    # nothing left to match.
    shop(
        write,
        {"shop/checkout.py": LEGACY_CHECKOUT},
        single_source='ignore_imports = ["shop.checkout -> shop.old_payments", '
        '"shop.* -> shop.old_payments"]\nunmatched_ignore_alerting = "warn"',
    )
    result = run_ssot(pytester)["payments"]
    assert places(result) == []
    assert result.ignored_import_count == 1
    assert result.warnings == (
        "ignore_imports entry 'shop.* -> shop.old_payments' matched nothing.",
    )


REMOVER = '''
    """Contract types that change the graph they are given."""

    from importlinter import Contract, ContractCheck

    from pytest_ssot.contract_types import SingleSourceContract


    def _remove_legacy_imports(graph):
        for importer in sorted(graph.find_modules_that_directly_import("shop.old_payments")):
            graph.remove_import(importer=importer, imported="shop.old_payments")


    class Remover(Contract):
        def check(self, graph, verbose):
            _remove_legacy_imports(graph)
            return ContractCheck(kept=True, warnings=[])

        def render_broken_contract(self, check):
            pass


    class RemovingSingleSource(SingleSourceContract):
        """A subclass with a check of its own: it inherits no promise to leave the graph be."""

        def check(self, graph, verbose):
            _remove_legacy_imports(graph)
            return super().check(graph, verbose)
    '''


@pytest.mark.parametrize(
    "contract",
    [
        'type = "forbidden"\nsource_modules = ["shop.checkout"]\n'
        'forbidden_modules = ["shop.util"]\n'
        'ignore_imports = ["shop.checkout -> shop.old_payments"]',
        'type = "remover"',
        'type = "removing_single_source"\ncanonical_modules = ["shop.payments"]\n'
        'legacy_modules = ["shop.old_payments"]',
    ],
    ids=["forbidden-with-ignores", "custom-type", "single-source-subclass"],
)
def test_a_contract_that_changes_the_graph_gets_its_own_copy(
    pytester: pytest.Pytester, write: WriteFiles, contract: str
) -> None:
    shop(write, {"shop/checkout.py": LEGACY_CHECKOUT, "shop_types.py": REMOVER})
    types = (
        '"remover: shop_types.Remover",\n'
        '    "removing_single_source: shop_types.RemovingSingleSource",'
    )
    changer = f'\n[[tool.importlinter.contracts]]\nid = "{{}}"\nname = "changes"\n{contract}\n'
    _with_contracts(pytester, changer.format("a-changes"), changer.format("z-changes"), types)
    results = run_ssot(pytester)
    assert results["a-changes"].error is None, results["a-changes"].error
    assert places(results["payments"]) == [LEGACY_IMPORT_ROW]


def test_the_ssot_types_are_checked_without_a_copy_of_the_graph(
    pytester: pytest.Pytester, write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot import adapter

    checking: list[str] = []
    copied_for: list[str] = []
    check, copy_graph = adapter.check, adapter.copy_graph

    def counted_check(contract: object, graph: adapter.BuiltGraph) -> object:
        checking.append(type(contract).__name__)
        try:
            return check(contract, graph)
        finally:
            checking.pop()

    def counted_copy(graph: adapter.BuiltGraph) -> object:
        copied_for.append(checking[-1] if checking else "?")
        return copy_graph(graph)

    monkeypatch.setattr(adapter, "check", counted_check)
    monkeypatch.setattr(adapter, "copy_graph", counted_copy)
    shop(write, {"shop/checkout.py": LEGACY_CHECKOUT})
    ignored = "shop.checkout -> shop.old_payments"
    _with_contracts(pytester, _ignoring("a-ignoring", ignored), "")
    results = run_ssot(pytester)
    assert places(results["payments"]) == [LEGACY_IMPORT_ROW]
    # Neither the checks, nor the search for ignores that no longer matter, nor the
    # fixer's checks with candidate imports copy the graph for them.
    assert copied_for == []
    # A built-in type still gets its copy (each time it is checked).
    _with_contracts(
        pytester,
        '\n[[tool.importlinter.contracts]]\nid = "forbidden"\nname = "f"\ntype = "forbidden"\n'
        'source_modules = ["shop.checkout"]\nforbidden_modules = ["shop.util"]\n',
        "",
    )
    run_ssot(pytester)
    assert copied_for
    assert set(copied_for) == {"ForbiddenContract"}
