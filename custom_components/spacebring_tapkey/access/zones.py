"""Time-zone lookups and local calendar arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@cache
def get_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone called `name`, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def start_of_local_day(instant: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) of the local calendar day that holds `instant`.

    On days whose midnight is skipped by a DST change, the day starts at the
    change itself.
    """
    # fold=0 picks the first of two midnights when clocks fall back over it,
    # and maps a skipped midnight (zones that jump from 00:00 to 01:00) to
    # the instant of the jump, which is where that day begins.
    midnight = datetime.combine(instant.astimezone(zone).date(), time(), zone)
    return midnight.astimezone(UTC)
