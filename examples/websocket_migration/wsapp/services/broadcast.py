"""Broadcasts: written before websocket_core existed, with a manager and a registry of its own."""

from __future__ import annotations

import threading

from wsapp.context import UserExecutionContext

_managers: dict[str, WebSocketManager] = {}
_lock = threading.Lock()


class WebSocketManager:
    """A third manager class: same name as the canonical one, a different object."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.sent: list[str] = []

    def send_event(self, event: str) -> None:
        self.sent.append(event)


def get_websocket_manager(user_context: UserExecutionContext) -> WebSocketManager:
    key = user_context.user_id or "<anon>"
    with _lock:
        return _managers.setdefault(key, WebSocketManager(key))


def broadcast(user_ids: list[str], event: str) -> None:
    for user_id in user_ids:
        get_websocket_manager(UserExecutionContext(user_id=user_id)).send_event(event)
