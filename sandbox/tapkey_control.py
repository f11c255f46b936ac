"""Control routes for tests and demos under `/_sandbox/tapkey/` (no auth).

They change what a real person or Tapkey itself would change: tokens expire
or get revoked, the plan's contact limit changes, the sign-in page approves
on its own. A token can also be had directly, without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from .tapkey_oauth import ALL_SCOPES
from .tapkey_state import TapkeyState

CONTROL_PREFIX: Final = "/_sandbox/tapkey"

type Clock = Callable[[], datetime]


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError as err:
        raise web.HTTPBadRequest(text="body is not JSON") from err
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


class _ControlRoutes:
    def __init__(self, state: TapkeyState, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    async def issue_token(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        client_id = str(body.get("clientId") or next(iter(self._state.oauth.clients)))
        scopes = frozenset(str(body.get("scope") or " ".join(ALL_SCOPES)).split())
        if client_id not in self._state.oauth.clients or scopes - ALL_SCOPES:
            raise web.HTTPBadRequest(text="unknown clientId or scope")
        return web.json_response(
            self._state.oauth.issue_tokens(client_id, scopes, now=self._clock())
        )

    async def expire_tokens(self, _request: web.Request) -> web.Response:
        return web.json_response({"expired": self._state.oauth.expire_access_tokens()})

    async def revoke_tokens(self, _request: web.Request) -> web.Response:
        return web.json_response({"revoked": self._state.oauth.revoke_all()})

    async def contact_limit(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        limit = body.get("limit")
        owner_id = body.get("ownerId")
        if (limit is not None and (not isinstance(limit, int) or limit < 0)) or (
            owner_id is not None and owner_id not in self._state.owners
        ):
            raise web.HTTPBadRequest(
                text="limit must be a non-negative integer or null"
            )
        self._state.set_contact_limit(limit, owner_id=owner_id)
        return web.json_response({"limit": limit, "ownerId": owner_id})

    async def auto_approve(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise web.HTTPBadRequest(text="enabled must be true or false")
        self._state.auto_approve = enabled
        return web.json_response({"enabled": enabled})


def register_control_routes(
    app: web.Application, state: TapkeyState, clock: Clock
) -> None:
    """Add the Tapkey control routes to `app`."""
    routes = _ControlRoutes(state, clock)
    app.router.add_post(CONTROL_PREFIX + "/tokens", routes.issue_token)
    app.router.add_post(CONTROL_PREFIX + "/tokens/expire", routes.expire_tokens)
    app.router.add_post(CONTROL_PREFIX + "/tokens/revoke", routes.revoke_tokens)
    app.router.add_put(CONTROL_PREFIX + "/contact-limit", routes.contact_limit)
    app.router.add_put(CONTROL_PREFIX + "/auto-approve", routes.auto_approve)
