"""The Tapkey half of the sandbox: world state and every Tapkey route.

`TapkeyState` holds the locking systems and OAuth; `register_tapkey_routes`
serves the Management API under `/api/v1`, OAuth under `/connect` and test
controls under `/_sandbox/tapkey`, all reading time from the sandbox clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from .tapkey_api import register_management_routes
from .tapkey_control import register_control_routes
from .tapkey_oauth_routes import register_oauth_routes
from .tapkey_state import TapkeyRequestError, TapkeyState

__all__ = ["TapkeyRequestError", "TapkeyState", "register_tapkey_routes"]


def register_tapkey_routes(
    app: web.Application, state: TapkeyState, clock: Callable[[], datetime]
) -> None:
    """Serve `state` on `app`: Management API, OAuth and control routes."""
    register_management_routes(app, state, clock)
    register_oauth_routes(app, state, clock)
    register_control_routes(app, state, clock)
