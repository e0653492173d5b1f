"""The HTML report of the example, opened in a real headless Chromium.

Needs Playwright for Python (in the ``test`` extra) and a Chromium binary
(Debian's ``chromium`` package, at /usr/bin/chromium, or the path in
$SSOT_CHROMIUM). Playwright's own browser download is never used. Without them
the test is skipped, unless $SSOT_REQUIRE_BROWSER=1 (set by .ci/run), which
makes a missing browser a failure. $SSOT_SCREENSHOT=PATH also saves the
screenshot there (that is how docs/html-report.png is made).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path(os.environ.get("SSOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN = ("--ssot", "-p", "no:cacheprovider", "-o", "ssot_history=.ssot-history.jsonl")
BASELINE = "--ssot-baseline=.ssot-baseline.json"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set SSOT_CHROMIUM)"
    try:
        import networkx  # noqa: F401
    except ImportError:
        return "networkx is not installed (pip install -e '.[html]')"
    return None


@pytest.fixture
def browser_ready() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("SSOT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SSOT_REQUIRE_BROWSER=1 but the browser check cannot run: {reason}")
    pytest.skip(reason)


def three_runs(pytester: pytest.Pytester, example: Path) -> Path:
    """Freeze the baseline, fix one violation, add a new one: three points of history."""
    pytester.runpytest_subprocess(*RUN, BASELINE, "--ssot-baseline-update")
    status = example / "wsapp/routes/status.py"
    status.write_text(
        status.read_text().replace(
            "wsapp.websocket_core.manager import", "wsapp.websocket_core.unified_manager import"
        )
    )
    pytester.runpytest_subprocess(*RUN, BASELINE)
    (example / "wsapp/routes/rooms.py").write_text(
        '"""A new route written against a shim."""\n\n'
        "from wsapp.websocket_core.manager import WebSocketManager\n"
    )
    result = pytester.runpytest_subprocess(
        *RUN, BASELINE, "--ssot-html=report.html", "--ssot-report=report.json"
    )
    result.stdout.fnmatch_lines(["HTML report written to report.html"])
    assert len((example / ".ssot-history.jsonl").read_text().splitlines()) == 3
    return example / "report.html"


def test_report_renders_in_chromium(
    browser_ready: None, pytester: pytest.Pytester, example: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import Request, Route, sync_playwright

    page_file = three_runs(pytester, example)
    report: dict[str, Any] = json.loads((example / "report.json").read_text())
    url = page_file.resolve().as_uri()
    requests: list[str] = []
    problems: list[str] = []

    def watch(route: Route, request: Request) -> None:
        requests.append(request.url)
        if request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", watch)
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(url, wait_until="load")

            check_contract_list(page)
            check_maps(page, report)
            check_chart(page)
            check_findings_and_version(page, report)
            check_search(page)
            check_screenshot(page, tmp_path)
        finally:
            browser.close()

    assert problems == []
    assert requests == [url], "the page asked for something besides itself"


def check_contract_list(page: Page) -> None:
    """The contract list, with every verdict."""
    rows = page.locator("#ssot-contracts tr.contract")
    verdicts = {
        rows.nth(i).get_attribute("data-id"): rows.nth(i).get_attribute("data-verdict")
        for i in range(rows.count())
    }
    assert verdicts == {
        "no-legacy-websocket": "frozen",
        "no-shims-in-app": "broken",
        "canonical-does-not-import-legacy": "kept",
        "app-layers": "kept",
    }
    assert rows.first.is_visible()


def check_maps(page: Page, report: dict[str, Any]) -> None:
    """One map per broken or frozen contract, with the modules of its chains."""
    contracts = {c["id"]: c for c in report["contracts"]}
    maps = page.locator("svg.ssot-map")
    assert maps.count() == 2
    for cid in ("no-legacy-websocket", "no-shims-in-app"):
        svg = page.locator(f'svg.ssot-map[data-contract="{cid}"]')
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50
        modules = {
            m
            for v in contracts[cid]["violations"]
            for hop in v["chain"]
            for m in (hop["importer"], hop["imported"])
        } | {m for fp in contracts[cid]["fixed"] for m in fp.split(": ", 1)[1].split(" -> ")}
        nodes = svg.locator("g.node")
        shown = {nodes.nth(i).get_attribute("data-module") for i in range(nodes.count())}
        assert shown == modules
        assert nodes.first.is_visible()
    legacy = page.locator('svg.ssot-map[data-contract="no-legacy-websocket"]')
    hops = {
        (hop["importer"], hop["imported"])
        for v in contracts["no-legacy-websocket"]["violations"]
        for hop in v["chain"]
    }
    assert legacy.locator("path.edge.s-frozen").count() == len(hops)
    assert legacy.locator("path.edge.s-new").count() == 0
    shims = page.locator('svg.ssot-map[data-contract="no-shims-in-app"]')
    new = shims.locator("path.edge.s-new")
    fixed = shims.locator("path.edge.s-fixed")
    assert new.get_attribute("data-source") == "wsapp.routes.rooms"
    assert fixed.get_attribute("data-source") == "wsapp.routes.status"
    # Styles applied (not blocked by the page's own security policy): fixed is dashed.
    assert fixed.evaluate("e => getComputedStyle(e).strokeDasharray") not in ("", "none")
    assert page.locator("li.chain").count() == len(report["contracts"][0]["violations"]) + 2
    assert page.get_by_text("wsapp/routes/rooms.py:3").first.is_visible()


def check_chart(page: Page) -> None:
    """The progress chart: three runs, three points per series."""
    chart = page.locator("#ssot-chart")
    assert chart.is_visible()
    assert chart.get_attribute("data-points") == "3"
    points = chart.locator('circle.point[data-series="violations"]')
    assert [points.nth(i).get_attribute("data-value") for i in range(3)] == ["8", "7", "8"]
    assert chart.locator("polyline.series").count() == 4


def check_findings_and_version(page: Page, report: dict[str, Any]) -> None:
    """Runtime findings, grouped by check; the version and time of making."""
    findings = page.locator("article.finding")
    assert findings.count() == len(report["runtime"]) > 0
    checks = {f["check"] for f in report["runtime"]}
    assert page.locator("section.finding-group").count() == len(checks)
    assert "duplicate-instance" in checks
    assert page.locator('section.finding-group[data-check="duplicate-instance"]').is_visible()
    made = page.locator("#ssot-made")
    assert made.get_attribute("data-version") == report["tool"]["pytest-ssot"]
    assert made.get_attribute("data-created") == report["created"]


def check_search(page: Page) -> None:
    """The search box filters the map and the chain lists; clicking a module filters to it."""
    legacy = page.locator('svg.ssot-map[data-contract="no-legacy-websocket"]')
    shims = page.locator('svg.ssot-map[data-contract="no-shims-in-app"]')
    page.fill("#ssot-search", "rooms")
    assert shims.locator("g.node.match").count() == 1
    assert shims.locator("g.node.dim").count() == shims.locator("g.node").count() - 1
    assert legacy.locator("g.node.match").count() == 0
    assert page.locator("li.chain:visible").count() == 1
    assert "1 of" in (page.text_content("#ssot-search-status") or "")
    page.click("#ssot-search-clear")
    assert page.locator("g.node.dim").count() == 0
    assert page.locator("li.chain:visible").count() == page.locator("li.chain").count()
    shims.locator('g.node[data-module="wsapp.routes.status"]').click()
    assert page.input_value("#ssot-search") == "wsapp.routes.status"
    page.click("#ssot-search-clear")


def check_screenshot(page: Page, tmp_path: Path) -> None:
    """A full-page screenshot; with $SSOT_SCREENSHOT, the one for docs/."""
    page.evaluate("window.scrollTo(0, 0)")  # the header is sticky
    shot = tmp_path / "html-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("SSOT_SCREENSHOT"):
        # For docs/: from the top to the first runtime findings.
        runtime = page.locator("#runtime").bounding_box()
        assert runtime is not None
        height = runtime["y"] + 560
        page.screenshot(
            path=os.environ["SSOT_SCREENSHOT"],
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": height},
        )
