"""The bundled example (examples/websocket_migration) gives the results its README promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONTRACTS

pytestmark = pytest.mark.library_surface


def lint_imports(config: Path, cwd: Path) -> dict[str, str]:
    """Run the real lint-imports and read each contract's verdict by name."""
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(exe), "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    verdicts = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(.*\S) (KEPT|BROKEN)(?: \(.*\))?$", line)
        if match:
            verdicts[match.group(1)] = match.group(2).lower()
    assert verdicts, proc.stdout + proc.stderr
    return verdicts


def ssot_verdicts(result: pytest.RunResult, source: str) -> dict[str, str]:
    verdicts = {}
    for line in result.stdout.lines:
        match = re.match(rf"^  (KEPT|BROKEN|ERROR) +{re.escape(source)}::(\S+)", line)
        if match:
            verdicts[match.group(2)] = match.group(1).lower()
    return verdicts


def test_example_breaks_exactly_the_expected_contracts(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest("--ssot", "--ssot-only", "-v", "-p", "no:cacheprovider")
    verdicts = ssot_verdicts(result, "../../contracts/websocket.toml")
    assert verdicts == {
        "no-legacy-websocket": "broken",
        "no-shims-in-app": "broken",
        "canonical-does-not-import-legacy": "kept",
        "app-layers": "kept",
    }
    result.stdout.fnmatch_lines(
        [
            "Contract 'no-legacy-websocket' is BROKEN: App code does not import the legacy "
            "wsapp.websocket package",
            "  type forbidden, defined at ../../contracts/websocket.toml:13",
            "wsapp.app is not allowed to import wsapp.websocket (3 chains):",
            "  1. wsapp.app -> wsapp.routes.admin -> wsapp.websocket.connection_manager",
            "      wsapp/app.py:3           from wsapp.routes import admin, chat, health, status",
            "      wsapp/routes/admin.py:7  from wsapp.websocket.connection_manager import "
            "ConnectionManager",
            "",
            "  2. wsapp.app -> wsapp.routes.chat -> wsapp.websocket.connection_handler",
            "      wsapp/app.py:3          from wsapp.routes import admin, chat, health, status",
            "      wsapp/routes/chat.py:4  from wsapp.websocket.connection_handler import "
            "ConnectionHandler",
            "",
            "  3. wsapp.app -> wsapp.routes.health -> wsapp.services.notifier -> wsapp.websocket",
            "      wsapp/app.py:3                from wsapp.routes import admin, chat, health, "
            "status",
            "      wsapp/routes/health.py:3      from wsapp.services.notifier import notify",
            "      wsapp/services/notifier.py:4  from wsapp.websocket import get_websocket_manager",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "wsapp.services is not allowed to import wsapp.websocket (1 chain):",
            "  1. wsapp.services.notifier -> wsapp.websocket",
            "      wsapp/services/notifier.py:4  from wsapp.websocket import get_websocket_manager",
            "",
            "What to do: Import from wsapp.websocket_core instead: get_websocket_manager() from",
            "wsapp.websocket_core.registry, ConnectionHandler is moving there too.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "wsapp.routes is not allowed to import wsapp.websocket_core.manager (1 chain):",
            "  1. wsapp.routes.status -> wsapp.websocket_core.manager",
            "      wsapp/routes/status.py:3  from wsapp.websocket_core.manager import "
            "WebSocketManager",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "  BROKEN ../../contracts/websocket.toml::no-legacy-websocket (7 violations)",
            "  BROKEN ../../contracts/websocket.toml::no-shims-in-app (1 violation)",
            "  KEPT   ../../contracts/websocket.toml::canonical-does-not-import-legacy "
            "(1 import ignored)",
            "  KEPT   ../../contracts/websocket.toml::app-layers",
        ]
    )


@pytest.mark.parametrize(
    "contract_file",
    sorted(p.name for p in CONTRACTS.glob("*.toml") if "[tool.importlinter]" in p.read_text()),
)
def test_verdicts_equal_lint_imports(
    pytester: pytest.Pytester, example: Path, contract_file: str
) -> None:
    """On the same code and contracts, every contract's verdict equals lint-imports'."""
    expected = lint_imports(Path("../../contracts") / contract_file, cwd=example)
    (example / "pytest.ini").write_text(
        f"[pytest]\npythonpath = .\nssot_contracts = ../../contracts/{contract_file}\n"
    )
    result = pytester.runpytest(
        "--ssot", "--ssot-only", "-v", "-p", "no:cacheprovider", "-c", str(example / "pytest.ini")
    )
    ours = ssot_verdicts(result, f"../../contracts/{contract_file}")
    names = {}
    for line in (CONTRACTS / contract_file).read_text().splitlines():
        if line.startswith("id = "):
            current = line.split("=", 1)[1].strip().strip('"')
        if line.startswith("name = "):
            names[current] = line.split("=", 1)[1].strip().strip('"')
    assert {names[cid]: verdict for cid, verdict in ours.items()} == expected
