"""pytest-ssot: keep a single-source-of-truth migration from sliding back.

This module is imported by every pytest run where the plugin is installed, so it
must stay free of heavy imports: the version and nothing else.
"""

__version__ = "0.1.0"
