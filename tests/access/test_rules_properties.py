"""Properties of the rules over random bookings (hypothesis)."""

from __future__ import annotations

from datetime import timedelta
import itertools

from hypothesis import given, settings, strategies as st

from custom_components.spacebring_tapkey.access.model import RuleSettings
from custom_components.spacebring_tapkey.access.rules import desired_access
from custom_components.spacebring_tapkey.api.models import Booking, Person

from .records import GROUPS, ROOM_3, booking, snapshot, utc

BASE = utc("2026-03-02T00:00")
STEP = timedelta(minutes=15)
PEOPLE = (
    Person("user-ann", "Ann.Lee@example.org", "Ann", "Lee"),
    Person("user-ann", " ann.lee@EXAMPLE.org", "Ann", "Lee"),
    Person("user-ben", "ben.okafor@example.org", "Ben", "Okafor"),
)
SETTINGS = RuleSettings()


@st.composite
def bookings(draw: st.DrawFn) -> list[Booking]:
    """Up to a dozen bookings of Room 3 by two members, often overlapping."""
    made = []
    for index in range(draw(st.integers(0, 12))):
        start = BASE + STEP * draw(st.integers(0, 300))
        made.append(
            booking(
                f"b-{index}",
                start,
                start + STEP * draw(st.integers(1, 40)),
                draw(st.sampled_from(PEOPLE)),
                attendees=tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=2))),
            )
        )
    return made


@given(bookings(), st.integers(0, 300))
@settings(max_examples=150, deadline=None, database=None)
def test_windows_are_exactly_the_union_of_bookings_with_grace(
    made: list[Booking], now_steps: int
) -> None:
    """Per member: windows are sorted, apart, and cover exactly the bookings."""
    now = BASE + STEP * now_steps
    desired = desired_access(
        snapshot(bookings=tuple(made), resources=(ROOM_3,)), GROUPS, SETTINGS, now=now
    )

    for email in ("ann.lee@example.org", "ben.okafor@example.org"):
        windows = [w for w in desired.windows if w.email == email]
        spans = [
            (b.start - SETTINGS.grace_before, b.end + SETTINGS.grace_after, b.id)
            for b in made
            if email
            in {
                p.email.strip().lower()
                for p in (b.owner, *b.attendees)
                if p and p.email
            }
        ]
        for earlier, later in itertools.pairwise(windows):
            assert earlier.end is not None
            assert earlier.end < later.start
        points = {now} | {p for start, end, _ in spans for p in (start, end)}
        for point in sorted(points):
            for instant in (point, point + STEP / 2):
                if instant < now:
                    continue
                in_windows = any(w.contains(instant) for w in windows)
                in_bookings = any(start <= instant < end for start, end, _ in spans)
                assert in_windows == in_bookings, (email, instant)
        for start, end, booking_id in spans:
            if end <= now:
                continue
            holding = [
                w for w in windows if booking_id in {r.source_id for r in w.reasons}
            ]
            assert len(holding) == 1
            assert holding[0].start <= start
            assert holding[0].end is not None
            assert end <= holding[0].end
