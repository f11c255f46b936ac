"""Spacebring bookings and subscriptions to Tapkey door access."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

type SpacebringTapkeyConfigEntry = ConfigEntry[None]


async def async_setup_entry(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> bool:
    """Set up a Spacebring location with a Tapkey locking system."""
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> bool:
    """Unload a config entry."""
    return True
