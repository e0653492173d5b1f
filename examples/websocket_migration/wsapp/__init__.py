"""A small chat backend halfway through moving from wsapp.websocket to wsapp.websocket_core."""
