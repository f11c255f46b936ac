"""The access engine is pure: its tests need no Home Assistant instance."""

from __future__ import annotations

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN

__all__ = ["DOMAIN"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture so no Home Assistant instance starts."""
