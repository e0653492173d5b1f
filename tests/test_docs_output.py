"""The example output shown in the docs is the output of a real run, so it cannot drift.

A fenced ``text`` block right after the marker line

    <!-- output of: pytest --ssot (in examples/websocket_migration) -->

is compared with a real run of that command on the bundled example: every line of
the block must appear in the run's output, in order (other lines may come between).
A line ``...`` stands for lines left out; a line ending in `` ...`` for the rest of
that line; ``built in N ms`` and the run's duration match any figure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CONTRACTS, EXAMPLE, REPO, _ignore

MARKER = re.compile(r"^<!-- output of: (?P<command>.+?) \(in examples/websocket_migration\) -->$")
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def checked_blocks() -> list[tuple[str, str, list[str]]]:
    """(file, command, lines) for every marked block of the docs."""
    found = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = MARKER.match(line)
            if not match:
                continue
            assert lines[number + 1].startswith("```"), f"{path.name}:{number + 2}: no block"
            end = lines.index("```", number + 2)
            block = [x for x in lines[number + 2 : end] if not x.startswith("$ ")]
            found.append((f"{path.name}:{number + 1}", match["command"], block))
    return found


def pattern(line: str) -> str:
    """A docs line as an fnmatch pattern of pytester's LineMatcher."""
    text = re.sub(r"[\[\]*?]", lambda m: f"[{m.group()}]", line)
    text = re.sub(r"built in \d+ ms", "built in * ms", text)
    text = re.sub(r" in \d+\.\d+s ", " in *s ", text)
    if text.endswith(" ..."):
        text = text[: -len("...")] + "*"
    return text


BLOCKS = checked_blocks()


def test_the_docs_mark_their_example_output() -> None:
    where = {name.split(":")[0] for name, _, _ in BLOCKS}
    assert {"README.md", "failures.md"} <= where


@pytest.fixture(scope="module")
def real_output(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[str]]:
    """The output of a command run on a fresh copy of the example, once per command."""
    root = tmp_path_factory.mktemp("docs-example")
    shutil.copytree(EXAMPLE, root / "examples" / "websocket_migration", ignore=_ignore)
    shutil.copytree(CONTRACTS, root / "contracts", ignore=_ignore)
    outputs: dict[str, list[str]] = {}

    def run(command: str) -> list[str]:
        if command not in outputs:
            args = command.split()
            assert args[:2] == ["pytest", "--ssot"], command
            env = {**os.environ, "PYTEST_ADDOPTS": "-p no:randomly -p no:cacheprovider"}
            env.pop("GITHUB_ACTIONS", None)
            env["COLUMNS"] = "80"
            done = subprocess.run(
                [str(Path(sys.executable).with_name("pytest")), *args[1:]],
                cwd=root / "examples" / "websocket_migration",
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            outputs[command] = done.stdout.splitlines()
        return outputs[command]

    return run


@pytest.mark.parametrize(("where", "command", "block"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_docs_output_matches_a_real_run(
    real_output: Callable[[str], list[str]], where: str, command: str, block: list[str]
) -> None:
    patterns = [pattern(line) for line in block if line.strip() != "..."]
    pytest.LineMatcher(real_output(command)).fnmatch_lines(patterns)
