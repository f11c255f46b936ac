"""Builders of realistic Spacebring records and access groups for tests."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    TargetRef,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.api.models import (
    Booking,
    BookingStatus,
    Company,
    CustomerType,
    Location,
    Membership,
    Person,
    Plan,
    Resource,
    SpacebringSnapshot,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)

VIENNA = "Europe/Vienna"
LOCATION = Location("0b8f3c1e-location", "Coworking Wien Mitte", VIENNA)

ANN = Person("user-ann", "ann.lee@example.org", "Ann", "Lee")
BEN = Person("user-ben", "ben.okafor@example.org", "Ben", "Okafor")
CLEO = Person("user-cleo", "cleo.martin@example.org", "Cleo", "Martin")
DAN = Person("user-dan", "dan.novak@example.org", "Dan", "Novak")

FLEX_PLAN = Plan("plan-flex", "Flex desk", "tapkey-front-door")
OFFICE_PLAN = Plan("plan-office", "Private office", "tapkey-offices")
ROOM_3 = Resource("room-3", "Room 3", "room", "tapkey-room-3")
DESK_12 = Resource("desk-12", "Desk 12", "desk", None)
PARKING_1 = Resource("parking-1", "Parking 1", "parking", None)

FRONT_DOOR = TargetRef("lock-front-door")
ROOM_3_DOOR = TargetRef("lock-room-3")
OFFICE_WING = TargetRef("lockgroup-office-wing")

FRONT = AccessGroup(
    id="group-front",
    name="Front door",
    targets=(FRONT_DOOR,),
    tapkey_group_refs=frozenset({"tapkey-front-door"}),
)
ROOMS = AccessGroup(
    id="group-room-3",
    name="Room 3",
    targets=(FRONT_DOOR, ROOM_3_DOOR),
    tapkey_group_refs=frozenset({"tapkey-room-3"}),
)
OFFICES = AccessGroup(
    id="group-offices",
    name="Offices",
    targets=(FRONT_DOOR, OFFICE_WING),
    tapkey_group_refs=frozenset({"tapkey-offices"}),
)
GROUPS = (FRONT, ROOMS, OFFICES)

OFFICE_HOURS = WeeklySchedule(frozenset(range(5)), time(9), time(18), VIENNA)


def utc(text: str) -> datetime:
    """An instant written in UTC, e.g. `utc("2026-03-02T12:00")`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: str = VIENNA) -> datetime:
    """A wall-clock time in `zone`, as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def booking(
    booking_id: str,
    start: datetime,
    end: datetime,
    owner: Person | None = ANN,
    *,
    resource: Resource = ROOM_3,
    attendees: tuple[Person, ...] = (),
    status: BookingStatus = BookingStatus.CONFIRMED,
    deleted: datetime | None = None,
) -> Booking:
    """A booking of `resource` (Room 3 unless told)."""
    return Booking(
        id=booking_id,
        resource_id=resource.id,
        title=f"Meeting {booking_id}",
        start=start,
        end=end,
        owner=owner,
        attendees=attendees,
        status=status,
        deleted=deleted,
    )


def item(
    item_id: str = "item-1",
    *,
    plan: Plan | None = FLEX_PLAN,
    resource: Resource | None = None,
    tapkey_group_ref: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    title: str | None = None,
) -> SubscriptionItem:
    """A subscription item of `plan` (Flex desk unless told)."""
    return SubscriptionItem(
        id=item_id,
        title=title,
        plan_id=plan.id if plan is not None else None,
        resource_id=resource.id if resource is not None else None,
        tapkey_group_ref=tapkey_group_ref,
        start=start,
        end=end,
    )


def user_subscription(
    subscription_id: str,
    start: datetime,
    end: datetime | None = None,
    user: Person | None = ANN,
    *,
    items: tuple[SubscriptionItem, ...] | None = None,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    timezone: str | None = None,
    deleted: datetime | None = None,
) -> Subscription:
    """A member's own subscription (one Flex desk item unless told)."""
    return Subscription(
        id=subscription_id,
        status=status,
        customer_type=CustomerType.USER,
        start=start,
        end=end,
        timezone=timezone,
        user=user,
        company_id=None,
        items=items if items is not None else (item(),),
        deleted=deleted,
    )


def company_subscription(
    subscription_id: str,
    company: Company,
    start: datetime,
    end: datetime | None = None,
    *,
    items: tuple[SubscriptionItem, ...] | None = None,
) -> Subscription:
    """A company's subscription (one Private office item unless told)."""
    return Subscription(
        id=subscription_id,
        status=SubscriptionStatus.ACTIVE,
        customer_type=CustomerType.COMPANY,
        start=start,
        end=end,
        timezone=None,
        user=None,
        company_id=company.id,
        items=items if items is not None else (item(plan=OFFICE_PLAN),),
    )


def membership(
    person: Person,
    company: Company | None,
    *,
    approved: bool = True,
    deleted: datetime | None = None,
) -> Membership:
    """A membership at the location, possibly of `company`."""
    return Membership(
        id=f"membership-{person.user_id}",
        user=person,
        company_id=company.id if company is not None else None,
        approved=approved,
        deleted=deleted,
    )


def snapshot(
    *,
    bookings: tuple[Booking, ...] = (),
    subscriptions: tuple[Subscription, ...] = (),
    companies: tuple[Company, ...] = (),
    memberships: tuple[Membership, ...] = (),
    location: Location = LOCATION,
    plans: tuple[Plan, ...] = (FLEX_PLAN, OFFICE_PLAN),
    resources: tuple[Resource, ...] = (ROOM_3, DESK_12, PARKING_1),
) -> SpacebringSnapshot:
    """A location snapshot with the standard plans and resources."""
    return SpacebringSnapshot(
        location=location,
        plans=plans,
        resources=resources,
        subscriptions=subscriptions,
        companies=companies,
        memberships=memberships,
        bookings=bookings,
    )
