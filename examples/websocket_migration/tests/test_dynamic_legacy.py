"""A test that reaches the legacy package through a string: invisible to lint-imports.

With --ssot this test fails: the runtime watcher sees the load of
wsapp.websocket.connection_manager and reports the line below, and the
contracts that forbid the module.
"""

import importlib


def test_legacy_connection_manager_is_the_unified_manager():
    legacy = importlib.import_module("wsapp.websocket.connection_manager")
    assert legacy.ConnectionManager.__name__ == "_UnifiedWebSocketManagerImplementation"
