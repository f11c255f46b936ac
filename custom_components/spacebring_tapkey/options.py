"""The entry's options, read with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from .access.model import RuleSettings
from .const import (
    CONF_DRY_RUN,
    CONF_GRACE_AFTER,
    CONF_GRACE_BEFORE,
    CONF_HORIZON_DAYS,
    CONF_INCLUDE_TENTATIVE,
    DEFAULT_DRY_RUN,
    DEFAULT_GRACE_MINUTES,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_INCLUDE_TENTATIVE,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


@dataclass(frozen=True, slots=True)
class EntryOptions:
    """Options of one entry."""

    grace_before: timedelta
    grace_after: timedelta
    include_tentative: bool
    horizon: timedelta
    dry_run: bool

    def rule_settings(self, default_timezone: str) -> RuleSettings:
        """The access engine's settings for these options."""
        return RuleSettings(
            grace_before=self.grace_before,
            grace_after=self.grace_after,
            include_tentative=self.include_tentative,
            default_timezone=default_timezone,
        )


def entry_options(entry: ConfigEntry) -> EntryOptions:
    """Read an entry's options, falling back to the defaults."""
    options = entry.options
    return EntryOptions(
        grace_before=timedelta(
            minutes=float(options.get(CONF_GRACE_BEFORE, DEFAULT_GRACE_MINUTES))
        ),
        grace_after=timedelta(
            minutes=float(options.get(CONF_GRACE_AFTER, DEFAULT_GRACE_MINUTES))
        ),
        include_tentative=bool(
            options.get(CONF_INCLUDE_TENTATIVE, DEFAULT_INCLUDE_TENTATIVE)
        ),
        horizon=timedelta(
            days=float(options.get(CONF_HORIZON_DAYS, DEFAULT_HORIZON_DAYS))
        ),
        dry_run=bool(options.get(CONF_DRY_RUN, DEFAULT_DRY_RUN)),
    )
