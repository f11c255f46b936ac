"""Constants of the Spacebring Tapkey integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "spacebring_tapkey"
LOGGER: Final = logging.getLogger(__package__)

TAPKEY_AUTHORIZE_URL: Final = "https://login.tapkey.com/connect/authorize"
TAPKEY_TOKEN_URL: Final = "https://login.tapkey.com/connect/token"  # noqa: S105
TAPKEY_API_URL: Final = "https://my.tapkey.com/api/v1"
SPACEBRING_API_URL: Final = "https://api.spacebring.com"

# Developer override: point the integration at the local sandbox instead of
# the real services (scripts/develop sets it; operators never do).
SANDBOX_URL_ENV: Final = "SPACEBRING_TAPKEY_SANDBOX_URL"

TAPKEY_SCOPES: Final = (
    "read:owneraccounts",
    "read:core:entities",
    "write:core:entities",
    "read:grants",
    "write:grants",
    "read:logs",
    "offline_access",
)

# Config entry data.
CONF_OWNER_ID: Final = "owner_id"
CONF_OWNER_NAME: Final = "owner_name"
CONF_SPACEBRING_CLIENT_ID: Final = "spacebring_client_id"
CONF_SPACEBRING_CLIENT_SECRET: Final = "spacebring_client_secret"  # noqa: S105
CONF_LOCATION_ID: Final = "location_id"
CONF_LOCATION_NAME: Final = "location_name"
CONF_SPACEBRING_URL: Final = "spacebring_url"
CONF_TAPKEY_URL: Final = "tapkey_url"

# Options.
CONF_GRACE_BEFORE: Final = "grace_before_minutes"
CONF_GRACE_AFTER: Final = "grace_after_minutes"
CONF_INCLUDE_TENTATIVE: Final = "include_tentative"
CONF_HORIZON_DAYS: Final = "horizon_days"
CONF_DRY_RUN: Final = "dry_run"

DEFAULT_GRACE_MINUTES: Final = 30
DEFAULT_HORIZON_DAYS: Final = 14
DEFAULT_INCLUDE_TENTATIVE: Final = False
DEFAULT_DRY_RUN: Final = False

# Access group subentries.
SUBENTRY_ACCESS_GROUP: Final = "access_group"
CONF_GROUP_REFS: Final = "tapkey_group_refs"
CONF_PLANS: Final = "plans"
CONF_RESOURCES: Final = "resources"
CONF_RESOURCE_TYPES: Final = "resource_types"
CONF_LOCKS: Final = "locks"
CONF_LOCK_GROUPS: Final = "lock_groups"
CONF_SCHEDULE_DAYS: Final = "schedule_days"
CONF_SCHEDULE_START: Final = "schedule_start"
CONF_SCHEDULE_END: Final = "schedule_end"

# Spacebring is polled; Tapkey state (locks, grants) changes rarely and is
# also re-read after every sync that wrote something.
SPACEBRING_POLL_INTERVAL: Final = timedelta(minutes=5)
TAPKEY_POLL_INTERVAL: Final = timedelta(minutes=30)
