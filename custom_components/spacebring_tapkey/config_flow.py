"""Config flow: Tapkey OAuth2, then the locking system and Spacebring location."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.helpers import config_entry_oauth2_flow

from .const import DOMAIN, TAPKEY_SCOPES


class OAuth2FlowHandler(
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """Add a Spacebring location with a Tapkey locking system."""

    DOMAIN = DOMAIN
    VERSION = 1

    @property
    def logger(self) -> logging.Logger:
        """Return the logger of this flow."""
        return logging.getLogger(__name__)

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask Tapkey for the scopes the sync needs, with a refresh token."""
        return {"scope": " ".join(TAPKEY_SCOPES)}
