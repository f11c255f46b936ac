"""Access-group subentry data and its conversion into the engine's `AccessGroup`.

One config subentry of type `access_group` holds one access group. Its data
is flat and JSON-friendly (what the subentry flow stores):

- `name`: the group's name (also the subentry title);
- `tapkey_group_refs`, `plans`, `resources`, `resource_types`: the
  Spacebring side (lists of strings);
- `locks`, `lock_groups`: Tapkey bound lock and lock group ids;
- `schedule_days` (`mon` ... `sun`), `schedule_start`, `schedule_end`
  (`HH:MM[:SS]` local wall-clock times): an optional weekly restriction,
  empty/None when the group grants around the clock.

No Home Assistant imports beyond constants: the sync engine calls
`access_group_from_subentry` for every subentry on every sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any, Final

from homeassistant.const import CONF_NAME

from .access.model import AccessGroup, TargetRef, WeeklySchedule
from .api.models import TargetKind
from .const import (
    CONF_GROUP_REFS,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    CONF_SCHEDULE_DAYS,
    CONF_SCHEDULE_END,
    CONF_SCHEDULE_START,
)

# Index = `datetime.weekday()`, as `WeeklySchedule.weekdays` counts.
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Spacebring's resource types (the `type` enum of the published OpenAPI).
RESOURCE_TYPES: Final = (
    "room",
    "meetingRoom",
    "conferenceRoom",
    "phoneBooth",
    "hotDesk",
    "dedicatedDesk",
    "office",
    "parkingLot",
    "equipment",
    "eventSpace",
    "station",
    "studio",
)


def _strings(data: Mapping[str, Any], key: str) -> frozenset[str]:
    values: Iterable[Any] = data.get(key) or ()
    return frozenset(text for value in values if (text := str(value).strip()))


def _schedule(data: Mapping[str, Any], timezone: str) -> WeeklySchedule | None:
    days = data.get(CONF_SCHEDULE_DAYS) or ()
    if not days:
        return None
    start = data.get(CONF_SCHEDULE_START)
    end = data.get(CONF_SCHEDULE_END)
    if not start or not end:
        raise ValueError("a weekly schedule needs a start and an end time")
    return WeeklySchedule(
        weekdays=frozenset(WEEKDAYS.index(day) for day in days),
        start=time.fromisoformat(str(start)),
        end=time.fromisoformat(str(end)),
        timezone=timezone,
    )


def access_group_from_subentry(
    subentry_id: str, data: Mapping[str, Any], timezone: str
) -> AccessGroup:
    """Build the engine's access group from one subentry's data.

    `timezone` (IANA name, normally the Spacebring location's) is the zone
    of the weekly schedule's wall-clock times. Raises ValueError when the
    data holds a schedule no lock could enforce (unknown day or zone, bad
    time); the subentry flow never stores one.
    """
    targets = tuple(
        TargetRef(lock_id, TargetKind.LOCK)
        for lock_id in sorted(_strings(data, CONF_LOCKS))
    ) + tuple(
        TargetRef(group_id, TargetKind.LOCK_GROUP)
        for group_id in sorted(_strings(data, CONF_LOCK_GROUPS))
    )
    return AccessGroup(
        id=subentry_id,
        name=str(data.get(CONF_NAME, "")),
        targets=targets,
        tapkey_group_refs=_strings(data, CONF_GROUP_REFS),
        plan_ids=_strings(data, CONF_PLANS),
        resource_ids=_strings(data, CONF_RESOURCES),
        resource_types=_strings(data, CONF_RESOURCE_TYPES),
        schedule=_schedule(data, timezone),
    )
