"""Typed records read from Spacebring and Tapkey.

Plain frozen dataclasses with no Home Assistant or aiohttp imports: the API
clients produce them and the pure access engine consumes them. Every datetime
is timezone-aware UTC. E-mails are kept as received; `normalize_email` is the
one place that decides identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


def normalize_email(raw: str | None) -> str | None:
    """Return the identity form of an e-mail (trimmed, lower case) or None."""
    if raw is None:
        return None
    cleaned = raw.strip().lower()
    if not cleaned or "@" not in cleaned:
        return None
    return cleaned


# --- Spacebring -------------------------------------------------------------


class SubscriptionStatus(StrEnum):
    """Spacebring subscription status (`subscription.status`)."""

    ACTIVE = "active"
    SCHEDULED = "scheduled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incompleteExpired"
    CANCELED = "canceled"


class CustomerType(StrEnum):
    """Who a subscription belongs to (`subscription.subscriptionType`)."""

    USER = "user"
    COMPANY = "company"


class BookingStatus(StrEnum):
    """Booking status; the API has it only as a list filter, not a field."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class Person:
    """A Spacebring user as embedded in bookings, subscriptions, memberships."""

    user_id: str
    email: str | None
    name: str | None = None
    surname: str | None = None

    @property
    def display_name(self) -> str:
        """Full name, else the user id (never the e-mail: it is personal data)."""
        full = " ".join(part for part in (self.name, self.surname) if part)
        return full or self.user_id


@dataclass(frozen=True, slots=True)
class Location:
    """A Spacebring location (one per config entry)."""

    id: str
    title: str
    timezone: str | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A membership plan; `tapkey_group_ref` is `access.tapkeyGroupRef`."""

    id: str
    title: str
    tapkey_group_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """A bookable resource (room, desk, office, parking, equipment ...)."""

    id: str
    title: str
    type: str
    tapkey_group_ref: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionItem:
    """One item of a subscription; its group overrides the plan's."""

    id: str
    title: str | None
    plan_id: str | None
    resource_id: str | None
    tapkey_group_ref: str | None
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user or company subscription."""

    id: str
    status: SubscriptionStatus
    customer_type: CustomerType
    start: datetime
    end: datetime | None
    timezone: str | None
    user: Person | None
    company_id: str | None
    items: tuple[SubscriptionItem, ...]
    deleted: datetime | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """A company whose members share its subscriptions."""

    id: str
    title: str
    deleted: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's membership at the location, possibly of a company."""

    id: str
    user: Person
    company_id: str | None
    approved: bool
    deleted: datetime | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """One occurrence of a booking (the client asks for `singleBookings`)."""

    id: str
    resource_id: str
    title: str | None
    start: datetime
    end: datetime
    owner: Person | None
    attendees: tuple[Person, ...]
    status: BookingStatus = BookingStatus.CONFIRMED
    deleted: datetime | None = None


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A record left out of a fetch or of the rules, and why."""

    kind: str
    record_id: str | None
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SpacebringSnapshot:
    """Everything the rules need from Spacebring for one location."""

    location: Location
    plans: tuple[Plan, ...] = ()
    resources: tuple[Resource, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    companies: tuple[Company, ...] = ()
    memberships: tuple[Membership, ...] = ()
    bookings: tuple[Booking, ...] = ()
    skipped: tuple[SkippedRecord, ...] = field(default=())


# --- Tapkey -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Owner:
    """A Tapkey locking system (owner account)."""

    id: str
    name: str
    active: bool = True


class TargetKind(StrEnum):
    """What a grant's `boundLockId` names."""

    LOCK = "lock"
    LOCK_GROUP = "lock_group"


@dataclass(frozen=True, slots=True)
class LockTarget:
    """A bound lock or a lock group that a grant can target."""

    id: str
    title: str
    kind: TargetKind
    active: bool = True
    supports_time_restriction: bool | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A Tapkey contact; `identifier` is the e-mail for ipId `tapkey`."""

    id: str
    identifier: str
    ip_id: str = "tapkey"


class GrantState(StrEnum):
    """Tapkey grant state."""

    OK = "Ok"
    REVOKED = "Revoked"
    OTHER = "Other"


@dataclass(frozen=True, slots=True)
class Grant:
    """A Tapkey grant; `valid_before` is exclusive, None means unlimited."""

    id: str
    contact_id: str
    bound_lock_id: str
    valid_from: datetime | None
    valid_before: datetime | None
    time_restriction_ical: str | None = None
    state: GrantState = GrantState.OK
    active: bool = True
    contact_identifier: str | None = None


@dataclass(frozen=True, slots=True)
class LockLogEntry:
    """One entry of a lock's log, e.g. a member opening a door with the app."""

    id: str
    bound_lock_id: str
    lock_timestamp: datetime
    contact_id: str | None = None
    received_at: datetime | None = None
    entry_no: int | None = None
    log_type: str | None = None
    command: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult[T]:
    """The records a list call could read, and the ones it left out with why."""

    items: tuple[T, ...]
    skipped: tuple[SkippedRecord, ...] = ()
