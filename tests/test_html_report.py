"""--ssot-html and ssot_history on the example, end to end (in a browser: test_html_browser)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import pytest_ssot

pytest.importorskip("networkx")

ARGS = ("--ssot", "--ssot-only", "-p", "no:cacheprovider")
HISTORY = ("-o", "ssot_history=.ssot-history.jsonl")


def embedded(page: str, element: str) -> object:
    match = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', page)
    assert match, element
    return json.loads(match.group(1))


def test_html_is_written_self_contained_from_the_json_report(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest(*ARGS, "--ssot-html=out/map.html", "--ssot-report=out/r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the example breaks two contracts
    result.stdout.fnmatch_lines(
        ["report written to out/r.json", "HTML report written to out/map.html"]
    )
    page = Path("out/map.html").read_text(encoding="utf-8")
    report = json.loads(Path("out/r.json").read_text(encoding="utf-8"))
    # One source of truth: the page carries the very report the JSON file holds.
    assert embedded(page, "ssot-report") == report
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert 'src="http' not in page and 'href="http' not in page
    assert f"pytest-ssot {pytest_ssot.__version__}" in page
    assert f'data-created="{report["created"]}"' in page
    assert page.count('<svg class="ssot-map"') == 2  # no-legacy-websocket, no-shims-in-app
    assert "wsapp/routes/status.py:3" in page


def test_ini_key_and_paths_relative_to_the_rootdir(
    pytester: pytest.Pytester, example: Path
) -> None:
    result = pytester.runpytest(*ARGS, "-o", "ssot_html=reports/ssot.html")
    result.stdout.fnmatch_lines(["HTML report written to reports/ssot.html"])
    assert (example / "reports" / "ssot.html").is_file()


def test_history_grows_by_one_line_per_run(pytester: pytest.Pytester, example: Path) -> None:
    for runs in (1, 2, 3):
        result = pytester.runpytest(*ARGS, *HISTORY, "--ssot-html=map.html")
        result.stdout.fnmatch_lines([f"history: {runs} runs in .ssot-history.jsonl"])
        lines = Path(".ssot-history.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == runs
    last = json.loads(lines[-1])
    assert last["totals"]["violations"] == 8
    assert last["contracts"]["no-shims-in-app"]["new"] == 1
    page = Path("map.html").read_text(encoding="utf-8")
    assert 'id="ssot-chart"' in page and 'data-points="3"' in page
    assert len(embedded(page, "ssot-history")) == 3  # type: ignore[arg-type]


def test_history_without_html(pytester: pytest.Pytester, example: Path) -> None:
    pytester.runpytest(*ARGS, *HISTORY)
    pytester.runpytest(*ARGS, *HISTORY, "-k", "no-such-contract")  # nothing checked: no line
    assert len(Path(".ssot-history.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    assert not list(example.glob("*.html"))


def test_html_path_that_is_a_directory_is_a_usage_error(
    pytester: pytest.Pytester, example: Path
) -> None:
    Path("out").mkdir()
    result = pytester.runpytest(*ARGS, "--ssot-html=out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*pytest-ssot: --ssot-html: cannot write out: it is a directory, not a regular file*"]
    )
    by_ini = pytester.runpytest(*ARGS, "-o", "ssot_report=out")
    by_ini.stderr.fnmatch_lines(
        ["*pytest-ssot: the ini key 'ssot_report': cannot write out: it is a directory, *"]
    )


def test_html_path_under_a_file_is_a_usage_error(pytester: pytest.Pytester, example: Path) -> None:
    Path("notes.txt").write_text("hello\n")
    result = pytester.runpytest(*ARGS, "--ssot-html=notes.txt/map.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*cannot write notes.txt/map.html: notes.txt is a file, not a directory*"]
    )


def test_history_that_is_not_ours_is_a_usage_error_and_stays_untouched(
    pytester: pytest.Pytester, example: Path
) -> None:
    content = '{"format": "pytest-ssot-baseline", "version": 1, "violations": {}}\n'
    Path(".ssot-baseline.json").write_text(content)
    result = pytester.runpytest(*ARGS, "-o", "ssot_history=.ssot-baseline.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*.ssot-baseline.json is not a pytest-ssot history file*"])
    assert Path(".ssot-baseline.json").read_text() == content


def test_missing_extra_is_a_usage_error(
    pytester: pytest.Pytester, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "networkx", None)  # as if it were not installed
    result = pytester.runpytest(*ARGS, "--ssot-html=map.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ssot-html needs the networkx package*pip install networkx*"])
    assert not Path("map.html").exists()
    # Set by the ini key: the message names the ini key, not an option nobody typed.
    by_ini = pytester.runpytest(*ARGS, "-o", "ssot_html=map.html")
    assert by_ini.ret == pytest.ExitCode.USAGE_ERROR
    by_ini.stderr.fnmatch_lines(
        ["ERROR: pytest-ssot: the ini key 'ssot_html' needs the networkx package*"]
    )
    assert "--ssot-html" not in by_ini.stderr.str()


def test_html_under_xdist_is_written_once_by_the_controller(
    pytester: pytest.Pytester, example: Path
) -> None:
    pytest.importorskip("xdist")
    result = pytester.runpytest(*ARGS, *HISTORY, "-n", "2", "--ssot-html=map.html")
    result.stdout.fnmatch_lines(["HTML report written to map.html"])
    assert len(Path(".ssot-history.jsonl").read_text().splitlines()) == 1
    report = embedded(Path("map.html").read_text(), "ssot-report")
    assert isinstance(report, dict)
    assert report["summary"]["violations"] == 8
