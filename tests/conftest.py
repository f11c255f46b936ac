"""Shared fixtures."""

from __future__ import annotations

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN

# Fixture modules for every test: Home Assistant's test harness, the live
# sandbox for Home Assistant tests, and the entity tests' small world.
pytest_plugins = [
    "pytest_homeassistant_custom_component",
    "tests.ha_sandbox",
    "tests.entity_world",
]

__all__ = ["DOMAIN"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant's loader find custom_components/ in every test."""
