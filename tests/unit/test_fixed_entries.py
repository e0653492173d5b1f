"""Fixed baseline entries are typed values, read once where the baseline is compared."""

from __future__ import annotations

from pathlib import Path

from pytest_ssot.baseline import Baseline
from pytest_ssot.model import Fingerprint, Violation


def test_a_fixed_entry_carries_the_import_it_stood_for(tmp_path: Path) -> None:
    still = Violation("import", "app.a", "app.legacy")
    baseline = Baseline(
        tmp_path / "b.json",
        entries={
            "c": {
                still.fingerprint,
                "import: app.gone -> app.legacy",
                "cycle: app.x -> app.y",
                "hand-written entry",
            }
        },
    )
    comparison = baseline.compare("c", [still])
    assert comparison.frozen == (still,)
    by_text = {fp.text: fp for fp in comparison.fixed}
    assert set(by_text) == {
        "import: app.gone -> app.legacy",
        "cycle: app.x -> app.y",
        "hand-written entry",
    }
    assert by_text["import: app.gone -> app.legacy"].edge == ("app.gone", "app.legacy")
    assert by_text["cycle: app.x -> app.y"].edge is None  # not an import
    assert by_text["hand-written entry"] == Fingerprint("hand-written entry")


def test_parse_reads_what_a_violation_writes() -> None:
    violation = Violation("indirect-import", "pkg.mod", "pkg.old.thing")
    parsed = Fingerprint.parse(violation.fingerprint)
    assert (parsed.kind, parsed.importer, parsed.imported) == (
        "indirect-import",
        "pkg.mod",
        "pkg.old.thing",
    )
    assert parsed.edge == ("pkg.mod", "pkg.old.thing")
