"""The one real WebSocket manager implementation."""

from __future__ import annotations

from wsapp.context import UserExecutionContext


class _UnifiedWebSocketManagerImplementation:
    """Sends events to the connections of exactly one user."""

    def __init__(self, user_context: UserExecutionContext | None = None) -> None:
        self.user_context = user_context
        self.connections: list[str] = []
        self.sent: list[tuple[str, str]] = []

    @property
    def user_id(self) -> str | None:
        return self.user_context.user_id if self.user_context else None

    def connect(self, connection_id: str) -> None:
        self.connections.append(connection_id)

    def send_event(self, event: str) -> None:
        for connection_id in self.connections:
            self.sent.append((connection_id, event))


# Public aliases: both names are the same class object.
UnifiedWebSocketManager = _UnifiedWebSocketManagerImplementation
WebSocketManager = _UnifiedWebSocketManagerImplementation
