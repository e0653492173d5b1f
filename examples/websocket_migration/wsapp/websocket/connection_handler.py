"""Real code still living in the legacy package, used by a production route."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator


class ConnectionHandler:
    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.open = False


@contextlib.asynccontextmanager
async def connection_scope(connection_id: str) -> AsyncIterator[ConnectionHandler]:
    handler = ConnectionHandler(connection_id)
    handler.open = True
    try:
        yield handler
    finally:
        handler.open = False
