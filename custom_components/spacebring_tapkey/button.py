"""A button that syncs now instead of at the next poll."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .access_view import access_view
from .const import DOMAIN
from .entity import SpacebringTapkeyEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry, SpacebringTapkeyData

# Pressing reads both services; one press at a time per entry is plenty.
PARALLEL_UPDATES = 1


async def async_sync_now(data: SpacebringTapkeyData) -> None:
    """Read Tapkey, then Spacebring, whose update starts the sync.

    Tapkey goes first so that the sync sees grants changed by hand. Raises
    a translated error when a service did not answer.
    """
    await data.tapkey.async_refresh()
    _raise_if_failed(data.tapkey, "tapkey_update_failed")
    await data.spacebring.async_refresh()
    _raise_if_failed(data.spacebring, "spacebring_update_failed")


def _raise_if_failed[T](
    coordinator: DataUpdateCoordinator[T], translation_key: str
) -> None:
    if not coordinator.last_update_success:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"error": str(coordinator.last_exception)},
        )


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
        """Read both services and sync."""
        await self.entity_description.press_fn(self._view.data)
