"""Per-user chat sessions (contracts/websocket_managers.toml, manager "chat-sessions").

Run with ``pytest --ssot``: the first test fails, because alice's and bob's
ChatSessions share one class-level ``rooms`` dict; the second, on the fixed class
with a dict per instance, passes. Without --ssot both pass: each assertion looks
at one user only.
"""

import pytest
from wsapp.context import UserExecutionContext
from wsapp.services.chat_sessions import close_all, open_isolated_sessions, open_sessions


@pytest.fixture(autouse=True)
def no_sessions():
    close_all()
    yield
    close_all()


def test_two_users_join_rooms():
    alice = open_sessions(UserExecutionContext(user_id="alice"))
    bob = open_sessions(UserExecutionContext(user_id="bob"))
    alice.join("general", "conn-1")
    bob.join("support", "conn-2")
    assert alice.rooms["general"] == ["conn-1"]  # passes: the leak is in the other direction


def test_two_users_join_rooms_isolated():
    alice = open_isolated_sessions(UserExecutionContext(user_id="alice"))
    bob = open_isolated_sessions(UserExecutionContext(user_id="bob"))
    alice.join("general", "conn-1")
    bob.join("support", "conn-2")
    assert alice.rooms == {"general": ["conn-1"]}
    assert bob.rooms == {"support": ["conn-2"]}
