"""Watching the declared manager classes at run time, one concern per module.

- ``keys``: reading a manager's key from a constructor's arguments;
- ``sites``: creation-site frames and how files are shown;
- ``records``: the record kept per counted instance;
- ``counting``: per-manager state, windows and buckets of live instances;
- ``patching``: the ``__init__``/``__new__`` wrappers on the declared classes;
- ``watching``: the import hook that wraps classes when their module is imported;
- ``report``: findings written for the user;
- ``tracker``: ``InstanceTracker``, which ties them together.
"""
