"""A calendar per access group: who has access when, and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.util import dt as dt_util

from .access.model import AccessReason, AccessWindow, SourceKind
from .access_view import access_view, member_name
from .entity import AccessGroupEntity, async_add_access_group_entities
from .options import entry_options

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry

PARALLEL_UPDATES = 0

ACCESS_WINDOWS: Final = CalendarEntityDescription(
    key="access_windows", translation_key="access_windows"
)

SOURCE_NAMES: Final = {
    SourceKind.BOOKING: "Booking",
    SourceKind.SUBSCRIPTION: "Subscription",
    SourceKind.ADHOC: "Granted by hand",
}
OPEN_ENDED_NOTE: Final = "No end date: shown until the end of the sync horizon."


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpacebringTapkeyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a calendar per access group."""
    view = access_view(hass, entry)

    def create(subentry: ConfigSubentry) -> list[AccessWindowsCalendar]:
        return [AccessWindowsCalendar(view, ACCESS_WINDOWS, subentry)]

    async_add_access_group_entities(entry, async_add_entities, create)


class AccessWindowsCalendar(AccessGroupEntity, CalendarEntity):
    """The access windows of one access group, grace periods included.

    Home Assistant's calendar re-renders at the start and end of the event
    the `event` property returns, so the state turns on and off on time.
    """

    entity_description: CalendarEntityDescription

    @property
    def event(self) -> CalendarEvent | None:
        """The window in progress (earliest started first), else the next one."""
        window = current_or_next(self.windows, dt_util.utcnow())
        if window is None:
            return None
        synced_at, horizon = self._open_end()
        return window_event(window, synced_at=synced_at, horizon=horizon)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The windows that overlap `start_date` to `end_date`."""
        synced_at, horizon = self._open_end()
        return [
            window_event(window, synced_at=synced_at, horizon=horizon)
            for window in self.windows
            if window.start < end_date
            and (window.end is None or window.end > start_date)
        ]

    def _open_end(self) -> tuple[datetime, timedelta]:
        """What the end of an open-ended window depends on."""
        synced_at = self._view.data.sync.status.last_success or dt_util.utcnow()
        return synced_at, entry_options(self._view.entry).horizon


def current_or_next(
    windows: Sequence[AccessWindow], now: datetime
) -> AccessWindow | None:
    """The earliest-started window holding `now`, else the next to start.

    `windows` are sorted by start.
    """
    upcoming: AccessWindow | None = None
    for window in windows:
        if window.contains(now):
            return window
        if upcoming is None and window.start > now:
            upcoming = window
    return upcoming


def window_event(
    window: AccessWindow, *, synced_at: datetime, horizon: timedelta
) -> CalendarEvent:
    """A window as an event: "Ada Lovelace · Room 3", every reason described.

    A calendar event needs an end; an open-ended window (a subscription
    without end date) is shown up to the local midnight after the sync
    horizon, about as far as the integration grants ahead. That end moves
    once a day while syncs succeed, so no calendar trigger fires for it; it
    is reached only when syncing stopped for a whole horizon, which is when
    the granted access runs out too.
    """
    # Back-to-back bookings of one room merge into one window: name it once.
    labels = list(dict.fromkeys(_label(reason) for reason in window.reasons))
    lines = list(dict.fromkeys(_describe(reason) for reason in window.reasons))
    end = window.end
    if end is None:
        horizon_day = dt_util.as_local(max(synced_at, window.start) + horizon).date()
        end = dt_util.start_of_local_day(horizon_day + timedelta(days=1))
        lines.append(OPEN_ENDED_NOTE)
    return CalendarEvent(
        start=dt_util.as_local(window.start),
        end=dt_util.as_local(end),
        summary=f"{member_name(window)} · {', '.join(labels)}",
        description="\n".join(lines),
    )


def _label(reason: AccessReason) -> str:
    return reason.label or SOURCE_NAMES[reason.kind]


def _describe(reason: AccessReason) -> str:
    source = SOURCE_NAMES[reason.kind]
    return f"{source}: {reason.label}" if reason.label else source
