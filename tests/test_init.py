"""The integration loads into Home Assistant."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.const import DOMAIN


async def test_loader_finds_the_custom_integration(hass: HomeAssistant) -> None:
    """Home Assistant resolves the domain to this repository's integration."""
    integration = await async_get_integration(hass, DOMAIN)

    assert integration.domain == DOMAIN
    assert not integration.is_built_in
    assert integration.config_flow is True
    assert str(integration.version) == "0.1.0"


async def test_entry_sets_up_and_unloads(hass: HomeAssistant) -> None:
    """A config entry reaches LOADED and unloads cleanly."""
    entry = MockConfigEntry(domain=DOMAIN, title="Demo")
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
