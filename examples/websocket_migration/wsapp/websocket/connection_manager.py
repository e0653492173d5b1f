"""Legacy shim by assignment: the old ConnectionManager is the new manager class."""

from wsapp.context import UserExecutionContext
from wsapp.websocket_core.registry import get_websocket_manager
from wsapp.websocket_core.unified_manager import _UnifiedWebSocketManagerImplementation

ConnectionManager = _UnifiedWebSocketManagerImplementation


def get_connection_manager(
    user_context: UserExecutionContext | None = None,
) -> _UnifiedWebSocketManagerImplementation:
    return get_websocket_manager(user_context)
