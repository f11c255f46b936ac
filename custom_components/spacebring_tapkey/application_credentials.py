"""Tapkey OAuth2 endpoints for Home Assistant's application credentials."""

from __future__ import annotations

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .const import TAPKEY_AUTHORIZE_URL, TAPKEY_TOKEN_URL


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Return Tapkey's authorization server."""
    return AuthorizationServer(
        authorize_url=TAPKEY_AUTHORIZE_URL,
        token_url=TAPKEY_TOKEN_URL,
    )
