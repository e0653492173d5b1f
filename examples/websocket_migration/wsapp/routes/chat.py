"""The chat route: still imports the legacy connection handler directly."""

from wsapp.context import UserExecutionContext
from wsapp.websocket.connection_handler import ConnectionHandler
from wsapp.websocket_core.registry import get_websocket_manager


def open_chat(user_id: str, connection_id: str) -> ConnectionHandler:
    manager = get_websocket_manager(UserExecutionContext(user_id=user_id))
    manager.connect(connection_id)
    return ConnectionHandler(connection_id)
