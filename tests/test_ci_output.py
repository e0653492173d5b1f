"""What CI dashboards read: JUnit classnames of contracts, one GitHub annotation per site."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_ssot.reporting.github import RuntimeSite, runtime_annotation_lines
from pytest_ssot.reporting.junit import contract_classname
from tests.conftest import WriteFiles

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": "",
    "pkg/legacy.py": "",
    "pkg/app.py": "import pkg.legacy\n",
    "tests/test_api.py": "def test_one():\n    pass\n",
    "pyproject.toml": """
        [tool.pytest.ini_options]
        ssot_contracts = ["contracts/migration.toml"]

        [tool.importlinter]
        root_package = "pkg"

        [[tool.importlinter.contracts]]
        id = "core-alone"
        name = "core imports nothing"
        type = "forbidden"
        source_modules = ["pkg.core"]
        forbidden_modules = ["pkg.app"]
    """,
    "contracts/migration.toml": """
        [[tool.importlinter.contracts]]
        id = "no-legacy"
        name = "app does not use legacy"
        type = "forbidden"
        source_modules = ["pkg.app"]
        forbidden_modules = ["pkg.legacy"]
    """,
}


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_junit_classname_groups_contracts_by_file(
    pytester: pytest.Pytester, write: WriteFiles, xdist: bool
) -> None:
    write(PROJECT)
    args = ["--ssot", "-p", "no:randomly", "--junitxml=junit.xml"]
    if xdist:
        pytester.runpytest_subprocess(*args, "-n", "2")
    else:
        pytester.runpytest(*args)
    root = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    assert cases == {
        ("contracts.migration", "no-legacy"),  # not "contracts.migration.toml"
        ("pyproject", "core-alone"),
        ("tests.test_api", "test_one"),  # pytest's own, untouched
    }
    # The failure text is still there, under the new classname.
    [failure] = root.iter("failure")
    assert "Contract 'no-legacy' is BROKEN" in (failure.get("message") or "")


def test_junit_prefix_is_kept(pytester: pytest.Pytester, write: WriteFiles) -> None:
    write(PROJECT)
    pytester.runpytest("--ssot", "-p", "no:randomly", "--junitxml=j.xml", "--junitprefix=ci")
    root = ET.parse(pytester.path / "j.xml").getroot()
    names = {c.get("name"): c.get("classname") for c in root.iter("testcase")}
    assert names["no-legacy"] == "ci.contracts.migration"


@pytest.mark.parametrize(
    ("display", "classname"),
    [
        ("contracts/migration.toml", "contracts.migration"),
        ("../../contracts/websocket.toml", "contracts.websocket"),
        ("pyproject.toml", "pyproject"),
        ("setup.cfg", "setup"),
        (".importlinter", "importlinter"),
        ("contracts/v1.2/x.ini", "contracts.v1.2.x"),
    ],
)
def test_contract_classname(display: str, classname: str) -> None:
    assert contract_classname(display) == classname


BYPASS = {
    "app/__init__.py": "",
    "app/managers.py": """
        class Manager:
            def __init__(self, user_id=None):
                self.user_id = user_id


        _made = {}


        def get_manager(user_id):
            if user_id not in _made:
                _made[user_id] = Manager(user_id)
            return _made[user_id]
    """,
    "app/routes.py": """
        from app.managers import Manager


        def send(user_id):
            return Manager(user_id)
    """,
    "tests/test_send.py": """
        from app.routes import send


        def test_send_alice():
            send("alice")


        def test_send_bob():
            send("bob")
    """,
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]

        [[tool.ssot.managers]]
        name = "manager"
        classes = ["app.managers:Manager"]
        key = "user_id"
        factories = ["app.managers:get_manager"]
    """,
}


def test_one_github_annotation_per_site_listing_the_tests(
    pytester: pytest.Pytester, write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(BYPASS)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    result = pytester.runpytest("--ssot", "-p", "no:randomly")
    result.assert_outcomes(failed=2)
    errors = [line for line in result.stdout.lines if line.startswith("::error")]
    assert errors == [
        "::error file=app/routes.py,line=5,title=pytest-ssot%3A factory-bypass (manager)::"
        "manager: Manager constructed directly in send, bypassing app.managers:get_manager"
        "%0AIn 2 tests: tests/test_send.py::test_send_alice, tests/test_send.py::test_send_bob"
    ]


def test_runtime_annotation_grouping() -> None:
    def site(nodeid: str, line: int | None = 3, file: str | None = "a.py") -> RuntimeSite:
        return RuntimeSite("factory-bypass", "m", "m: bypass", file, line, nodeid)

    lines = runtime_annotation_lines(
        [site("t::a"), site("t::b"), site("t::a"), site("t::c", line=4), site("", file=None)],
        Path("/"),
        environ={},
    )
    assert lines == [
        "::error file=a.py,line=3,title=pytest-ssot%3A factory-bypass (m)::m: bypass"
        "%0AIn 2 tests: t::a, t::b",
        "::error file=a.py,line=4,title=pytest-ssot%3A factory-bypass (m)::m: bypass"
        "%0AIn test: t::c",
        "::error title=pytest-ssot%3A factory-bypass (m)::m: bypass",
    ]
