"""Health check: reaches the legacy package only through the notifier service."""

from wsapp.services.notifier import notify


def health() -> str:
    notify("health", "ping")
    return "ok"
