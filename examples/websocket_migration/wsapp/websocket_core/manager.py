"""Compatibility shim: re-exports the manager under its old module name."""

from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager, WebSocketManager

__all__ = ["UnifiedWebSocketManager", "WebSocketManager"]
