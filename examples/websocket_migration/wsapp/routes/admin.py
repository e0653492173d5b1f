"""The admin route: imports the legacy path lazily, inside a function."""

from wsapp.context import UserExecutionContext


def broadcast(user_id: str, event: str) -> None:
    from wsapp.websocket.connection_manager import ConnectionManager

    # Constructs the manager directly, bypassing the registry: a second manager
    # for a user who may already have one.
    manager = ConnectionManager(UserExecutionContext(user_id=user_id))
    manager.send_event(event)
