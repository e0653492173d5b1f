"""Runtime checks: what the static graph cannot see, watched while the tests run.

The folder shows who talks to pytest: ``hooks/`` holds the hook objects the session
registers (the only modules here that import pytest); everything else is plain Python
driven by them, layered by the contract ``runtime-layers`` in pyproject.toml:

- ``isolation/``: user isolation (shared state between keys, instances outliving a test);
- ``instances/``: the instance tracker (duplicate managers, factory bypasses);
- ``imports``: the import watcher (legacy modules loaded at run time, and by whom);
- ``rules``: what each contract forbids, edge by edge, for the import watcher;
- ``modules``: files that back two module objects (double loads);
- ``forking``: the checks stand down in a process forked from the test run.
"""
