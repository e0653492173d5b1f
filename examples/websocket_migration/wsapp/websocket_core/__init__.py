"""The canonical WebSocket package: new code imports from here."""

from wsapp.websocket_core.registry import get_websocket_manager, get_websocket_manager_async
from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager, WebSocketManager

__all__ = [
    "UnifiedWebSocketManager",
    "WebSocketManager",
    "get_websocket_manager",
    "get_websocket_manager_async",
]
