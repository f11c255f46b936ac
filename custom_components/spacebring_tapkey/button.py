"""A button that syncs now instead of at the next poll."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription

from .access_view import access_view
from .entity import SpacebringTapkeyEntity
from .services import async_sync_now

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry, SpacebringTapkeyData

# A press reads both services and syncs; one at a time per entry is plenty.
PARALLEL_UPDATES = 1


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
