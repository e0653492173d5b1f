"""What the import system and the installed distributions say, asked without importing.

- ``library_versions``: the installed import-linter and grimp versions.

No pytest, no import-linter, no grimp: every layer may ask.
"""

from __future__ import annotations

LIBRARIES = ("import-linter", "grimp")
"""The distributions our adapter depends on, by their distribution names."""


_VERSIONS: dict[str, str] = {}


def library_versions() -> dict[str, str]:
    """The installed import-linter and grimp versions ("missing" if not installed).

    Read from their distribution metadata, once per process, without importing them.
    """
    if not _VERSIONS:
        import importlib.metadata  # its parsers cost tens of milliseconds: only when asked

        for dist in LIBRARIES:
            try:
                _VERSIONS[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                _VERSIONS[dist] = "missing"
    return dict(_VERSIONS)
