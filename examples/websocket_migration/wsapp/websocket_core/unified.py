"""Star-import shim kept for old imports of wsapp.websocket_core.unified."""

from wsapp.websocket_core.unified_manager import *  # noqa: F403
