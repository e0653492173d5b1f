"""The app factory: wires every route."""

from wsapp.routes import admin, chat, health, status

ROUTES = {
    "admin": admin.broadcast,
    "chat": chat.open_chat,
    "health": health.health,
    "status": status.manager_type,
}


def create_app() -> dict[str, object]:
    return dict(ROUTES)
