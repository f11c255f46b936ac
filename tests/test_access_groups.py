"""Access-group subentry data → the access engine's AccessGroup."""

from __future__ import annotations

from datetime import time

from homeassistant.const import CONF_NAME
import pytest

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    TargetRef,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.access_groups import (
    access_group_from_subentry,
)
from custom_components.spacebring_tapkey.api.models import TargetKind
from custom_components.spacebring_tapkey.const import (
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

TIMEZONE = "Europe/Vienna"
NIGHT_SHIFT = {
    CONF_NAME: "Night shift",
    CONF_GROUP_REFS: ["5d0c1c0e-2b1f-4d38-9d5e-0f3f3b1e9a10"],
    CONF_PLANS: ["plan-night"],
    CONF_RESOURCES: ["office-1", "office-2"],
    CONF_RESOURCE_TYPES: ["office"],
    CONF_LOCKS: ["lock-front", "lock-office-1"],
    CONF_LOCK_GROUPS: ["group-offices"],
    CONF_SCHEDULE_DAYS: ["fri", "sat"],
    CONF_SCHEDULE_START: "22:00:00",
    CONF_SCHEDULE_END: "06:00",
}


def test_every_field_reaches_the_access_group() -> None:
    """Sources, targets (locks before lock groups) and the schedule."""
    group = access_group_from_subentry("subentry-1", NIGHT_SHIFT, TIMEZONE)

    assert group == AccessGroup(
        id="subentry-1",
        name="Night shift",
        targets=(
            TargetRef("lock-front", TargetKind.LOCK),
            TargetRef("lock-office-1", TargetKind.LOCK),
            TargetRef("group-offices", TargetKind.LOCK_GROUP),
        ),
        tapkey_group_refs=frozenset({"5d0c1c0e-2b1f-4d38-9d5e-0f3f3b1e9a10"}),
        plan_ids=frozenset({"plan-night"}),
        resource_ids=frozenset({"office-1", "office-2"}),
        resource_types=frozenset({"office"}),
        schedule=WeeklySchedule(
            weekdays=frozenset({4, 5}),
            start=time(22),
            end=time(6),
            timezone=TIMEZONE,
        ),
    )


def test_group_without_schedule_grants_around_the_clock() -> None:
    """Empty schedule fields (as the flow stores them) mean no restriction."""
    data = NIGHT_SHIFT | {
        CONF_SCHEDULE_DAYS: [],
        CONF_SCHEDULE_START: None,
        CONF_SCHEDULE_END: None,
    }

    assert access_group_from_subentry("subentry-1", data, TIMEZONE).schedule is None


def test_missing_lists_read_as_empty() -> None:
    """Data written before a field existed still converts."""
    group = access_group_from_subentry(
        "subentry-1", {CONF_NAME: "Doors", CONF_LOCKS: ["lock-front"]}, TIMEZONE
    )

    assert group.targets == (TargetRef("lock-front", TargetKind.LOCK),)
    assert group.tapkey_group_refs == frozenset()
    assert group.resource_types == frozenset()
    assert group.schedule is None


@pytest.mark.parametrize(
    ("changes", "timezone"),
    [
        ({CONF_SCHEDULE_END: None}, TIMEZONE),
        ({CONF_SCHEDULE_DAYS: ["someday"]}, TIMEZONE),
        ({CONF_SCHEDULE_START: "25:00"}, TIMEZONE),
        ({}, "Mars/Olympus_Mons"),
    ],
    ids=["no end", "unknown day", "bad time", "unknown zone"],
)
def test_unenforceable_schedule_raises_value_error(
    changes: dict[str, object], timezone: str
) -> None:
    """Data no lock could enforce is rejected, never silently widened."""
    with pytest.raises(ValueError):  # noqa: PT011 - the reasons differ per case
        access_group_from_subentry("subentry-1", NIGHT_SHIFT | changes, timezone)
