"""Shared fixtures."""

from __future__ import annotations

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN

pytest_plugins = ["pytest_homeassistant_custom_component"]

__all__ = ["DOMAIN"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant's loader find custom_components/ in every test."""
