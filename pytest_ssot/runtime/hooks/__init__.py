"""The runtime checks' pytest hook objects: the only modules of ``runtime`` that import pytest.

``wiring`` builds them and registers them (never under ``--ssot-only``); each turns
pytest's hooks into calls on the plain modules beside this package (``instances``,
``isolation``, ``imports``, ``modules``, ``rules``), which never see pytest:

- ``phase``: ``PhaseTracker``, which part of the run is executing (collection, a fixture,
  a test's call), the phase every finding is attributed to;
- ``manager_checks``: duplicate managers and factory bypasses (the instance tracker);
- ``isolation_checks``: user isolation, after each test's call and teardown;
- ``import_checks``: legacy modules loaded at run time;
- ``double_loads``: one file loaded as two modules.

The order between them is held by the contract ``runtime-hooks-layers`` in pyproject.toml.
"""
