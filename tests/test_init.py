"""The integration loads into Home Assistant."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from custom_components.spacebring_tapkey.const import DOMAIN


async def test_loader_finds_the_custom_integration(hass: HomeAssistant) -> None:
    """Home Assistant resolves the domain to this repository's integration."""
    integration = await async_get_integration(hass, DOMAIN)

    assert integration.domain == DOMAIN
    assert not integration.is_built_in
    assert integration.config_flow is True
    assert str(integration.version) == "0.1.0"
