"""The intended way to get a manager: one per user per process, through this registry."""

from __future__ import annotations

import threading
import warnings

from wsapp.context import UserExecutionContext
from wsapp.websocket_core.unified_manager import _UnifiedWebSocketManagerImplementation

_managers: dict[str, _UnifiedWebSocketManagerImplementation] = {}
_lock = threading.Lock()


def _key(user_context: UserExecutionContext | None) -> str:
    if user_context is None:
        return "<no-context>"
    return user_context.user_id or user_context.thread_id or user_context.request_id or "<anon>"


def get_websocket_manager(
    user_context: UserExecutionContext | None,
) -> _UnifiedWebSocketManagerImplementation:
    key = _key(user_context)
    with _lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _UnifiedWebSocketManagerImplementation(user_context)
            _managers[key] = manager
        return manager


async def get_websocket_manager_async(
    user_context: UserExecutionContext | None,
) -> _UnifiedWebSocketManagerImplementation:
    return get_websocket_manager(user_context)


def create_websocket_manager(
    user_context: UserExecutionContext | None = None,
) -> _UnifiedWebSocketManagerImplementation:
    warnings.warn(
        "create_websocket_manager is deprecated; use get_websocket_manager",
        DeprecationWarning,
        stacklevel=2,
    )
    return get_websocket_manager(user_context)


def reset_registry() -> None:
    with _lock:
        _managers.clear()
