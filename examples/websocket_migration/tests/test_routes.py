from wsapp.app import create_app
from wsapp.routes.chat import open_chat
from wsapp.routes.status import manager_type


def test_app_has_every_route():
    assert set(create_app()) == {"admin", "chat", "health", "status"}


def test_chat_opens_a_handler():
    handler = open_chat("alice", "conn-1")
    assert handler.connection_id == "conn-1"


def test_status_names_the_manager():
    assert manager_type() == "_UnifiedWebSocketManagerImplementation"
