"""Tapkey access tokens from Home Assistant's OAuth2 session.

The Tapkey client knows nothing about Home Assistant; it asks this adapter for
a valid access token before each call. Token refresh failures are mapped onto
the client's error model: a 4xx answer (other than 429) means the
authorisation is gone and the user must reauthenticate; anything else is
transient. Home Assistant 2026.3+ raises subclasses of ClientResponseError
for these cases and older releases raise ClientResponseError itself, so one
mapping serves both.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import ClientError, ClientResponseError
from homeassistant.helpers.config_entry_oauth2_flow import OAuth2Session

from .api.errors import ApiAuthError, ApiConnectionError


class TapkeyOAuthTokenProvider:
    """Provide fresh Tapkey access tokens from a config entry's OAuth2 session."""

    def __init__(self, session: OAuth2Session) -> None:
        """Wrap the entry's OAuth2 session."""
        self._session = session

    async def async_get_access_token(self) -> str:
        """Return a valid access token, refreshing it when it has expired."""
        try:
            await self._session.async_ensure_token_valid()
        except ClientResponseError as err:
            if (
                HTTPStatus.BAD_REQUEST <= err.status < HTTPStatus.INTERNAL_SERVER_ERROR
                and err.status != HTTPStatus.TOO_MANY_REQUESTS
            ):
                raise ApiAuthError(
                    "Tapkey rejected the refresh token", status=err.status
                ) from err
            raise ApiConnectionError(
                "Tapkey token refresh failed", status=err.status
            ) from err
        except ClientError as err:
            raise ApiConnectionError("Tapkey token refresh failed") from err
        return str(self._session.token["access_token"])
