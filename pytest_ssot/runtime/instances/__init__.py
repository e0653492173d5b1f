"""Watching the declared manager classes at run time, one concern per module.

- ``keys``: reading a manager's key from a constructor's arguments;
- ``sites``: creation-site frames and how files are shown;
- ``records``: the record kept per counted instance;
- ``counting``: per-manager state, windows and buckets of live instances;
- ``patching``: the ``__init__``/``__new__`` wrappers on the declared classes;
- ``watching``: the import hook that wraps classes when their module is imported;
- ``report``: findings written for the user, and ``DeclarationProblems`` (each once);
- ``constructions``: ``Constructions``, the hot path every construction runs (counting
  it, reporting duplicates and factory bypasses) and the per-test records;
- ``wrapping``: ``Wrappers``, which wraps a declared class and puts the originals back;
- ``tracker``: ``InstanceTracker``, which ties them together (install, uninstall, what
  the hook objects read).
"""
