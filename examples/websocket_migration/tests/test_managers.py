"""The WebSocket manager rule at run time (contracts/websocket_managers.toml).

One manager per user, made by the registry. Run with ``pytest --ssot``: the
first and last tests pass; the two in the middle fail, because the event
emitter and the admin route (through the legacy ConnectionManager alias)
construct a second manager for a user who already has one.
"""

import pytest
from wsapp.context import UserExecutionContext
from wsapp.routes.admin import broadcast
from wsapp.routes.chat import open_chat
from wsapp.services.events import emit
from wsapp.websocket_core.registry import get_websocket_manager, reset_registry
from wsapp.websocket_core.unified_manager import UnifiedWebSocketManager


@pytest.fixture(autouse=True)
def empty_registry():
    reset_registry()
    yield
    reset_registry()


def test_registry_makes_one_manager_per_user(ssot_instances):
    with ssot_instances.watch() as made:
        manager = get_websocket_manager(UserExecutionContext(user_id="alice"))
        open_chat("alice", "conn-1")  # the same user: the registry hands back her manager
        get_websocket_manager(UserExecutionContext(user_id="bob"))
    assert made.count("websocket-manager", key="alice") == 1
    assert made.count("websocket-manager", key="bob") == 1
    assert manager.connections == ["conn-1"]


def test_event_for_a_connected_user():
    open_chat("alice", "conn-1")
    emit("alice", "typing")  # constructs a second manager for alice: fails


def test_admin_broadcast_to_a_connected_user():
    open_chat("alice", "conn-1")
    broadcast("alice", "maintenance")  # the legacy alias makes another: fails


@pytest.mark.pytest_ssot_allow_duplicates("websocket-manager")
def test_two_managers_on_purpose(ssot_instances):
    context = UserExecutionContext(user_id="alice")
    first = UnifiedWebSocketManager(context)
    second = UnifiedWebSocketManager(context)
    assert first is not second
    assert ssot_instances.count("websocket-manager", key="alice") == 2
