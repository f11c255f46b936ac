"""The planner turns desired windows into the fewest safe Tapkey changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from custom_components.spacebring_tapkey.access.ical import weekly_schedule_ical
from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    AccessReason,
    AccessWindow,
    CreateGrant,
    CreateReason,
    EnsureContact,
    PlanResult,
    RevokeGrant,
    RevokeReason,
    SourceKind,
)
from custom_components.spacebring_tapkey.access.planner import plan

from .records import (
    FRONT,
    FRONT_DOOR,
    OFFICE_HOURS,
    OFFICE_WING,
    OFFICES,
    ROOM_3_DOOR,
    ROOMS,
    utc,
)
from .simulated_tapkey import SimulatedTapkey

NOW = utc("2026-03-02T06:00")
HORIZON = timedelta(days=14)
GROUPS = (FRONT, ROOMS, OFFICES)
ANN = "ann.lee@example.org"


def window(
    start: datetime,
    end: datetime | None,
    *,
    group: AccessGroup = ROOMS,
    email: str = ANN,
    source: str = "b-1",
) -> AccessWindow:
    kind = SourceKind.BOOKING if source.startswith("b") else SourceKind.SUBSCRIPTION
    return AccessWindow(
        email, group.id, start, end, "Ann Lee", (AccessReason(kind, source, "Room 3"),)
    )


def spans(result: PlanResult) -> list[tuple[str, str, str, CreateReason]]:
    """Creates as (target, valid from, valid before, reason)."""
    return [
        (
            create.target.id,
            create.valid_from.isoformat(),
            create.valid_before.isoformat(),
            create.reason,
        )
        for create in result.creates
    ]


def granted(
    tapkey: SimulatedTapkey,
    windows: list[AccessWindow],
    *,
    now: datetime = NOW,
    groups: tuple[AccessGroup, ...] = GROUPS,
) -> PlanResult:
    """Plan and carry the plan out."""
    result = tapkey.plan(windows, groups, now=now, horizon=HORIZON)
    tapkey.apply(result, now)
    return result


def test_new_booking_gets_a_contact_and_one_grant_per_lock() -> None:
    """Access is realised as validFrom/validBefore grants on every target."""
    booked = window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))

    result = plan([booked], GROUPS, [], now=NOW, horizon=HORIZON)

    assert result.contacts == (EnsureContact(ANN, "Ann Lee"),)
    assert spans(result) == [
        (
            FRONT_DOOR.id,
            "2026-03-04T11:30:00+00:00",
            "2026-03-04T16:30:00+00:00",
            "new",
        ),
        (
            ROOM_3_DOOR.id,
            "2026-03-04T11:30:00+00:00",
            "2026-03-04T16:30:00+00:00",
            "new",
        ),
    ]
    assert all(create.contact_id is None for create in result.creates)
    assert result.creates[0].group_ids == (ROOMS.id,)
    assert result.creates[0].reasons == booked.reasons
    assert result.revokes == ()
    assert result.next_replan_at is None


def test_known_contact_is_used_without_ensuring_it() -> None:
    """A contact id from Tapkey or from the ledger goes straight into the grant."""
    booked = window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))

    result = plan(
        [booked], GROUPS, [], now=NOW, horizon=HORIZON, contacts={ANN: "contact-7"}
    )

    assert result.contacts == ()
    assert {create.contact_id for create in result.creates} == {"contact-7"}


def test_contact_known_from_the_ledger_is_reused() -> None:
    """A member granted before needs no new contact for new access."""
    tapkey = SimulatedTapkey()
    first = [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))]
    granted(tapkey, first)
    contact_id = tapkey.contacts[ANN]

    result = plan(
        [*first, window(utc("2026-03-05T11:30"), utc("2026-03-05T16:30"))],
        GROUPS,
        tapkey.ledger.values(),
        now=NOW,
        horizon=HORIZON,
    )

    assert result.contacts == ()
    assert {create.contact_id for create in result.creates} == {contact_id}


def test_actions_run_contacts_then_creates_then_revokes() -> None:
    """A replacement grant exists before the grant it replaces is revoked."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])
    moved = window(utc("2026-03-04T13:30"), utc("2026-03-04T18:30"))
    other = window(utc("2026-03-05T08:00"), utc("2026-03-05T09:00"), email="b@x.org")

    result = tapkey.plan([moved, other], GROUPS, now=NOW, horizon=HORIZON)

    kinds = [type(action) for action in result.actions]
    assert kinds == [EnsureContact] + [CreateGrant] * 4 + [RevokeGrant] * 2


def test_nothing_changed_means_no_action() -> None:
    """A re-plan of the same access, later on, leaves Tapkey alone."""
    tapkey = SimulatedTapkey()
    windows = [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))]
    granted(tapkey, windows)

    result = tapkey.plan(windows, GROUPS, now=NOW + timedelta(hours=3), horizon=HORIZON)

    assert result.actions == ()
    assert result.forget == ()


def test_extended_booking_adds_a_grant_for_the_extra_time_only() -> None:
    """The kept grant still lies inside the window: extend, never revoke."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])

    result = granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T18:30"))])

    assert spans(result) == [
        (
            FRONT_DOOR.id,
            "2026-03-04T16:30:00+00:00",
            "2026-03-04T18:30:00+00:00",
            "extension",
        ),
        (
            ROOM_3_DOOR.id,
            "2026-03-04T16:30:00+00:00",
            "2026-03-04T18:30:00+00:00",
            "extension",
        ),
    ]
    assert result.revokes == ()


def test_earlier_start_adds_a_grant_before_the_kept_one() -> None:
    """A booking that now starts earlier gets the missing head granted."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])

    result = granted(tapkey, [window(utc("2026-03-04T09:30"), utc("2026-03-04T16:30"))])

    assert [(s[1], s[2], s[3]) for s in spans(result)] == [
        ("2026-03-04T09:30:00+00:00", "2026-03-04T11:30:00+00:00", "new")
    ] * 2
    assert result.revokes == ()


@pytest.mark.parametrize(
    ("new_start", "new_end"),
    [
        ("2026-03-04T13:30", "2026-03-04T18:30"),
        ("2026-03-04T11:30", "2026-03-04T14:30"),
    ],
    ids=["moved", "shortened"],
)
def test_grant_reaching_outside_the_window_is_replaced_then_revoked(
    new_start: str, new_end: str
) -> None:
    """A grant that would open the door outside the window is revoked."""
    tapkey = SimulatedTapkey()
    first = granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])

    result = granted(tapkey, [window(utc(new_start), utc(new_end))])

    assert [(s[1], s[2], s[3]) for s in spans(result)] == [
        (utc(new_start).isoformat(), utc(new_end).isoformat(), "replacement")
    ] * 2
    assert [(r.entry.target_id, r.reason) for r in result.revokes] == [
        (FRONT_DOOR.id, RevokeReason.SHORTENED),
        (ROOM_3_DOOR.id, RevokeReason.SHORTENED),
    ]
    assert {r.entry.valid_from for r in result.revokes} == {
        create.valid_from for create in first.creates
    }


def test_cancelled_booking_is_revoked_without_replacement() -> None:
    """Access nobody desires any more ends at once."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])

    result = granted(tapkey, [])

    assert result.creates == ()
    assert [r.reason for r in result.revokes] == [RevokeReason.NOT_DESIRED] * 2


def test_running_booking_cancelled_midway_is_revoked() -> None:
    """A grant that already started is revoked when the rest is not desired."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-02T05:30"), utc("2026-03-02T10:30"))])

    result = granted(tapkey, [], now=NOW + timedelta(hours=1))

    assert len(result.revokes) == 2


def test_ended_grant_is_forgotten_not_revoked() -> None:
    """A grant past its validBefore needs no revocation (locks enforce it)."""
    tapkey = SimulatedTapkey()
    booked = [window(utc("2026-03-02T07:30"), utc("2026-03-02T09:30"))]
    granted(tapkey, booked)

    result = granted(tapkey, booked, now=utc("2026-03-02T10:00"))

    assert result.actions == ()
    assert len(result.forget) == 2
    assert tapkey.ledger == {}


def test_open_ended_access_is_granted_up_to_the_horizon() -> None:
    """A subscription without end gets a grant until now + horizon."""
    subscribed = window(utc("2026-01-01T00:00"), None, group=FRONT, source="s-1")

    result = plan([subscribed], GROUPS, [], now=NOW, horizon=HORIZON)

    assert spans(result) == [
        (FRONT_DOOR.id, NOW.isoformat(), (NOW + HORIZON).isoformat(), "new")
    ]
    assert result.next_replan_at == NOW + HORIZON / 2


def test_horizon_grant_is_renewed_when_half_the_horizon_is_left() -> None:
    """Before half the horizon nothing happens; then a follow-up grant starts."""
    tapkey = SimulatedTapkey()
    subscribed = [window(utc("2026-01-01T00:00"), None, group=FRONT, source="s-1")]
    first = granted(tapkey, subscribed)
    assert first.next_replan_at is not None

    early = tapkey.plan(
        subscribed,
        GROUPS,
        now=first.next_replan_at - timedelta(minutes=1),
        horizon=HORIZON,
    )
    renewal = granted(tapkey, subscribed, now=first.next_replan_at)

    assert early.actions == ()
    assert spans(renewal) == [
        (
            FRONT_DOOR.id,
            (NOW + HORIZON).isoformat(),
            (first.next_replan_at + HORIZON).isoformat(),
            "extension",
        )
    ]


def test_access_beyond_the_horizon_waits_and_says_when() -> None:
    """A booking weeks ahead gets no grant yet; the plan says when to look again."""
    later = window(utc("2026-03-25T08:00"), utc("2026-03-25T12:00"))

    result = plan([later], GROUPS, [], now=NOW, horizon=HORIZON)

    assert result.actions == ()
    assert result.next_replan_at == utc("2026-03-18T08:00")


def test_subscription_ending_after_the_horizon_gets_its_exact_end_later() -> None:
    """The follow-up grant ends with the subscription, not at the horizon."""
    tapkey = SimulatedTapkey()
    subscribed = [
        window(
            utc("2026-01-01T00:00"), utc("2026-03-20T00:00"), group=FRONT, source="s-1"
        )
    ]
    granted(tapkey, subscribed)

    follow_up = granted(tapkey, subscribed, now=utc("2026-03-09T06:00"))

    assert spans(follow_up) == [
        (
            FRONT_DOOR.id,
            (NOW + HORIZON).isoformat(),
            "2026-03-20T00:00:00+00:00",
            "extension",
        )
    ]


def test_cancelled_subscription_shortens_the_horizon_grant() -> None:
    """Access ending before the grant does: a shorter grant replaces it."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-01-01T00:00"), None, group=FRONT, source="s-1")])
    ended = [
        window(
            utc("2026-01-01T00:00"), utc("2026-03-05T00:00"), group=FRONT, source="s-1"
        )
    ]

    result = granted(tapkey, ended, now=NOW + timedelta(hours=1))

    assert spans(result) == [
        (
            FRONT_DOOR.id,
            (NOW + timedelta(hours=1)).isoformat(),
            "2026-03-05T00:00:00+00:00",
            "replacement",
        )
    ]
    assert [r.reason for r in result.revokes] == [RevokeReason.SHORTENED]


@pytest.mark.parametrize("loss", ["revoke_in_portal", "delete_in_portal"])
def test_managed_grant_lost_in_tapkey_is_recreated(loss: str) -> None:
    """A managed grant revoked or deleted elsewhere is forgotten and made again."""
    tapkey = SimulatedTapkey()
    windows = [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))]
    first = granted(tapkey, windows)
    lost = next(iter(tapkey.ledger.values()))
    getattr(tapkey, loss)(lost.grant_id)

    result = granted(tapkey, windows)

    assert result.forget == (lost,)
    assert [(c.target.id, c.reason) for c in result.creates] == [
        (lost.target_id, CreateReason.RESTORE)
    ]
    assert result.revokes == ()
    assert len(first.creates) == 2


def test_without_tapkey_state_the_ledger_is_trusted() -> None:
    """tapkey_grants=None plans from the ledger alone."""
    tapkey = SimulatedTapkey()
    windows = [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))]
    granted(tapkey, windows)

    result = plan(windows, GROUPS, tapkey.ledger.values(), now=NOW, horizon=HORIZON)

    assert result.actions == ()
    assert result.forget == ()


def test_unmanaged_grants_are_never_touched_nor_relied_on() -> None:
    """A portal grant identical to the desired one stays; ours is made anyway."""
    tapkey = SimulatedTapkey()
    portal = tapkey.add_unmanaged(
        ANN, FRONT_DOOR.id, utc("2026-03-04T11:30"), utc("2026-03-04T16:30")
    )
    stray = tapkey.add_unmanaged(ANN, ROOM_3_DOOR.id, None, None)

    first = granted(tapkey, [window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))])
    cancelled = granted(tapkey, [])

    assert len(first.creates) == 2
    assert {r.entry.grant_id for r in cancelled.revokes}.isdisjoint(
        {portal.id, stray.id}
    )
    assert tapkey.grants[portal.id] == portal
    assert tapkey.grants[stray.id] == stray


def test_lock_shared_by_groups_gets_one_grant_per_stretch() -> None:
    """Subscription and booking both open the front door: one front-door grant."""
    subscribed = window(utc("2026-03-01T00:00"), None, group=FRONT, source="s-1")
    booked = window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))

    result = plan([subscribed, booked], GROUPS, [], now=NOW, horizon=HORIZON)

    assert sorted(c.target.id for c in result.creates) == [
        FRONT_DOOR.id,
        ROOM_3_DOOR.id,
    ]
    front = next(c for c in result.creates if c.target == FRONT_DOOR)
    assert front.group_ids == (FRONT.id, ROOMS.id)
    assert {r.source_id for r in front.reasons} == {"s-1", "b-1"}


def test_cancelling_a_booking_inside_a_subscription_keeps_the_front_door() -> None:
    """Only the room lock is revoked: the subscription still covers the door."""
    tapkey = SimulatedTapkey()
    subscribed = window(utc("2026-03-01T00:00"), None, group=FRONT, source="s-1")
    booked = window(utc("2026-03-04T11:30"), utc("2026-03-04T16:30"))
    granted(tapkey, [subscribed, booked])

    result = granted(tapkey, [subscribed])

    assert result.creates == ()
    assert [r.entry.target_id for r in result.revokes] == [ROOM_3_DOOR.id]


def test_schedule_restricts_every_grant_of_its_group() -> None:
    """A group's weekly schedule becomes the grants' timeRestrictionIcal."""
    tiered = replace(OFFICES, schedule=OFFICE_HOURS)

    result = plan(
        [window(utc("2026-03-01T00:00"), None, group=tiered, source="s-1")],
        (tiered,),
        [],
        now=NOW,
        horizon=HORIZON,
    )

    assert {c.ical for c in result.creates} == {weekly_schedule_ical(OFFICE_HOURS)}


def test_changed_schedule_replaces_the_grants() -> None:
    """Grants with the old restriction are revoked once the new ones exist."""
    tapkey = SimulatedTapkey()
    subscribed = window(utc("2026-03-01T00:00"), None, group=OFFICES, source="s-1")
    granted(tapkey, [subscribed])
    tiered = replace(OFFICES, schedule=OFFICE_HOURS)

    result = granted(tapkey, [subscribed], groups=(FRONT, ROOMS, tiered))

    assert len(result.creates) == 2
    assert [r.reason for r in result.revokes] == [RevokeReason.NOT_DESIRED] * 2


def test_lock_removed_from_a_group_is_revoked_there_only() -> None:
    """Dropping a target from a group revokes that target's grants."""
    tapkey = SimulatedTapkey()
    subscribed = window(utc("2026-03-01T00:00"), None, group=OFFICES, source="s-1")
    granted(tapkey, [subscribed])
    front_only = replace(OFFICES, targets=(FRONT_DOOR,))

    result = granted(tapkey, [subscribed], groups=(FRONT, ROOMS, front_only))

    assert result.creates == ()
    assert [r.entry.target_id for r in result.revokes] == [OFFICE_WING.id]


def test_removed_group_revokes_its_grants() -> None:
    """Windows of a group the operator deleted are ignored; grants go."""
    tapkey = SimulatedTapkey()
    subscribed = window(utc("2026-03-01T00:00"), None, group=OFFICES, source="s-1")
    granted(tapkey, [subscribed])

    result = granted(tapkey, [subscribed], groups=(FRONT, ROOMS))

    assert len(result.revokes) == 2
    assert result.creates == ()


def test_creates_are_ordered_by_start() -> None:
    """The soonest access is granted first if a sync is cut short."""
    windows = [
        window(utc("2026-03-06T08:00"), utc("2026-03-06T09:00")),
        window(utc("2026-03-03T08:00"), utc("2026-03-03T09:00"), email="b@x.org"),
    ]

    result = plan(windows, GROUPS, [], now=NOW, horizon=HORIZON)

    starts = [create.valid_from for create in result.creates]
    assert starts == sorted(starts)
    assert starts[0] == utc("2026-03-03T08:00")


def test_horizon_under_an_hour_is_refused() -> None:
    """A tiny horizon would make the planner renew constantly."""
    with pytest.raises(ValueError, match="horizon"):
        plan([], GROUPS, [], now=NOW, horizon=timedelta(minutes=59))


def test_postponed_subscription_start_replaces_the_early_grant() -> None:
    """A grant starting before the (moved) start would open the door too early."""
    tapkey = SimulatedTapkey()
    granted(tapkey, [window(utc("2026-03-03T00:00"), None, group=FRONT, source="s-1")])
    postponed = [window(utc("2026-03-04T00:00"), None, group=FRONT, source="s-1")]

    result = granted(tapkey, postponed)

    assert spans(result) == [
        (
            FRONT_DOOR.id,
            "2026-03-04T00:00:00+00:00",
            (NOW + HORIZON).isoformat(),
            "replacement",
        )
    ]
    assert [r.reason for r in result.revokes] == [RevokeReason.SHORTENED]


def test_touching_windows_of_groups_sharing_a_lock_give_one_grant() -> None:
    """Access from two groups that meet end to start is one stretch on a shared lock."""
    morning = window(utc("2026-03-04T08:00"), utc("2026-03-04T12:00"), group=FRONT)
    afternoon = window(utc("2026-03-04T12:00"), utc("2026-03-04T17:00"), source="b-2")

    result = plan([morning, afternoon], GROUPS, [], now=NOW, horizon=HORIZON)

    front = [c for c in result.creates if c.target == FRONT_DOOR]
    assert [(c.valid_from, c.valid_before) for c in front] == [
        (utc("2026-03-04T08:00"), utc("2026-03-04T17:00"))
    ]
