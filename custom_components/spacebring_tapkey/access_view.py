"""What the entities of one entry show about access, shared by the platforms.

The sync engine keeps every desired access window of the entry in its
status; the entities of an access group need only their own. `AccessView`
indexes the windows by access group once per sync, says whether the data is
fresh enough to show, and logs once when it goes stale and once when it is
back. The functions below answer "who has access now" and "when can that
change next", so that entities change state at the exact boundary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.hass_dict import HassKey

from .access.model import AccessWindow, DesiredAccess, WeeklySchedule
from .access_groups import access_group_from_subentry
from .const import DOMAIN, LOGGER
from .sync import signal_sync_finished

if TYPE_CHECKING:
    from . import SpacebringTapkeyConfigEntry, SpacebringTapkeyData

ACCESS_VIEWS: Final[HassKey[dict[str, AccessView]]] = HassKey(f"{DOMAIN}_access_views")

# Only a grant made by hand for someone Spacebring does not know has no name;
# the e-mail is personal data and never shown instead.
GUEST_NAME: Final = "Guest"


class AccessView:
    """The access windows of one loaded entry, by access group."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SpacebringTapkeyConfigEntry,
        hub_device_id: str,
    ) -> None:
        """Read from the entry's runtime data; nothing is copied."""
        self._hass = hass
        self.entry = entry
        # Access-group devices are linked to the hub by its registry id.
        self.hub_device_id = hub_device_id
        self._indexed: DesiredAccess | None = None
        self._by_group: dict[str, tuple[AccessWindow, ...]] = {}
        # None until the data was fresh once: waiting for the first sync
        # after start-up is not worth a log line.
        self._was_fresh: bool | None = None

    @property
    def data(self) -> SpacebringTapkeyData:
        """The entry's coordinators and sync engine."""
        return self.entry.runtime_data

    @property
    def fresh(self) -> bool:
        """Whether both services answered and a sync has computed the windows."""
        data = self.data
        return (
            data.spacebring.last_update_success
            and data.tapkey.last_update_success
            and data.sync.status.desired is not None
        )

    def windows(self, group_id: str) -> tuple[AccessWindow, ...]:
        """The group's windows of the last sync, by start."""
        desired = self.data.sync.status.desired
        if desired is None:
            return ()
        if desired is not self._indexed:
            by_group: defaultdict[str, list[AccessWindow]] = defaultdict(list)
            for window in desired.windows:
                by_group[window.group_id].append(window)
            self._by_group = {
                group: tuple(sorted(windows, key=_by_start))
                for group, windows in by_group.items()
            }
            self._indexed = desired
        return self._by_group.get(group_id, ())

    def schedule(self, group_id: str) -> WeeklySchedule | None:
        """The group's weekly hours, in the location's time zone."""
        subentry = self.entry.subentries.get(group_id)
        if subentry is None:
            return None
        snapshot = self.data.spacebring.data
        timezone = (
            snapshot.location.timezone if snapshot is not None else None
        ) or self._hass.config.time_zone
        try:
            group = access_group_from_subentry(group_id, subentry.data, timezone)
        except ValueError:
            return None  # the sync skips such a group and says so
        return group.schedule

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the coordinators and the sync; return how to stop."""
        data = self.data
        stops = (
            data.spacebring.async_add_listener(self._async_check_freshness),
            data.tapkey.async_add_listener(self._async_check_freshness),
            async_dispatcher_connect(
                self._hass,
                signal_sync_finished(self.entry.entry_id),
                self._async_check_freshness,
            ),
        )

        @callback
        def stop() -> None:
            for stop_one in stops:
                stop_one()

        return stop

    @callback
    def _async_check_freshness(self) -> None:
        if self.fresh:
            if self._was_fresh is False:
                LOGGER.info("Access data of %s is up to date again", self.entry.title)
            self._was_fresh = True
        elif self._was_fresh:
            LOGGER.info(
                "Access data of %s is out of date: its access-group entities are"
                " unavailable until Spacebring and Tapkey answer and a sync runs",
                self.entry.title,
            )
            self._was_fresh = False


def access_view(hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry) -> AccessView:
    """The view of a loaded entry (made by `entity.async_prepare_entities`)."""
    return hass.data[ACCESS_VIEWS][entry.entry_id]


def member_name(window: AccessWindow) -> str:
    """The member's display name, never the e-mail."""
    return window.person or GUEST_NAME


def members_with_access(
    windows: Sequence[AccessWindow], schedule: WeeklySchedule | None, now: datetime
) -> list[AccessWindow]:
    """The windows (one per member) that let their member in at `now`."""
    if schedule is not None and not schedule.allows(now):
        return []
    return [window for window in windows if window.contains(now)]


def next_access_change(
    windows: Sequence[AccessWindow], schedule: WeeklySchedule | None, now: datetime
) -> datetime | None:
    """The first instant after `now` at which `members_with_access` can change."""
    edges = [
        edge
        for window in windows
        for edge in (window.start, window.end)
        if edge is not None and edge > now
    ]
    if schedule is not None and windows:
        edges.append(schedule.next_change(now))
    return min(edges, default=None)


def _by_start(window: AccessWindow) -> tuple[datetime, str]:
    return window.start, window.person
