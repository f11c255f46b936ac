"""Spacebring JSON → typed records.

Spacebring adds fields over time, so anything not read here is ignored. A
record lacking what the integration needs (an id, a date) or holding a value
of the wrong type is left out and reported as a `SkippedRecord` with a
reason code; the rest of the list is still delivered. Details name fields,
never values, so no e-mail ends up in a report or a log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .models import (
    Booking,
    BookingStatus,
    Company,
    CustomerType,
    Location,
    Membership,
    Person,
    Plan,
    Resource,
    SkippedRecord,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)

type JsonObject = Mapping[str, Any]

# Reason codes of a SkippedRecord.
NOT_AN_OBJECT: Final = "not_an_object"
MISSING_FIELD: Final = "missing_field"
INVALID_FIELD: Final = "invalid_field"
INVALID_DATETIME: Final = "invalid_datetime"
INVALID_INTERVAL: Final = "invalid_interval"

_EMPTY: Final[JsonObject] = {}


class MalformedRecordError(ValueError):
    """A record the integration cannot use; `reason` is a reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        """Keep the reason code apart from the human detail."""
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _text(item: JsonObject, key: str) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise MalformedRecordError(INVALID_FIELD, f"{key} is not a string")


def _required_text(item: JsonObject, key: str) -> str:
    if (value := _text(item, key)) is None:
        raise MalformedRecordError(MISSING_FIELD, f"{key} is missing")
    return value


def _object(item: JsonObject, key: str) -> JsonObject:
    value = item.get(key)
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise MalformedRecordError(INVALID_FIELD, f"{key} is not an object")


def _list(item: JsonObject, key: str) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise MalformedRecordError(INVALID_FIELD, f"{key} is not a list")


def _datetime(item: JsonObject, key: str) -> datetime | None:
    """An aware UTC datetime; a timestamp without offset is taken as UTC."""
    if (raw := _text(item, key)) is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise MalformedRecordError(
            INVALID_DATETIME, f"{key} is not an ISO 8601 date-time"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _required_datetime(item: JsonObject, key: str) -> datetime:
    if (moment := _datetime(item, key)) is None:
        raise MalformedRecordError(MISSING_FIELD, f"{key} is missing")
    return moment


def _enum[E: (SubscriptionStatus, CustomerType)](
    item: JsonObject, key: str, enum: type[E]
) -> E:
    raw = _required_text(item, key)
    try:
        return enum(raw)
    except ValueError:
        raise MalformedRecordError(
            INVALID_FIELD, f"{key} has an unknown value"
        ) from None


def parse_person(user: JsonObject) -> Person:
    """A user embedded in a booking, subscription or membership."""
    return Person(
        user_id=_required_text(user, "id"),
        email=_text(user, "email"),
        name=_text(user, "name"),
        surname=_text(user, "surname"),
    )


def parse_location(item: JsonObject) -> Location:
    """A `locations` item."""
    return Location(
        id=_required_text(item, "id"),
        title=_text(item, "title") or "",
        timezone=_text(item, "timezoneId"),
    )


def parse_plan(item: JsonObject) -> Plan:
    """A `plans` item; the Tapkey group is `access.tapkeyGroupRef`."""
    return Plan(
        id=_required_text(item, "id"),
        title=_text(item, "title") or "",
        tapkey_group_ref=_text(_object(item, "access"), "tapkeyGroupRef"),
    )


def parse_resource(item: JsonObject) -> Resource:
    """A `resources` item (room, desk, office, parking lot, equipment ...)."""
    return Resource(
        id=_required_text(item, "id"),
        title=_text(item, "title") or "",
        type=_required_text(item, "type"),
        tapkey_group_ref=_text(item, "tapkeyGroupRef"),
    )


def parse_company(item: JsonObject) -> Company:
    """A `companies` item."""
    return Company(
        id=_required_text(item, "id"),
        title=_text(item, "title") or "",
        deleted=_datetime(item, "deleteDate"),
    )


def parse_membership(item: JsonObject) -> Membership:
    """A `memberships` item; only approved memberships count as members."""
    user = _object(item, "user")
    if not user:
        raise MalformedRecordError(MISSING_FIELD, "user is missing")
    return Membership(
        id=_required_text(item, "id"),
        user=parse_person(user),
        company_id=_text(item, "companyRef"),
        approved=(_text(item, "status") or "approved") == "approved",
        deleted=_datetime(item, "deleteDate"),
    )


def _subscription_item(item: Any) -> SubscriptionItem:
    if not isinstance(item, Mapping):
        raise MalformedRecordError(NOT_AN_OBJECT, "an item is not an object")
    return SubscriptionItem(
        id=_required_text(item, "id"),
        title=_text(item, "title"),
        plan_id=_text(item, "planRef") or _text(_object(item, "plan"), "id"),
        resource_id=_text(item, "resourceRef")
        or _text(_object(item, "resource"), "id"),
        tapkey_group_ref=_text(item, "tapkeyGroupRef"),
        start=_datetime(item, "startDate"),
        end=_datetime(item, "endDate"),
    )


def parse_subscription(item: JsonObject) -> Subscription:
    """A `subscriptions` item of a user or a company."""
    customer_type = _enum(item, "subscriptionType", CustomerType)
    customer = _object(item, "customer")
    user_json = _object(item, "user") or _object(customer, "user")
    company_id = _text(item, "companyRef")
    if customer_type is CustomerType.COMPANY:
        company_id = company_id or _text(customer, "id")
        if company_id is None:
            raise MalformedRecordError(MISSING_FIELD, "companyRef is missing")
    start = _required_datetime(item, "startDate")
    end = _datetime(item, "endDate")
    if end is not None and end < start:
        raise MalformedRecordError(INVALID_INTERVAL, "endDate is before startDate")
    return Subscription(
        id=_required_text(item, "id"),
        status=_enum(item, "status", SubscriptionStatus),
        customer_type=customer_type,
        start=start,
        end=end,
        timezone=_text(item, "timezoneId"),
        user=parse_person(user_json) if user_json else None,
        company_id=company_id,
        items=tuple(_subscription_item(raw) for raw in _list(item, "items")),
        deleted=_datetime(item, "deleteDate"),
    )


def _attendee(raw: Any) -> Person | None:
    """An invitee; one known only by membership is kept without e-mail."""
    if not isinstance(raw, Mapping):
        raise MalformedRecordError(NOT_AN_OBJECT, "an attendee is not an object")
    if user := _object(raw, "user"):
        return parse_person(user)
    membership_ref = _text(raw, "membershipRef")
    return Person(user_id=membership_ref, email=None) if membership_ref else None


def parse_booking(item: JsonObject, status: BookingStatus) -> Booking:
    """A `bookings` item, tagged with the status it was listed under.

    The record has no status field: the client asks per status. A booking
    with `deleteDate` is cancelled whatever list it came from.
    """
    start = _required_datetime(item, "startDate")
    end = _required_datetime(item, "endDate")
    if end <= start:
        raise MalformedRecordError(INVALID_INTERVAL, "endDate is not after startDate")
    deleted = _datetime(item, "deleteDate")
    owner = _object(item, "userOwner")
    attendees = (_attendee(raw) for raw in _list(item, "attendees"))
    return Booking(
        id=_required_text(item, "id"),
        resource_id=_required_text(item, "resourceRef"),
        title=_text(item, "title"),
        start=start,
        end=end,
        owner=parse_person(owner) if owner else None,
        attendees=tuple(person for person in attendees if person is not None),
        status=BookingStatus.CANCELED if deleted is not None else status,
        deleted=deleted,
    )


def parse_records[T](
    items: list[Any], parse: Callable[[JsonObject], T], kind: str
) -> tuple[list[T], list[SkippedRecord]]:
    """Parse every item; collect the unusable ones instead of failing."""
    parsed: list[T] = []
    skipped: list[SkippedRecord] = []
    for item in items:
        if not isinstance(item, Mapping):
            skipped.append(
                SkippedRecord(kind, None, NOT_AN_OBJECT, "the record is not an object")
            )
            continue
        try:
            parsed.append(parse(item))
        except MalformedRecordError as err:
            record_id = item.get("id")
            skipped.append(
                SkippedRecord(
                    kind,
                    record_id if isinstance(record_id, str) else None,
                    err.reason,
                    err.detail,
                )
            )
    return parsed, skipped
