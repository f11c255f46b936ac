"""Constants of the Spacebring Tapkey integration."""

from typing import Final

DOMAIN: Final = "spacebring_tapkey"

TAPKEY_AUTHORIZE_URL: Final = "https://login.tapkey.com/connect/authorize"
TAPKEY_TOKEN_URL: Final = "https://login.tapkey.com/connect/token"  # noqa: S105
TAPKEY_API_URL: Final = "https://my.tapkey.com/api/v1"
SPACEBRING_API_URL: Final = "https://api.spacebring.com"

TAPKEY_SCOPES: Final = (
    "read:owneraccounts",
    "read:core:entities",
    "write:core:entities",
    "read:grants",
    "write:grants",
    "read:logs",
    "offline_access",
)
