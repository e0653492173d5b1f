"""Notification service, written before the migration and never updated."""

from wsapp.context import UserExecutionContext
from wsapp.websocket import get_websocket_manager


def notify(user_id: str, event: str) -> None:
    get_websocket_manager(UserExecutionContext(user_id=user_id)).send_event(event)
