"""The members-with-access sensor of an access group."""

from __future__ import annotations

from datetime import datetime, time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.spacebring_tapkey.access.model import (
    AccessWindow,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.access_view import (
    members_with_access,
    next_access_change,
)
from custom_components.spacebring_tapkey.const import (
    CONF_SCHEDULE_DAYS,
    CONF_SCHEDULE_END,
    CONF_SCHEDULE_START,
)

from .entity_world import (
    FLEX_REF,
    FRONT_DOOR_GROUP_ID,
    FRONT_DOOR_LOCK_ID,
    NOW,
    ROOM_3_REF,
    LoadEntry,
    access_group_data,
    entity_id,
    jump_to,
    vienna,
)

OFFICE_HOURS = access_group_data(
    "Front door",
    refs=[FLEX_REF, ROOM_3_REF],
    locks=[FRONT_DOOR_LOCK_ID],
    **{
        CONF_SCHEDULE_DAYS: ["mon", "tue", "wed", "thu", "fri"],
        CONF_SCHEDULE_START: "09:00",
        CONF_SCHEDULE_END: "18:00",
    },
)


def members(hass: HomeAssistant) -> tuple[str, list[str]]:
    """The front door's count and member names."""
    state = hass.states.get(
        entity_id(hass, "sensor", f"{FRONT_DOOR_GROUP_ID}_members_with_access")
    )
    assert state is not None
    return state.state, state.attributes["members"]


@pytest.mark.freeze_time(NOW, tick=True)
async def test_members_are_counted_and_named(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At noon Ada (Flex plan) and Grace (Room 3 booking) can open the door."""
    await load_tiny_entry()

    await jump_to(hass, freezer, vienna(2, 12))

    assert members(hass) == ("2", ["Ada Lovelace", "Grace Hopper"])


@pytest.mark.freeze_time(NOW, tick=True)
async def test_weekly_hours_open_and_close_the_door_on_the_second(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With Mon-Fri 09:00-18:00, access windows count only within the hours."""
    await load_tiny_entry(groups={FRONT_DOOR_GROUP_ID: OFFICE_HOURS})
    assert members(hass) == ("1", ["Ada Lovelace"])

    await jump_to(hass, freezer, vienna(2, 17, 59))
    await jump_to(hass, freezer, vienna(2, 17, 59, 59))
    assert members(hass) == ("1", ["Ada Lovelace"])

    await jump_to(hass, freezer, vienna(2, 18))
    assert members(hass) == ("0", [])

    # Tuesday's bookings give access from 08:30; the door opens at 09:00.
    await jump_to(hass, freezer, vienna(3, 8, 59))
    await jump_to(hass, freezer, vienna(3, 8, 59, 59))
    assert members(hass) == ("0", [])

    await jump_to(hass, freezer, vienna(3, 9))
    assert members(hass) == ("3", ["Ada Lovelace", "Alan Turing", "Grace Hopper"])


@pytest.mark.freeze_time(NOW, tick=True)
async def test_member_names_are_kept_out_of_the_recorder(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Names change with every booking: only the count goes to history."""
    await load_tiny_entry()

    state = hass.states.get(
        entity_id(hass, "sensor", f"{FRONT_DOOR_GROUP_ID}_members_with_access")
    )

    assert state is not None
    assert state.state_info is not None
    assert "members" in state.state_info["unrecorded_attributes"]


def _window(start: datetime, end: datetime | None) -> AccessWindow:
    return AccessWindow("ada@example.com", "group", start, end, "Ada Lovelace", ())


def test_next_change_is_the_nearest_window_edge_ahead() -> None:
    """Starts and ends both count; edges at or before now do not."""
    now = vienna(2, 12)
    windows = [
        _window(vienna(2, 11), vienna(2, 15)),
        _window(vienna(2, 13), None),
        _window(vienna(2, 9), vienna(2, 12)),
    ]

    assert next_access_change(windows, None, now) == vienna(2, 13)
    assert next_access_change(windows, None, vienna(2, 13)) == vienna(2, 15)
    assert next_access_change(windows, None, vienna(2, 15)) is None


def test_next_change_includes_the_weekly_hours() -> None:
    """Within an open-ended window, the hours' next edge is the next change."""
    hours = WeeklySchedule(
        weekdays=frozenset(range(5)),
        start=time(9),
        end=time(18),
        timezone="Europe/Vienna",
    )
    windows = [_window(vienna(1, 0), None)]

    assert next_access_change(windows, hours, vienna(2, 12)) == vienna(2, 18)
    assert [w.person for w in members_with_access(windows, hours, vienna(2, 12))] == [
        "Ada Lovelace"
    ]
    assert members_with_access(windows, hours, vienna(2, 18)) == []
    assert next_access_change([], hours, vienna(2, 12)) is None
