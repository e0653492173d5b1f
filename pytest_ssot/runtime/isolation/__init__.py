"""User isolation at run time: per-key manager instances must not share state or outlive a test.

- ``kinds``: which objects count as state (containers, project objects) and which do not;
- ``walk``: the shared-state walk over the live instances of one manager;
- ``referrers``: the bounded chain of referrers that keeps an instance alive;
- ``report``: findings written for the user, and their baseline fingerprints.

Plain Python: the pytest hook object that runs both checks is ``runtime.hooks.isolation_checks``
(see docs/runtime-isolation.md).

The checks read the instance tracker only through ``InstanceTracker.live_instances``
and add nothing to the construction path.
"""
