"""Legacy WebSocket package: a shim that forwards to wsapp.websocket_core."""

import warnings

from wsapp.websocket_core import UnifiedWebSocketManager, WebSocketManager, get_websocket_manager

warnings.warn(
    "wsapp.websocket is deprecated; import from wsapp.websocket_core",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["UnifiedWebSocketManager", "WebSocketManager", "get_websocket_manager"]
