"""Bookings grant their resource's access group to booker and invitees."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.spacebring_tapkey.access.model import (
    AccessReason,
    DesiredAccess,
    RuleSettings,
    SkipReason,
    SourceKind,
)
from custom_components.spacebring_tapkey.access.rules import desired_access
from custom_components.spacebring_tapkey.api.models import (
    Booking,
    BookingStatus,
    Person,
    SkippedRecord,
)

from .records import (
    ANN,
    BEN,
    CLEO,
    DESK_12,
    GROUPS,
    ROOMS,
    booking,
    local,
    snapshot,
    utc,
)

NOW = utc("2026-03-02T06:00")


def spans(desired: DesiredAccess) -> list[tuple[str, str, str, str | None]]:
    """Windows as (e-mail, group, start, end) in ISO form, sorted."""
    return sorted(
        (
            window.email,
            window.group_id,
            window.start.isoformat(),
            window.end.isoformat() if window.end else None,
        )
        for window in desired.windows
    )


def rules(*bookings_: Booking, settings: RuleSettings | None = None) -> DesiredAccess:
    return desired_access(
        snapshot(bookings=tuple(bookings_)),
        GROUPS,
        settings or RuleSettings(),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("start", "end", "access_start", "access_end"),
    [
        ("12:00", "16:00", "11:30", "16:30"),
        ("09:30", "11:30", "09:00", "12:00"),
    ],
)
def test_booking_grants_its_time_plus_half_an_hour_each_side(
    start: str, end: str, access_start: str, access_end: str
) -> None:
    """The documented examples of Spacebring's help article."""
    desired = rules(
        booking("b-1", local(f"2026-03-04T{start}"), local(f"2026-03-04T{end}"))
    )

    assert spans(desired) == [
        (
            "ann.lee@example.org",
            ROOMS.id,
            local(f"2026-03-04T{access_start}").isoformat(),
            local(f"2026-03-04T{access_end}").isoformat(),
        )
    ]


def test_grace_periods_follow_the_settings() -> None:
    """An operator can shorten or lengthen the grace before and after."""
    settings = RuleSettings(
        grace_before=timedelta(minutes=10), grace_after=timedelta(hours=1)
    )

    desired = rules(
        booking("b-1", utc("2026-03-04T12:00"), utc("2026-03-04T16:00")),
        settings=settings,
    )

    assert spans(desired) == [
        (
            "ann.lee@example.org",
            ROOMS.id,
            "2026-03-04T11:50:00+00:00",
            "2026-03-04T17:00:00+00:00",
        )
    ]


def test_booking_across_midnight_is_one_window() -> None:
    """A late booking runs into the next day without a break."""
    desired = rules(
        booking("b-1", local("2026-03-04T22:00"), local("2026-03-05T02:00"))
    )

    assert [(w.start, w.end) for w in desired.windows] == [
        (local("2026-03-04T21:30"), local("2026-03-05T02:30"))
    ]


def test_booking_over_the_spring_dst_change_keeps_its_instants() -> None:
    """Booking times are instants: the grace is 30 real minutes on a DST night."""
    # Vienna skips 02:00-03:00 on 2026-03-29; 01:00 CET to 04:00 CEST is 2 hours.
    desired = rules(
        booking("b-1", local("2026-03-29T01:00"), local("2026-03-29T04:00"))
    )

    [window] = desired.windows
    assert window.start == utc("2026-03-28T23:30")
    assert window.end == utc("2026-03-29T02:30")


def test_booker_and_every_invitee_get_access() -> None:
    """Invitees (attendees) of a room booking get the same access."""
    desired = rules(
        booking(
            "b-1",
            utc("2026-03-04T12:00"),
            utc("2026-03-04T13:00"),
            attendees=(BEN, CLEO),
        )
    )

    assert sorted((w.email, w.person) for w in desired.windows) == [
        ("ann.lee@example.org", "Ann Lee"),
        ("ben.okafor@example.org", "Ben Okafor"),
        ("cleo.martin@example.org", "Cleo Martin"),
    ]


def test_mixed_case_e_mails_are_one_member() -> None:
    """E-mails compare trimmed and case-insensitively; windows then merge."""
    shouting_ann = Person("user-ann", "  Ann.Lee@EXAMPLE.org ", "Ann", "Lee")
    desired = rules(
        booking("b-1", utc("2026-03-04T09:00"), utc("2026-03-04T10:00")),
        booking(
            "b-2",
            utc("2026-03-04T10:00"),
            utc("2026-03-04T11:00"),
            owner=shouting_ann,
        ),
    )

    assert spans(desired) == [
        (
            "ann.lee@example.org",
            ROOMS.id,
            "2026-03-04T08:30:00+00:00",
            "2026-03-04T11:30:00+00:00",
        )
    ]


def test_invitee_listed_twice_or_as_booker_counts_once() -> None:
    """A person appearing several times in one booking gets one window."""
    desired = rules(
        booking(
            "b-1",
            utc("2026-03-04T12:00"),
            utc("2026-03-04T13:00"),
            attendees=(ANN, BEN, BEN),
        )
    )

    assert sorted(w.email for w in desired.windows) == [
        "ann.lee@example.org",
        "ben.okafor@example.org",
    ]


def test_duplicate_booking_records_give_one_window_and_one_reason() -> None:
    """The same booking fetched twice (e.g. by two status filters) counts once."""
    twice = booking("b-1", utc("2026-03-04T12:00"), utc("2026-03-04T13:00"))

    desired = rules(twice, twice)

    [window] = desired.windows
    assert window.reasons == (AccessReason(SourceKind.BOOKING, "b-1", "Room 3"),)


def test_overlapping_and_touching_bookings_merge_keeping_every_reason() -> None:
    """Back-to-back bookings become one window; a gap keeps them apart."""
    desired = rules(
        booking("b-1", utc("2026-03-04T09:00"), utc("2026-03-04T10:00")),
        booking("b-2", utc("2026-03-04T11:00"), utc("2026-03-04T12:00")),
        booking("b-3", utc("2026-03-04T14:00"), utc("2026-03-04T15:00")),
    )

    assert [
        (w.start.hour, w.start.minute, w.end.hour if w.end else None, len(w.reasons))
        for w in desired.windows
    ] == [(8, 30, 12, 2), (13, 30, 15, 1)]
    assert [r.source_id for r in desired.windows[0].reasons] == ["b-1", "b-2"]


@pytest.mark.parametrize(
    "cancelled",
    [
        booking(
            "b-1",
            utc("2026-03-04T12:00"),
            utc("2026-03-04T13:00"),
            deleted=utc("2026-03-01T08:00"),
        ),
        booking(
            "b-1",
            utc("2026-03-04T12:00"),
            utc("2026-03-04T13:00"),
            status=BookingStatus.CANCELED,
        ),
    ],
    ids=["delete_date_set", "returned_as_canceled"],
)
def test_cancelled_booking_grants_nothing(cancelled: Booking) -> None:
    """Cancelled bookings grant nothing and are not reported as problems."""
    desired = rules(cancelled)

    assert desired.windows == ()
    assert desired.skipped == ()


def test_tentative_booking_grants_only_when_the_operator_opts_in() -> None:
    """Tentative bookings are left out unless the entry includes them."""
    tentative = booking(
        "b-1",
        utc("2026-03-04T12:00"),
        utc("2026-03-04T13:00"),
        status=BookingStatus.TENTATIVE,
    )

    assert rules(tentative).windows == ()
    assert (
        len(rules(tentative, settings=RuleSettings(include_tentative=True)).windows)
        == 1
    )


def test_booking_that_ended_before_now_is_left_out() -> None:
    """Only access that still lies ahead (or is running) matters."""
    desired = rules(
        booking("b-old", utc("2026-03-01T12:00"), utc("2026-03-01T13:00")),
        booking("b-running", utc("2026-03-02T05:00"), utc("2026-03-02T07:00")),
    )

    assert [w.reasons[0].source_id for w in desired.windows] == ["b-running"]


def test_person_without_e_mail_is_reported_and_others_still_get_access() -> None:
    """A missing e-mail skips that person only, with the user id as detail."""
    no_mail = Person("user-x", None, "Xavier", None)
    desired = rules(
        booking(
            "b-1",
            utc("2026-03-04T12:00"),
            utc("2026-03-04T13:00"),
            attendees=(no_mail,),
        )
    )

    assert [w.email for w in desired.windows] == ["ann.lee@example.org"]
    assert desired.skipped == (
        SkippedRecord("booking", "b-1", SkipReason.NO_EMAIL, "user-x"),
    )


def test_booking_without_anyone_is_reported() -> None:
    """A booking naming neither booker nor invitee grants nothing, with a reason."""
    desired = rules(
        booking("b-1", utc("2026-03-04T12:00"), utc("2026-03-04T13:00"), owner=None)
    )

    assert desired.skipped == (SkippedRecord("booking", "b-1", SkipReason.NO_PERSON),)


def test_booking_ending_before_it_starts_is_reported() -> None:
    """Inconsistent times grant nothing and are reported."""
    desired = rules(booking("b-1", utc("2026-03-04T13:00"), utc("2026-03-04T12:00")))

    assert desired.windows == ()
    assert desired.skipped == (
        SkippedRecord("booking", "b-1", SkipReason.END_BEFORE_START),
    )


def test_resource_without_access_group_grants_nothing_quietly() -> None:
    """A desk nobody mapped to a Tapkey group is normal, not a problem."""
    desired = rules(
        booking(
            "b-1", utc("2026-03-04T12:00"), utc("2026-03-04T13:00"), resource=DESK_12
        )
    )

    assert desired.windows == ()
    assert desired.skipped == ()
