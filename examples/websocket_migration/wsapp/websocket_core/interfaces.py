"""The "interfaces" module: one import line for everything, and it only re-exports.

One of its names lies: its ConnectionHandler is the manager class, not
wsapp.websocket.connection_handler.ConnectionHandler. A re-export is not a
definition, so unique_definition does not count it; only the module graph and
object identity can tell the two apart.
"""

from wsapp.websocket_core.registry import get_websocket_manager
from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager
from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager as ConnectionHandler

__all__ = ["ConnectionHandler", "UnifiedWebSocketManager", "get_websocket_manager"]
