"""Chat event handlers.

This folder has no ``__init__.py``. Python still imports it (as a namespace
package), but grimp skips it, so no contract checks the imports of these files:
pytest-ssot lists the folder in its "pytest-ssot runtime" summary.
"""

from wsapp.context import UserExecutionContext
from wsapp.websocket_core.registry import get_websocket_manager


def on_message(user_id: str, text: str) -> None:
    get_websocket_manager(UserExecutionContext(user_id=user_id)).send_event(text)
