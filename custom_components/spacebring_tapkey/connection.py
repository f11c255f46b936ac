"""Where the services live and how the configuration flows reach them.

Operators always talk to the real Spacebring and Tapkey. Developers and
tests set the environment variable named by `SANDBOX_URL_ENV` to a running
sandbox; an entry created under that override stores the sandbox's base URLs
(`CONF_SPACEBRING_URL`, `CONF_TAPKEY_URL`), so it keeps talking to the
sandbox, and entries without them talk to the real services.
"""

from __future__ import annotations

from collections.abc import Mapping
import os
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.errors import ApiAuthError, ApiError, ApiForbiddenError
from .api.http import RetryPolicy
from .api.spacebring import SpacebringClient
from .api.tapkey import TapkeyClient
from .const import (
    CONF_SPACEBRING_URL,
    CONF_TAPKEY_URL,
    SANDBOX_URL_ENV,
    SPACEBRING_API_URL,
    TAPKEY_API_URL,
)

SANDBOX_TAPKEY_API_PATH: Final = "/api/v1"

# A person waits for the form: fail fast and let them press submit again.
FLOW_RETRY_POLICY: Final = RetryPolicy(
    max_attempts=2, backoff_base=0.5, backoff_max=1.0, request_timeout=15.0
)


def sandbox_url() -> str | None:
    """The sandbox's base URL when the developer override is set."""
    return os.environ.get(SANDBOX_URL_ENV, "").strip().rstrip("/") or None


def service_url_data() -> dict[str, str]:
    """The base URLs a new entry stores: the sandbox's, or none (real services)."""
    if (base := sandbox_url()) is None:
        return {}
    return {
        CONF_SPACEBRING_URL: base,
        CONF_TAPKEY_URL: base + SANDBOX_TAPKEY_API_PATH,
    }


def spacebring_url(data: Mapping[str, Any]) -> str:
    """Spacebring's base URL for an entry's (or a flow's) data."""
    return str(data.get(CONF_SPACEBRING_URL, SPACEBRING_API_URL))


def tapkey_url(data: Mapping[str, Any]) -> str:
    """The Tapkey Management API's base URL for an entry's (or a flow's) data."""
    return str(data.get(CONF_TAPKEY_URL, TAPKEY_API_URL))


class StaticTokenProvider:
    """Hands out one access token: the fresh one a flow has just obtained."""

    def __init__(self, access_token: str) -> None:
        """Keep the token."""
        self._access_token = access_token

    async def async_get_access_token(self) -> str:
        """Return the token."""
        return self._access_token


def flow_spacebring_client(
    hass: HomeAssistant, client_id: str, client_secret: str, data: Mapping[str, Any]
) -> SpacebringClient:
    """A Spacebring client on Home Assistant's session for a flow's checks."""
    return SpacebringClient(
        async_get_clientsession(hass),
        client_id,
        client_secret,
        base_url=spacebring_url(data),
        policy=FLOW_RETRY_POLICY,
    )


def flow_tapkey_client(
    hass: HomeAssistant, access_token: str, data: Mapping[str, Any]
) -> TapkeyClient:
    """A Tapkey client on Home Assistant's session, with a token just obtained."""
    return TapkeyClient(
        async_get_clientsession(hass),
        StaticTokenProvider(access_token),
        base_url=tapkey_url(data),
        policy=FLOW_RETRY_POLICY,
    )


def credentials_error(err: ApiError) -> str:
    """The form error for a failed credentials check."""
    if isinstance(err, ApiAuthError | ApiForbiddenError):
        return "invalid_auth"
    return "cannot_connect"
