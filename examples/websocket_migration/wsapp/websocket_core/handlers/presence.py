"""Presence events, in the same hidden folder.

The lazy import below breaks the contract 'canonical-does-not-import-legacy'
(the canonical package never imports the legacy one), yet lint-imports keeps
that contract: it never reads this file. With --ssot, calling ``on_join`` in a
test fails that test (when it is the first load of the legacy module).
"""


def on_join(user_id: str) -> str:
    from wsapp.websocket import connection_manager

    return f"{user_id} joined via {connection_manager.__name__}"
