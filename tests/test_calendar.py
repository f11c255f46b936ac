"""The access-group calendars: events, exact boundaries, calendar triggers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.spacebring_tapkey.access.model import (
    AccessReason,
    AccessWindow,
    SourceKind,
)
from custom_components.spacebring_tapkey.calendar import (
    current_or_next,
    window_event,
)

from .entity_world import (
    FRONT_DOOR_GROUP_ID,
    NOW,
    ROOM_3_GROUP_ID,
    LoadEntry,
    entity_id,
    jump_to,
    vienna,
)

FLEX = AccessReason(SourceKind.SUBSCRIPTION, "sub-1", "Flex plan")
ROOM_3 = AccessReason(SourceKind.BOOKING, "booking-1", "Room 3")
ROOM_3_AGAIN = AccessReason(SourceKind.BOOKING, "booking-2", "Room 3")
HORIZON = timedelta(days=14)


def window(
    start: datetime,
    end: datetime | None,
    *reasons: AccessReason,
    person: str = "Ada Lovelace",
) -> AccessWindow:
    """A window of the front door group."""
    return AccessWindow(
        "ada@example.com", "group", start, end, person, reasons or (FLEX,)
    )


@pytest.mark.freeze_time(NOW, tick=True)
async def test_booking_opens_and_closes_access_on_the_second(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Room 3 booked 12:00-16:00 with 30 minutes' grace: 11:30 to 16:30 sharp."""
    await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")
    count = entity_id(hass, "sensor", f"{ROOM_3_GROUP_ID}_members_with_access")

    def seen() -> tuple[str, str, str]:
        calendar_state = hass.states.get(calendar)
        count_state = hass.states.get(count)
        assert calendar_state is not None
        assert count_state is not None
        return (
            calendar_state.state,
            calendar_state.attributes["message"],
            count_state.state,
        )

    # Polls fall due on the way; a minute before each boundary they are done.
    await jump_to(hass, freezer, vienna(2, 11, 29))
    await jump_to(hass, freezer, vienna(2, 11, 29, 59))
    assert seen() == (STATE_OFF, "Grace Hopper · Room 3", "0")

    await jump_to(hass, freezer, vienna(2, 11, 30))
    assert seen() == (STATE_ON, "Grace Hopper · Room 3", "1")

    await jump_to(hass, freezer, vienna(2, 16, 29))
    await jump_to(hass, freezer, vienna(2, 16, 29, 59))
    assert seen() == (STATE_ON, "Grace Hopper · Room 3", "1")

    await jump_to(hass, freezer, vienna(2, 16, 30))
    assert seen() == (STATE_OFF, "Alan Turing · Room 3", "0")


@pytest.mark.freeze_time(NOW, tick=True)
async def test_events_of_a_range(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Every window overlapping the range, with who, why and grace included."""
    await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")

    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": vienna(2, 0).isoformat(),
            "end_date_time": vienna(4, 0).isoformat(),
        },
        blocking=True,
        return_response=True,
    )

    assert response == {
        calendar: {
            "events": [
                {
                    "start": "2026-03-02T11:30:00+01:00",
                    "end": "2026-03-02T16:30:00+01:00",
                    "summary": "Grace Hopper · Room 3",
                    "description": "Booking: Room 3",
                },
                {
                    "start": "2026-03-03T08:30:00+01:00",
                    "end": "2026-03-03T11:30:00+01:00",
                    "summary": "Alan Turing · Room 3",
                    "description": "Booking: Room 3",
                },
                {
                    "start": "2026-03-03T08:30:00+01:00",
                    "end": "2026-03-03T11:30:00+01:00",
                    "summary": "Grace Hopper · Room 3",
                    "description": "Booking: Room 3",
                },
            ]
        }
    }


@pytest.mark.freeze_time(NOW, tick=True)
@pytest.mark.parametrize(
    ("start", "end", "summaries"),
    [
        (vienna(2, 16, 30), vienna(3, 8, 30), []),
        (vienna(2, 16, 29), vienna(2, 16, 30), ["Grace Hopper · Room 3"]),
        (vienna(20, 0), vienna(21, 0), []),
    ],
    ids=["between windows", "last minute of a window", "beyond the horizon"],
)
async def test_events_touching_a_range_only_at_its_edge_are_left_out(
    hass: HomeAssistant,
    load_tiny_entry: LoadEntry,
    start: datetime,
    end: datetime,
    summaries: list[str],
) -> None:
    """A window ending when the range starts (or starting when it ends) is out."""
    await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")

    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": start.isoformat(),
            "end_date_time": end.isoformat(),
        },
        blocking=True,
        return_response=True,
    )

    assert response is not None
    events = response[calendar]["events"]
    assert [event["summary"] for event in events] == summaries


@pytest.mark.freeze_time(NOW, tick=True)
async def test_open_ended_window_runs_to_the_end_of_the_horizon(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Ada's Flex plan has no end: it shows up to midnight after 14 days."""
    await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{FRONT_DOOR_GROUP_ID}_access_windows")

    response = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": vienna(10, 0).isoformat(),
            "end_date_time": vienna(11, 0).isoformat(),
        },
        blocking=True,
        return_response=True,
    )

    assert response == {
        calendar: {
            "events": [
                {
                    "start": "2026-02-01T00:00:00+01:00",
                    "end": "2026-03-17T00:00:00+01:00",
                    "summary": "Ada Lovelace · Flex plan",
                    "description": "Subscription: Flex plan\n"
                    "No end date: shown until the end of the sync horizon.",
                }
            ]
        }
    }


@pytest.mark.freeze_time(NOW, tick=True)
@pytest.mark.parametrize(
    ("event", "offset", "fires_at"),
    [
        ("start", "-00:15:00", vienna(2, 11, 15)),
        ("start", "00:00:00", vienna(2, 11, 30)),
        ("end", "00:05:00", vienna(2, 16, 35)),
    ],
    ids=["15 minutes before the start", "at the start", "5 minutes after the end"],
)
async def test_calendar_trigger_fires_on_time(
    hass: HomeAssistant,
    load_tiny_entry: LoadEntry,
    freezer: FrozenDateTimeFactory,
    event: str,
    offset: str,
    fires_at: datetime,
) -> None:
    """An automation on Room 3's calendar runs at the window edge plus offset."""
    await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": {
                    "trigger": "calendar",
                    "entity_id": calendar,
                    "event": event,
                    "offset": offset,
                },
                "actions": {
                    "action": "test.automation",
                    "data": {"summary": "{{ trigger.calendar_event.summary }}"},
                },
            }
        },
    )

    await jump_to(hass, freezer, fires_at - timedelta(minutes=1))
    await jump_to(hass, freezer, fires_at - timedelta(seconds=1))
    assert calls == []

    await jump_to(hass, freezer, fires_at)
    assert [call.data for call in calls] == [{"summary": "Grace Hopper · Room 3"}]

    # The trigger polls the calendar every 15 minutes until detached.
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )


def test_summary_and_description_name_every_reason_once() -> None:
    """Two bookings of Room 3 during a subscription merge into one window."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    merged = window(start, start + timedelta(hours=8), FLEX, ROOM_3, ROOM_3_AGAIN)

    event = window_event(merged, synced_at=start, horizon=HORIZON)

    assert event.summary == "Ada Lovelace · Flex plan, Room 3"
    assert event.description == "Subscription: Flex plan\nBooking: Room 3"


def test_access_granted_by_hand_to_a_guest_without_note() -> None:
    """Someone Spacebring does not know is a guest; the source names the why."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    by_hand = AccessReason(SourceKind.ADHOC, "adhoc-1", "")
    guest = window(start, start + timedelta(hours=2), by_hand, person="")

    event = window_event(guest, synced_at=start, horizon=HORIZON)

    assert event.summary == "Guest · Granted by hand"
    assert event.description == "Granted by hand"


def test_open_ended_window_starting_after_the_horizon_keeps_a_horizon() -> None:
    """A subscription starting in a month still shows 14 days (to midnight)."""
    synced_at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    later = datetime(2026, 4, 1, 12, tzinfo=UTC)

    event = window_event(window(later, None), synced_at=synced_at, horizon=HORIZON)

    assert event.end == dt_util.start_of_local_day(date(2026, 4, 16))


def test_current_window_comes_before_upcoming_and_ended_ones() -> None:
    """In progress wins (earliest started first); else the next to start."""
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    ended = window(now - timedelta(hours=3), now - timedelta(hours=1))
    early = window(now - timedelta(hours=2), now + timedelta(hours=1))
    late = window(now - timedelta(hours=1), now + timedelta(hours=5))
    upcoming = window(now + timedelta(hours=2), now + timedelta(hours=3))

    assert current_or_next([ended, early, late, upcoming], now) is early
    assert current_or_next([ended, upcoming], now) is upcoming
    assert current_or_next([ended], now) is None
    assert current_or_next([early], early.end or now) is None
