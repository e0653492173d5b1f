"""Alias shim: the old ConnectionManager name for the unified manager."""

from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager

ConnectionManager = UnifiedWebSocketManager
