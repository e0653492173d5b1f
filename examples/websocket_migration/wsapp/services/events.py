"""Event emitter: constructs a manager per call instead of asking the registry."""

from wsapp.context import UserExecutionContext
from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager


def emit(user_id: str, event: str) -> UnifiedWebSocketManager:
    manager = UnifiedWebSocketManager(UserExecutionContext(user_id=user_id))
    manager.send_event(event)
    return manager
