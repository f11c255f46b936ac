"""Coordinators that poll Spacebring and Tapkey for one config entry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api.errors import ApiAuthError, ApiError
from .api.models import Grant, LockTarget, SkippedRecord, SpacebringSnapshot
from .api.spacebring import SpacebringClient
from .api.tapkey import TapkeyClient
from .const import DOMAIN, LOGGER, SPACEBRING_POLL_INTERVAL, TAPKEY_POLL_INTERVAL
from .options import entry_options

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

# Grants that are no longer active cannot open a door; the planner treats a
# managed grant that is missing from this list as gone and recreates it.
ACTIVE_GRANTS_FILTER = "active eq true"


@dataclass(frozen=True, slots=True)
class TapkeyData:
    """The locking system as Tapkey reports it."""

    owner_available: bool
    locks: tuple[LockTarget, ...]
    lock_groups: tuple[LockTarget, ...]
    grants: tuple[Grant, ...]
    skipped: tuple[SkippedRecord, ...]


class SpacebringCoordinator(DataUpdateCoordinator[SpacebringSnapshot]):
    """Polls the location's plans, resources, subscriptions, members, bookings."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: SpacebringClient,
        location_id: str,
    ) -> None:
        """Poll the location with the entry's credentials."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} Spacebring",
            update_interval=SPACEBRING_POLL_INTERVAL,
        )
        self.client = client
        self.location_id = location_id

    async def _async_update_data(self) -> SpacebringSnapshot:
        # Bookings that ended within the grace period still give access, and
        # those starting within the horizon (plus grace) get grants ahead.
        options = entry_options(self.config_entry)
        now = dt_util.utcnow()
        with _update_errors(
            auth_key="spacebring_auth_failed", update_key="spacebring_update_failed"
        ):
            return await self.client.async_get_snapshot(
                self.location_id,
                bookings_from=now - options.grace_after,
                bookings_until=now + options.horizon + options.grace_before,
            )


class TapkeyCoordinator(DataUpdateCoordinator[TapkeyData]):
    """Polls the locking system's locks, lock groups and active grants."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: TapkeyClient,
        owner_id: str,
    ) -> None:
        """Poll less often than Spacebring; the sync refreshes after writing."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} Tapkey",
            update_interval=TAPKEY_POLL_INTERVAL,
        )
        self.client = client
        self.owner_id = owner_id

    async def _async_update_data(self) -> TapkeyData:
        with _update_errors(
            auth_key="tapkey_auth_failed", update_key="tapkey_update_failed"
        ):
            owners = await self.client.async_get_owners()
            if not any(owner.id == self.owner_id for owner in owners.items):
                return TapkeyData(
                    owner_available=False,
                    locks=(),
                    lock_groups=(),
                    grants=(),
                    skipped=owners.skipped,
                )
            locks = await self.client.async_get_bound_locks(self.owner_id)
            lock_groups = await self.client.async_get_lock_groups(self.owner_id)
            grants = await self.client.async_get_grants(
                self.owner_id, odata_filter=ACTIVE_GRANTS_FILTER
            )
        return TapkeyData(
            owner_available=True,
            locks=locks.items,
            lock_groups=lock_groups.items,
            grants=grants.items,
            skipped=(*locks.skipped, *lock_groups.skipped, *grants.skipped),
        )


@contextmanager
def _update_errors(*, auth_key: str, update_key: str) -> Iterator[None]:
    """Map client errors: rejected credentials start a reauth, the rest retry."""
    try:
        yield
    except ApiAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key=auth_key
        ) from err
    except ApiError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=update_key,
            translation_placeholders={"error": str(err)},
        ) from err
