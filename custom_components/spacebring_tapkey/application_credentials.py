"""Tapkey OAuth2 endpoints for Home Assistant's application credentials."""

from __future__ import annotations

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .connection import sandbox_url
from .const import TAPKEY_AUTHORIZE_URL, TAPKEY_TOKEN_URL

SANDBOX_AUTHORIZE_PATH = "/connect/authorize"
SANDBOX_TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path, not a secret


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Return Tapkey's authorization server, or the sandbox's when overridden."""
    if (base := sandbox_url()) is not None:
        return AuthorizationServer(
            authorize_url=base + SANDBOX_AUTHORIZE_PATH,
            token_url=base + SANDBOX_TOKEN_PATH,
        )
    return AuthorizationServer(
        authorize_url=TAPKEY_AUTHORIZE_URL,
        token_url=TAPKEY_TOKEN_URL,
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Tell the operator where Tapkey OAuth clients are registered."""
    return {
        "developer_docs_url": "https://developers.tapkey.io",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
