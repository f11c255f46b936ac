"""Records map to access groups by Spacebring group refs and operator mappings."""

from __future__ import annotations

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    AccessReason,
    AdHocGrant,
    DesiredAccess,
    RuleSettings,
    SkipReason,
    SourceKind,
)
from custom_components.spacebring_tapkey.access.rules import desired_access
from custom_components.spacebring_tapkey.api.models import (
    Resource,
    SkippedRecord,
    SpacebringSnapshot,
)

from .records import (
    ANN,
    DESK_12,
    FLEX_PLAN,
    FRONT,
    FRONT_DOOR,
    GROUPS,
    OFFICE_PLAN,
    OFFICES,
    PARKING_1,
    ROOMS,
    booking,
    item,
    membership,
    snapshot,
    user_subscription,
    utc,
)

NOW = utc("2026-03-02T06:00")

DESKS = AccessGroup(
    id="group-desks",
    name="Desks and parking",
    targets=(FRONT_DOOR,),
    plan_ids=frozenset({OFFICE_PLAN.id}),
    resource_ids=frozenset({DESK_12.id}),
    resource_types=frozenset({"parking"}),
)


def rules(
    source: SpacebringSnapshot,
    groups: tuple[AccessGroup, ...] = (*GROUPS, DESKS),
    adhoc: tuple[AdHocGrant, ...] = (),
) -> DesiredAccess:
    return desired_access(source, groups, RuleSettings(), adhoc, now=NOW)


def test_operator_maps_a_resource_without_spacebring_group() -> None:
    """A desk with no tapkeyGroupRef grants the group the operator mapped it to."""
    desired = rules(
        snapshot(
            bookings=(
                booking(
                    "b-1",
                    utc("2026-03-04T09:00"),
                    utc("2026-03-04T17:00"),
                    resource=DESK_12,
                ),
            )
        )
    )

    assert [w.group_id for w in desired.windows] == [DESKS.id]


def test_operator_maps_a_resource_type() -> None:
    """Every parking booking grants the group mapped to the type `parking`."""
    desired = rules(
        snapshot(
            bookings=(
                booking(
                    "b-1",
                    utc("2026-03-04T09:00"),
                    utc("2026-03-04T17:00"),
                    resource=PARKING_1,
                ),
            )
        )
    )

    assert [w.group_id for w in desired.windows] == [DESKS.id]


def test_operator_mapping_adds_to_spacebring_group() -> None:
    """A plan with a Spacebring group and an operator mapping grants both."""
    desired = rules(
        snapshot(
            subscriptions=(
                user_subscription(
                    "s-1", utc("2026-03-01T09:00"), items=(item(plan=OFFICE_PLAN),)
                ),
            )
        )
    )

    assert sorted(w.group_id for w in desired.windows) == sorted([OFFICES.id, DESKS.id])


def test_subscription_item_of_a_rented_resource_uses_its_group() -> None:
    """An item renting a resource (no plan group) falls back to the resource's."""
    desired = rules(
        snapshot(
            subscriptions=(
                user_subscription(
                    "s-1",
                    utc("2026-03-01T09:00"),
                    items=(item(plan=None, resource=DESK_12, title="Desk 12 rental"),),
                ),
            )
        )
    )

    [window] = desired.windows
    assert window.group_id == DESKS.id
    assert window.reasons == (
        AccessReason(SourceKind.SUBSCRIPTION, "s-1", "Desk 12 rental"),
    )


def test_group_ref_no_access_group_claims_is_reported() -> None:
    """An unmapped Spacebring group is skipped and listed for a repair."""
    lounge = Resource("lounge", "Lounge", "room", "tapkey-lounge")
    desired = rules(
        snapshot(
            bookings=(
                booking(
                    "b-1",
                    utc("2026-03-04T09:00"),
                    utc("2026-03-04T10:00"),
                    resource=lounge,
                ),
            ),
            resources=(lounge,),
        )
    )

    assert desired.windows == ()
    assert desired.skipped == (
        SkippedRecord("booking", "b-1", SkipReason.UNMAPPED_GROUP, "tapkey-lounge"),
    )
    assert desired.unmapped_group_refs == frozenset({"tapkey-lounge"})


def test_unmapped_group_is_listed_even_when_a_mapping_grants() -> None:
    """The record grants the operator's group; the unknown ref still needs fixing."""
    parking = Resource("parking-2", "Parking 2", "parking", "tapkey-garage")
    desired = rules(
        snapshot(
            bookings=(
                booking(
                    "b-1",
                    utc("2026-03-04T09:00"),
                    utc("2026-03-04T10:00"),
                    resource=parking,
                ),
            ),
            resources=(parking,),
        )
    )

    assert [w.group_id for w in desired.windows] == [DESKS.id]
    assert desired.skipped == ()
    assert desired.unmapped_group_refs == frozenset({"tapkey-garage"})


def test_booking_of_unknown_resource_is_reported() -> None:
    """A booking of a resource missing from the snapshot grants nothing."""
    desired = rules(
        snapshot(
            bookings=(
                booking("b-1", utc("2026-03-04T09:00"), utc("2026-03-04T10:00")),
            ),
            resources=(),
        )
    )

    assert desired.skipped == (
        SkippedRecord("booking", "b-1", SkipReason.UNKNOWN_RESOURCE, "room-3"),
    )


def test_operator_mapping_by_id_covers_a_resource_missing_from_the_snapshot() -> None:
    """Mapping by resource id works without the resource record."""
    desired = rules(
        snapshot(
            bookings=(
                booking(
                    "b-1",
                    utc("2026-03-04T09:00"),
                    utc("2026-03-04T10:00"),
                    resource=DESK_12,
                ),
            ),
            resources=(),
        )
    )

    assert [w.group_id for w in desired.windows] == [DESKS.id]
    assert desired.skipped == ()


def test_item_of_unknown_plan_is_reported() -> None:
    """An item whose plan is missing (and has no own group) grants nothing."""
    desired = rules(
        snapshot(
            subscriptions=(user_subscription("s-1", utc("2026-03-01T09:00")),),
            plans=(),
        )
    )

    assert desired.skipped == (
        SkippedRecord("subscription", "s-1", SkipReason.UNKNOWN_PLAN, FLEX_PLAN.id),
    )


def test_adhoc_grant_gives_access_to_its_group() -> None:
    """An ad-hoc grant (from the grant action) is a window of its own."""
    grant = AdHocGrant(
        id="adhoc-1",
        email=" Guest@Example.org",
        group_id=ROOMS.id,
        start=utc("2026-03-04T08:00"),
        end=utc("2026-03-04T18:00"),
        note="Plumber",
    )

    desired = rules(snapshot(), adhoc=(grant,))

    [window] = desired.windows
    assert (window.email, window.group_id, window.start, window.end) == (
        "guest@example.org",
        ROOMS.id,
        grant.start,
        grant.end,
    )
    assert window.reasons == (AccessReason(SourceKind.ADHOC, "adhoc-1", "Plumber"),)


def test_adhoc_grant_names_a_known_member() -> None:
    """The window of an ad-hoc grant carries the member's display name."""
    grant = AdHocGrant(
        "adhoc-1",
        "ann.lee@example.org",
        FRONT.id,
        utc("2026-03-04T08:00"),
        utc("2026-03-04T18:00"),
    )
    desired = rules(snapshot(memberships=(membership(ANN, None),)), adhoc=(grant,))

    assert desired.windows[0].person == "Ann Lee"


def test_invalid_adhoc_grants_are_reported() -> None:
    """Unknown group, missing e-mail and inverted times are each reported."""
    start, end = utc("2026-03-04T08:00"), utc("2026-03-04T18:00")
    grants = (
        AdHocGrant("a-1", "ann.lee@example.org", "group-gone", start, end),
        AdHocGrant("a-2", "   ", FRONT.id, start, end),
        AdHocGrant("a-3", "ann.lee@example.org", FRONT.id, end, start),
    )

    desired = rules(snapshot(), adhoc=grants)

    assert desired.windows == ()
    assert desired.skipped == (
        SkippedRecord("adhoc", "a-1", SkipReason.UNKNOWN_GROUP, "group-gone"),
        SkippedRecord("adhoc", "a-2", SkipReason.NO_EMAIL),
        SkippedRecord("adhoc", "a-3", SkipReason.END_BEFORE_START),
    )


def test_records_the_client_skipped_come_first() -> None:
    """The snapshot's own skipped records are passed on."""
    client_skip = SkippedRecord("booking", "b-9", "invalid_record", "bad date")
    source = snapshot()
    source = SpacebringSnapshot(location=source.location, skipped=(client_skip,))

    assert rules(source).skipped == (client_skip,)
