"""Status route: uses a shim module instead of the canonical one."""

from wsapp.websocket_core.manager import WebSocketManager


def manager_type() -> str:
    return WebSocketManager.__name__
