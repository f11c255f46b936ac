"""Subscriptions grant their item's access group for the whole period."""

from __future__ import annotations

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
    Company,
    Location,
    Resource,
    SkippedRecord,
    SpacebringSnapshot,
    Subscription,
    SubscriptionStatus,
)

from .records import (
    ANN,
    BEN,
    CLEO,
    DAN,
    FRONT,
    GROUPS,
    OFFICE_PLAN,
    OFFICES,
    ROOM_3,
    ROOMS,
    booking,
    company_subscription,
    item,
    local,
    membership,
    snapshot,
    user_subscription,
    utc,
)

NOW = utc("2026-03-02T06:00")
ACME = Company("company-acme", "Acme Robotics")
OFFICE_5 = Resource("office-5", "Office 5", "office", "tapkey-offices")


def rules(
    source: SpacebringSnapshot, settings: RuleSettings | None = None
) -> DesiredAccess:
    return desired_access(source, GROUPS, settings or RuleSettings(), now=NOW)


def only(subscription: Subscription) -> DesiredAccess:
    return rules(snapshot(subscriptions=(subscription,)))


def test_access_starts_at_local_midnight_of_the_start_date() -> None:
    """Starting 2026-03-29 in Vienna means access from 2026-03-28T23:00Z."""
    desired = only(user_subscription("s-1", utc("2026-03-29T09:15")))

    [window] = desired.windows
    assert window.start == utc("2026-03-28T23:00")
    assert window.end is None
    assert (window.email, window.group_id) == ("ann.lee@example.org", FRONT.id)
    assert window.reasons == (
        AccessReason(SourceKind.SUBSCRIPTION, "s-1", "Flex desk"),
    )


def test_access_lasts_until_the_end() -> None:
    """A subscription with an end date (or cancellation date) ends there."""
    desired = only(
        user_subscription("s-1", utc("2026-03-01T10:00"), utc("2026-03-31T22:00"))
    )

    [window] = desired.windows
    assert (window.start, window.end) == (
        utc("2026-02-28T23:00"),
        utc("2026-03-31T22:00"),
    )


@pytest.mark.parametrize(
    ("start", "zone", "first_instant"),
    [
        # Autumn: midnight is still summer time (UTC+2).
        ("2026-10-25T12:00", "Europe/Vienna", "2026-10-24T22:00"),
        # Spring: midnight is still winter time (UTC+1).
        ("2026-03-29T12:00", "Europe/Vienna", "2026-03-28T23:00"),
        # Chile skips 00:00-01:00 on 2026-09-06: the day begins at 01:00 (UTC-3).
        ("2026-09-06T15:00", "America/Santiago", "2026-09-06T04:00"),
        ("2026-06-10T03:00", "Asia/Tokyo", "2026-06-09T15:00"),
    ],
)
def test_local_midnight_on_dst_days_and_far_zones(
    start: str, zone: str, first_instant: str
) -> None:
    """The day starts at its first real instant in the subscription's zone."""
    desired = only(user_subscription("s-1", utc(start), timezone=zone))

    assert desired.windows[0].start == utc(first_instant)


def test_time_zone_falls_back_to_location_then_default() -> None:
    """Subscription zone first, else the location's, else the entry default."""
    start = utc("2026-03-10T12:00")
    no_zone = Location("loc-2", "Somewhere", None)
    settings = RuleSettings(default_timezone="America/New_York")

    own = only(user_subscription("s-1", start, timezone="Asia/Tokyo"))
    location = only(user_subscription("s-1", start))
    default = rules(
        snapshot(subscriptions=(user_subscription("s-1", start),), location=no_zone),
        settings,
    )

    assert own.windows[0].start == utc("2026-03-09T15:00")
    assert location.windows[0].start == utc("2026-03-09T23:00")
    assert default.windows[0].start == utc("2026-03-10T04:00")


def test_unknown_time_zone_is_reported() -> None:
    """A zone name zoneinfo does not know grants nothing, with a reason."""
    desired = only(
        user_subscription("s-1", utc("2026-03-10T12:00"), timezone="Mars/Olympus")
    )

    assert desired.windows == ()
    assert desired.skipped == (
        SkippedRecord(
            "subscription", "s-1", SkipReason.UNKNOWN_TIME_ZONE, "Mars/Olympus"
        ),
    )


@pytest.mark.parametrize(
    ("status", "grants"),
    [
        (SubscriptionStatus.ACTIVE, True),
        (SubscriptionStatus.SCHEDULED, True),
        (SubscriptionStatus.INCOMPLETE, False),
        (SubscriptionStatus.INCOMPLETE_EXPIRED, False),
        (SubscriptionStatus.CANCELED, False),
    ],
)
def test_only_active_and_scheduled_subscriptions_grant(
    status: SubscriptionStatus, grants: bool
) -> None:
    """Payment-incomplete and cancelled subscriptions grant nothing."""
    desired = only(user_subscription("s-1", utc("2026-03-10T12:00"), status=status))

    assert bool(desired.windows) is grants
    assert desired.skipped == ()


def test_deleted_subscription_grants_nothing() -> None:
    """A subscription with a delete date is gone."""
    desired = only(
        user_subscription(
            "s-1", utc("2026-03-10T12:00"), deleted=utc("2026-03-01T12:00")
        )
    )

    assert desired.windows == ()


def test_ended_subscription_is_left_out() -> None:
    """Access that ended before now is not desired any more."""
    desired = only(
        user_subscription("s-1", utc("2026-01-01T12:00"), utc("2026-03-01T12:00"))
    )

    assert desired.windows == ()


def test_item_group_overrides_the_plan_group() -> None:
    """An item's own tapkeyGroupRef wins over its plan's."""
    desired = only(
        user_subscription(
            "s-1",
            utc("2026-03-10T12:00"),
            items=(item(tapkey_group_ref="tapkey-offices"),),
        )
    )

    assert [w.group_id for w in desired.windows] == [OFFICES.id]


def test_item_dates_narrow_the_subscription_period() -> None:
    """An item starting later and ending earlier grants only its own dates."""
    desired = only(
        user_subscription(
            "s-1",
            utc("2026-03-01T12:00"),
            utc("2026-06-30T22:00"),
            items=(item(start=utc("2026-04-15T08:00"), end=utc("2026-05-31T22:00")),),
        )
    )

    [window] = desired.windows
    assert (window.start, window.end) == (
        local("2026-04-15T00:00"),
        utc("2026-05-31T22:00"),
    )


def test_item_dates_never_widen_the_subscription_period() -> None:
    """Item dates outside the subscription are cut to the subscription."""
    desired = only(
        user_subscription(
            "s-1",
            utc("2026-03-10T12:00"),
            utc("2026-04-30T22:00"),
            items=(item(start=utc("2026-01-01T08:00"), end=utc("2026-12-31T22:00")),),
        )
    )

    [window] = desired.windows
    assert (window.start, window.end) == (
        local("2026-03-10T00:00"),
        utc("2026-04-30T22:00"),
    )


def test_item_entirely_outside_the_subscription_grants_nothing() -> None:
    """An item that ends before the subscription starts adds nothing."""
    desired = only(
        user_subscription(
            "s-1",
            utc("2026-03-10T12:00"),
            items=(item(start=utc("2026-01-01T08:00"), end=utc("2026-02-01T08:00")),),
        )
    )

    assert desired.windows == ()


def test_company_subscription_grants_every_approved_member() -> None:
    """A company of three approved members gives three members access."""
    desired = rules(
        snapshot(
            subscriptions=(
                company_subscription("s-acme", ACME, utc("2026-03-01T09:00")),
            ),
            companies=(ACME,),
            memberships=(
                membership(ANN, ACME),
                membership(BEN, ACME),
                membership(CLEO, ACME),
                membership(DAN, None),
            ),
        )
    )

    assert sorted((w.email, w.group_id) for w in desired.windows) == [
        ("ann.lee@example.org", OFFICES.id),
        ("ben.okafor@example.org", OFFICES.id),
        ("cleo.martin@example.org", OFFICES.id),
    ]


def test_company_members_not_approved_or_deleted_do_not_count() -> None:
    """Only approved memberships without a delete date share the company's access."""
    desired = rules(
        snapshot(
            subscriptions=(
                company_subscription("s-acme", ACME, utc("2026-03-01T09:00")),
            ),
            companies=(ACME,),
            memberships=(
                membership(ANN, ACME),
                membership(BEN, ACME, approved=False),
                membership(CLEO, ACME, deleted=utc("2026-02-01T00:00")),
            ),
        )
    )

    assert [w.email for w in desired.windows] == ["ann.lee@example.org"]


@pytest.mark.parametrize(
    "companies",
    [(), (Company(ACME.id, ACME.title, deleted=utc("2026-02-01T00:00")),)],
    ids=["missing", "deleted"],
)
def test_subscription_of_unknown_company_is_reported(
    companies: tuple[Company, ...],
) -> None:
    """A company subscription whose company is gone grants nothing."""
    desired = rules(
        snapshot(
            subscriptions=(
                company_subscription("s-acme", ACME, utc("2026-03-01T09:00")),
            ),
            companies=companies,
            memberships=(membership(ANN, ACME),),
        )
    )

    assert desired.windows == ()
    assert desired.skipped == (
        SkippedRecord("subscription", "s-acme", SkipReason.UNKNOWN_COMPANY, ACME.id),
    )


def test_user_subscription_without_user_is_reported() -> None:
    """A subscription naming nobody grants nothing, with a reason."""
    desired = only(user_subscription("s-1", utc("2026-03-10T12:00"), user=None))

    assert desired.skipped == (
        SkippedRecord("subscription", "s-1", SkipReason.NO_PERSON),
    )


def test_subscription_ending_before_it_starts_is_reported() -> None:
    """Inconsistent dates grant nothing and are reported."""
    desired = only(
        user_subscription("s-1", utc("2026-03-10T12:00"), utc("2026-03-09T12:00"))
    )

    assert desired.skipped == (
        SkippedRecord("subscription", "s-1", SkipReason.END_BEFORE_START),
    )


def test_member_with_subscription_and_bookings() -> None:
    """Bookings in the subscription's group merge into it; others stay apart."""
    desired = rules(
        snapshot(
            subscriptions=(
                user_subscription(
                    "s-1",
                    utc("2026-03-01T09:00"),
                    items=(item(plan=OFFICE_PLAN),),
                ),
            ),
            bookings=(
                booking("b-1", utc("2026-03-04T12:00"), utc("2026-03-04T13:00")),
                booking(
                    "b-2",
                    utc("2026-03-05T12:00"),
                    utc("2026-03-05T13:00"),
                    resource=OFFICE_5,
                ),
            ),
            resources=(ROOM_3, OFFICE_5),
        )
    )

    by_group = {w.group_id: w for w in desired.windows}
    assert set(by_group) == {OFFICES.id, ROOMS.id}
    assert [r.source_id for r in by_group[OFFICES.id].reasons] == ["s-1", "b-2"]
    assert by_group[OFFICES.id].end is None
    assert by_group[ROOMS.id].start == utc("2026-03-04T11:30")
