"""The "SSOT interface" module: it subclasses the implementation under the same public name.

``wsapp.websocket_core.WebSocketManager`` and this module's ``WebSocketManager``
are therefore two different class objects, the trap behind "isinstance fails".
"""

from wsapp.websocket_core.unified_manager import _UnifiedWebSocketManagerImplementation


class WebSocketManager(_UnifiedWebSocketManagerImplementation):
    """Same behaviour, second class object."""
