"""Weekly time restrictions: when they open, and their iCalendar form."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from custom_components.spacebring_tapkey.access.ical import weekly_schedule_ical
from custom_components.spacebring_tapkey.access.model import WeeklySchedule
from custom_components.spacebring_tapkey.access.zones import (
    get_zone,
    start_of_local_day,
)

from .records import OFFICE_HOURS, OFFICES, VIENNA, local, utc

NIGHT_SHIFT = WeeklySchedule(frozenset({4}), time(22), time(6), VIENNA)


@pytest.mark.parametrize(
    ("wall_clock", "allowed"),
    [
        ("2026-03-02T09:00", True),  # Monday, opening minute
        ("2026-03-02T17:59", True),
        ("2026-03-02T18:00", False),  # end is exclusive
        ("2026-03-02T08:59", False),
        ("2026-03-07T12:00", False),  # Saturday
        ("2026-03-30T09:30", True),  # Monday after the DST change: local hours hold
    ],
)
def test_office_hours_follow_local_wall_clock(wall_clock: str, allowed: bool) -> None:
    """Mon-Fri 09:00-18:00 in Vienna, in winter and summer time alike."""
    assert OFFICE_HOURS.allows(local(wall_clock)) is allowed


@pytest.mark.parametrize(
    ("wall_clock", "allowed"),
    [
        ("2026-03-06T22:00", True),  # Friday night
        ("2026-03-07T05:59", True),  # into Saturday morning
        ("2026-03-07T06:00", False),
        ("2026-03-07T22:30", False),  # Saturday is not a starting day
        ("2026-03-06T05:00", False),  # Thursday did not start a span
    ],
)
def test_span_past_midnight_belongs_to_its_starting_day(
    wall_clock: str, allowed: bool
) -> None:
    """An end before the start runs into the next day."""
    assert NIGHT_SHIFT.allows(local(wall_clock)) is allowed


@pytest.mark.parametrize(
    ("weekdays", "zone", "start"),
    [
        (frozenset(), VIENNA, time(9)),
        (frozenset({7}), VIENNA, time(9)),
        (frozenset({1}), "Mars/Olympus", time(9)),
        (frozenset({1}), VIENNA, time(9, tzinfo=get_zone("UTC"))),
    ],
    ids=["no_days", "day_out_of_range", "unknown_zone", "aware_time"],
)
def test_schedules_no_lock_could_enforce_are_rejected(
    weekdays: frozenset[int], zone: str, start: time
) -> None:
    """Invalid schedules fail when they are made, not when a grant is planned."""
    with pytest.raises(ValueError, match=r"weekdays|time zone|wall-clock"):
        WeeklySchedule(weekdays, start, time(18), zone)


def test_office_hours_render_as_one_weekly_event() -> None:
    """The iCalendar Tapkey gets: one VEVENT with a weekly RRULE, CRLF lines."""
    assert weekly_schedule_ical(OFFICE_HOURS) == (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//spacebring_tapkey//access schedule//EN\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:MOTUWETHFR-090000-180000-Europe-Vienna@spacebring-tapkey\r\n"
        "DTSTAMP:20240101T000000Z\r\n"
        "DTSTART;TZID=Europe/Vienna:20240101T090000\r\n"
        "DTEND;TZID=Europe/Vienna:20240101T180000\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_span_past_midnight_ends_on_the_next_day() -> None:
    """The first event starts on the first scheduled weekday and ends a day later."""
    rendered = weekly_schedule_ical(NIGHT_SHIFT)

    assert "DTSTART;TZID=Europe/Vienna:20240105T220000\r\n" in rendered
    assert "DTEND;TZID=Europe/Vienna:20240106T060000\r\n" in rendered
    assert "RRULE:FREQ=WEEKLY;BYDAY=FR\r\n" in rendered


def test_equal_schedules_render_identically() -> None:
    """Rendering is deterministic: the planner compares the text."""
    twin = WeeklySchedule(frozenset({4, 0, 3, 2, 1}), time(9), time(18), VIENNA)

    assert weekly_schedule_ical(twin) == weekly_schedule_ical(OFFICE_HOURS)


def test_unknown_zone_name_is_none() -> None:
    """Zone lookups answer None instead of raising."""
    assert get_zone("Europe/Vienna") is not None
    assert get_zone("Mars/Olympus") is None
    assert get_zone("../etc/passwd") is None


def test_local_day_starts_at_midnight_wall_clock() -> None:
    """Any instant of a local day maps to that day's first instant."""
    zone = get_zone(VIENNA)
    assert zone is not None

    assert start_of_local_day(utc("2026-07-01T21:59"), zone) == utc("2026-06-30T22:00")
    assert start_of_local_day(utc("2026-07-01T22:00"), zone) == utc("2026-07-01T22:00")


@pytest.mark.parametrize(
    ("after", "change"),
    [
        ("2026-03-02T08:00", "2026-03-02T09:00"),  # Monday before opening
        ("2026-03-02T09:00", "2026-03-02T18:00"),  # at opening: the closing next
        ("2026-03-06T18:00", "2026-03-09T09:00"),  # Friday close: Monday morning
        ("2026-03-27T20:00", "2026-03-30T09:00"),  # over the DST weekend
    ],
)
def test_next_change_is_the_next_opening_or_closing(after: str, change: str) -> None:
    """Entities whose state follows a schedule know when to look again."""
    assert OFFICE_HOURS.next_change(local(after)) == local(change)


def test_next_change_of_a_span_past_midnight_is_on_the_next_day() -> None:
    """Friday 22:00 opens, Saturday 06:00 closes."""
    assert NIGHT_SHIFT.next_change(local("2026-03-06T23:00")) == local(
        "2026-03-07T06:00"
    )


def test_group_without_schedule_always_allows() -> None:
    """Only a group's schedule restricts when its grants open."""
    tiered = replace(OFFICES, schedule=OFFICE_HOURS)
    saturday = local("2026-03-07T12:00")

    assert OFFICES.allows(saturday)
    assert not tiered.allows(saturday)
