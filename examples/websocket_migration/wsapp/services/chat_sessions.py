"""Which chat rooms each user has joined: one sessions object per user.

``ChatSessions`` has the bug pytest-ssot's isolation check is for: ``rooms`` is a
class attribute, so every user's sessions object reads and writes the same dict,
and one user's rooms show up in another's. Every instance is distinct (the
duplicate check is happy) and each test of one user passes; only instances of
two users alive together show it. ``IsolatedChatSessions`` is the fix: the dict is
made in ``__init__``, one per instance. See docs/runtime-isolation.md.
"""

from __future__ import annotations

from wsapp.context import UserExecutionContext


class ChatSessions:
    """A user's joined rooms (BUG: the dict is shared by every user)."""

    rooms: dict[str, list[str]] = {}

    def __init__(self, user_context: UserExecutionContext) -> None:
        self.user_context = user_context

    def join(self, room: str, connection_id: str) -> None:
        self.rooms.setdefault(room, []).append(connection_id)


class IsolatedChatSessions:
    """A user's joined rooms, in a dict of its own."""

    def __init__(self, user_context: UserExecutionContext) -> None:
        self.user_context = user_context
        self.rooms: dict[str, list[str]] = {}

    def join(self, room: str, connection_id: str) -> None:
        self.rooms.setdefault(room, []).append(connection_id)


_sessions: dict[str | None, ChatSessions] = {}
_isolated: dict[str | None, IsolatedChatSessions] = {}


def open_sessions(user_context: UserExecutionContext) -> ChatSessions:
    """The user's sessions, made on first use and kept until ``close_all``."""
    found = _sessions.get(user_context.user_id)
    if found is None:
        found = _sessions[user_context.user_id] = ChatSessions(user_context)
    return found


def open_isolated_sessions(user_context: UserExecutionContext) -> IsolatedChatSessions:
    found = _isolated.get(user_context.user_id)
    if found is None:
        found = _isolated[user_context.user_id] = IsolatedChatSessions(user_context)
    return found


def close_all() -> None:
    _sessions.clear()
    _isolated.clear()
