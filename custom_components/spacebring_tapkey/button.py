"""A button that syncs now instead of at the next poll."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.exceptions import HomeAssistantError

from .access_view import access_view
from .const import DOMAIN
from .entity import SpacebringTapkeyEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry, SpacebringTapkeyData

# A press reads both services and syncs; one at a time per entry is plenty.
PARALLEL_UPDATES = 1


async def async_sync_now(data: SpacebringTapkeyData) -> None:
    """Read Tapkey and Spacebring again, then sync, as the sync-now action does.

    Tapkey goes first so that the sync sees grants changed by hand. Raises a
    translated error when the sync could not run or changes failed in Tapkey
    (they are retried on their own).
    """
    await data.tapkey.async_refresh()
    await data.spacebring.async_refresh()
    # The Spacebring update has already asked for a sync; awaiting one more
    # makes the press return only once the result shows.
    if await data.sync.async_sync() is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key=_why_no_sync(data)
        )
    if failed := data.sync.status.failed:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="sync_failed",
            translation_placeholders={"count": str(failed)},
        )


def _why_no_sync(data: SpacebringTapkeyData) -> str:
    if not data.spacebring.last_update_success:
        return "spacebring_unavailable"
    if data.tapkey.last_update_success and not data.tapkey.data.owner_available:
        return "locking_system_unavailable"
    return "tapkey_unavailable"


@dataclass(frozen=True, kw_only=True)
class SyncButtonEntityDescription(ButtonEntityDescription):
    """A button acting on the entry's sync."""

    press_fn: Callable[[SpacebringTapkeyData], Awaitable[None]]


SYNC_NOW: Final = SyncButtonEntityDescription(
    key="sync_now", translation_key="sync_now", press_fn=async_sync_now
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpacebringTapkeyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sync-now button."""
    async_add_entities([SyncButton(access_view(hass, entry), SYNC_NOW)])


class SyncButton(SpacebringTapkeyEntity, ButtonEntity):
    """Syncs the entry now."""

    entity_description: SyncButtonEntityDescription

    async def async_press(self) -> None:
        """Read both services and sync; raise when that did not work out."""
        await self.entity_description.press_fn(self._view.data)
