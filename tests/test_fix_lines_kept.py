"""The fix lines under a failure after an edit: what the plan learnt is kept, never served stale.

Each run is a subprocess; a conftest in the sample project writes what it read and parsed
(the SSOT source cache's facts, and the importers the planner parsed for their import
statements) to ``read.json``. Counts, never times.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import WriteFiles

pytestmark = pytest.mark.library_surface

CONTRACT = """
[tool.importlinter]
root_package = "app"

[[tool.importlinter.contracts]]
id = "no-legacy"
name = "web code does not import the legacy package"
type = "forbidden"
source_modules = ["app.web"]
forbidden_modules = ["app.legacy"]
"""

COUNTING = """
import json

from pytest_ssot.fixing import plan

_counts = {"importers": 0}
_real = plan.Planner._parse


def _counting(*args, **kwargs):
    _counts["importers"] += 1
    return _real(*args, **kwargs)


def pytest_configure(config):
    plan.Planner._parse = staticmethod(_counting)


def pytest_unconfigure(config):
    plan.Planner._parse = staticmethod(_real)


def pytest_sessionfinish(session):
    from pytest_ssot.contract_types._source_index import CACHE

    with open("read.json", "w") as out:
        json.dump({"parses": CACHE.parses, "importers": _counts["importers"]}, out)
"""

PROJECT = {
    "pyproject.toml": CONTRACT,
    "conftest.py": COUNTING,
    "app/__init__.py": "",
    "app/core.py": "class Manager:\n    pass\n\n\nclass Other:\n    pass\n",
    "app/api.py": "from app.core import Manager\n\nUSED = Manager\n",
    "app/legacy/__init__.py": "",
    "app/legacy/shim.py": "from app.core import Manager, Other\n",
    "app/web/__init__.py": "",
    "app/web/user.py": "from app.legacy.shim import Manager\n",
    "app/extra.py": "import app.core as core\n\n\ndef helper():\n    return core\n",
}
FIX = "*fix: from app.legacy.shim import Manager  ->  from app.core import Manager"
FROM_API = "*fix: from app.legacy.shim import Manager  ->  from app.api import Manager"
EDITED = "import the same modules as before"


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--ssot", "--ssot-only", "-p", "no:randomly")


def counts(pytester: pytest.Pytester) -> dict[str, int]:
    found: dict[str, int] = json.loads((pytester.path / "read.json").read_text())
    return found


def settle() -> None:
    """Let the files age past the window in which what was read from them is not kept."""
    time.sleep(1.2)


def edit(pytester: pytest.Pytester, name: str, text: str) -> None:
    (pytester.path / name).write_text(text)
    settle()


@pytest.fixture
def project(pytester: pytest.Pytester, write: WriteFiles) -> Path:
    write(PROJECT)
    settle()
    first = run(pytester)
    first.stdout.fnmatch_lines([FIX])
    # The cold plan parses the importer and follows Manager through the modules naming it.
    assert counts(pytester)["importers"] == 1
    assert counts(pytester)["parses"] >= 3
    return pytester.path


def test_an_unrelated_edit_plans_from_what_was_kept(
    pytester: pytest.Pytester, project: Path
) -> None:
    edit(pytester, "app/extra.py", "import app.core as core\n\n\ndef helper():\n    return 2\n")
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines([FIX])
    assert counts(pytester) == {"parses": 0, "importers": 0}


def test_an_edit_of_the_importer_shows_its_new_lines_and_follows_no_name_again(
    pytester: pytest.Pytester, project: Path
) -> None:
    edit(pytester, "app/web/user.py", '"""Users."""\n\n\nfrom app.legacy.shim import Manager\n')
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines(["*app/web/user.py:4*", FIX])
    # Only the edited importer is read again: for its statements, and as a file that
    # names Manager (it could have come to re-export it). No other file is parsed.
    assert counts(pytester) == {"parses": 1, "importers": 1}


def test_a_changed_import_line_is_never_served_its_old_fix(
    pytester: pytest.Pytester, project: Path
) -> None:
    # Same modules imported (the graph is the same), another statement.
    edit(pytester, "app/web/user.py", "from app.legacy.shim import Manager as Boss\n")
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*fix: from app.legacy.shim import Manager as Boss  ->  "
            "from app.core import Manager as Boss"
        ]
    )
    assert FIX.strip("*") + "\n" not in result.stdout.str()
    # Two names now: the new one (Other) is followed, Manager's homes were kept.
    edit(pytester, "app/web/user.py", "from app.legacy.shim import Manager, Other\n")
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "*fix: from app.legacy.shim import Manager, Other  ->  "
            "from app.core import Manager, Other*"
        ]
    )


def test_a_new_home_is_seen_without_an_import_change(
    pytester: pytest.Pytester, project: Path
) -> None:
    # app.api imported Manager for its own use (no home); exporting it makes it one.
    edit(
        pytester,
        "app/api.py",
        PROJECT["app/api.py"] + "\n__all__ = ['Manager']\n",
    )
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines([FROM_API])
    # A module that did not name Manager before comes to re-export it.
    edit(pytester, "app/api.py", PROJECT["app/api.py"])
    run(pytester).stdout.fnmatch_lines([FIX])
    edit(
        pytester,
        "app/extra.py",
        "import app.core as core\n\nHelper = core.Manager\n__all__ = ['Helper']\n",
    )
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*fix: from app.legacy.shim import Manager  ->  from app.extra import Helper as Manager"]
    )


def test_a_removed_home_is_never_offered_again(pytester: pytest.Pytester, project: Path) -> None:
    edit(pytester, "app/api.py", PROJECT["app/api.py"] + "\n__all__ = ['Manager']\n")
    run(pytester).stdout.fnmatch_lines([FROM_API])
    # The export goes (the import stays: the graph is the same).
    edit(pytester, "app/api.py", PROJECT["app/api.py"] + "\n__all__ = []\n")
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines([FIX])
    assert "app.api" not in result.stdout.str()
    # The definition goes (the graph is the same: app.core imports nothing).
    edit(pytester, "app/core.py", "Manager = None\n\n\nclass Other:\n    pass\n")
    result = run(pytester)
    result.stdout.fnmatch_lines(
        ["*not fixable: Manager: Manager cannot be followed from app.legacy.shim*"]
    )


def test_a_changed_contract_file_is_never_served_the_old_fix(
    pytester: pytest.Pytester, project: Path
) -> None:
    edit(
        pytester,
        "pyproject.toml",
        CONTRACT
        + """
[[tool.importlinter.contracts]]
id = "core-stays-out"
name = "web code does not import the core either"
type = "forbidden"
source_modules = ["app.web"]
forbidden_modules = ["app.core"]
""",
    )
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "*not fixable: Manager: no allowed home: importing it from app.core would break "
            "contract 'core-stays-out'*"
        ]
    )
    assert FIX.strip("*") not in result.stdout.str()


def test_a_module_coming_to_bind_the_object_makes_its_importers_homes(
    pytester: pytest.Pytester, write: WriteFiles
) -> None:
    # The cold run built the graph, so its search read only the importers of modules
    # binding Manager: app.front (which imports app.mid, binding nothing yet) was not read.
    write(
        {
            **PROJECT,
            "app/mid.py": "import app.core as core\n",
            "app/front/__init__.py": "from app.mid import Manager\n",
        }
    )
    settle()
    run(pytester).stdout.fnmatch_lines([FIX])
    # app.mid comes to bind Manager without an import change: app.front, unchanged,
    # re-exports it now.
    edit(pytester, "app/mid.py", "import app.core as core\n\nManager = core.Manager\n")
    result = run(pytester)
    assert EDITED in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*fix: from app.legacy.shim import Manager  ->  from app.front import Manager"]
    )
