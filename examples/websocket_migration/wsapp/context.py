"""The per-request user context that every WebSocket manager is keyed by."""

from dataclasses import dataclass


@dataclass(frozen=True)
class UserExecutionContext:
    user_id: str | None
    thread_id: str | None = None
    run_id: str | None = None
    request_id: str | None = None
