"""Compatibility glue that nothing imports any more."""

from wsapp.websocket.connection_handler import ConnectionHandler

__all__ = ["ConnectionHandler"]
