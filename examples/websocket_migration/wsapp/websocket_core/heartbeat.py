"""Heartbeat pings: written during the migration, it picked up the old alias module."""

from wsapp.websocket_core.connection_manager import ConnectionManager


def ping_all(managers: list[ConnectionManager]) -> int:
    for manager in managers:
        manager.send_event("ping")
    return len(managers)
