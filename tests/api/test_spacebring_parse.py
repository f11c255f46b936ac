"""Spacebring JSON → records: what is read, what is skipped and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.spacebring_tapkey.api.models import (
    BookingStatus,
    CustomerType,
    Person,
    SkippedRecord,
    SubscriptionStatus,
)
from custom_components.spacebring_tapkey.api.spacebring_parse import (
    parse_booking,
    parse_membership,
    parse_records,
    parse_subscription,
)

RESOURCE = "0b5e4c3e-54f6-4f0e-a5b6-1f5e2a6d3c21"
ANNA = {
    "id": "a1f3c1d0-2b1e-4f0b-9a57-5d8f0a4c9e01",
    "email": "Anna.Gruber@Members.example",
    "name": "Anna",
    "surname": "Gruber",
}


def booking(**fields: Any) -> dict[str, Any]:
    """A booking as Spacebring lists it, with `fields` changed."""
    record: dict[str, Any] = {
        "id": "4d6d2b7e-8f3a-4d5c-9e0f-1a2b3c4d5e6f",
        "resourceRef": RESOURCE,
        "startDate": "2026-06-01T10:00:00.000Z",
        "endDate": "2026-06-01T12:00:00.000Z",
        "createDate": "2026-05-20T08:00:00.000Z",
        "userOwner": ANNA,
        "attendees": [],
        "seats": 1,
    }
    record.update(fields)
    return record


def subscription(**fields: Any) -> dict[str, Any]:
    """A company subscription as Spacebring lists it, with `fields` changed."""
    record: dict[str, Any] = {
        "id": "7a9e0d4c-1b2f-4e3d-8c5b-6a7f8e9d0c1b",
        "status": "active",
        "subscriptionType": "company",
        "companyRef": "c0c0c0c0-1111-4222-8333-444455556666",
        "customerRef": "c0c0c0c0-1111-4222-8333-444455556666",
        "customer": {"id": "c0c0c0c0-1111-4222-8333-444455556666", "type": "company"},
        "startDate": "2026-01-31T23:00:00.000Z",
        "timezoneId": "Europe/Vienna",
        "items": [
            {
                "id": "11111111-2222-4333-8444-555566667777",
                "plan": {
                    "id": "99999999-8888-4777-8666-555544443333",
                    "title": "Office",
                },
                "tapkeyGroupRef": "5c0ffee0-0000-4000-8000-000000000001",
            }
        ],
    }
    record.update(fields)
    return record


def skipped_reason(record: dict[str, Any]) -> tuple[str, str]:
    """Reason code and detail of the one record `parse_records` rejects."""
    parsed, skipped = parse_records(
        [record], lambda item: parse_booking(item, BookingStatus.CONFIRMED), "booking"
    )
    assert parsed == []
    (only,) = skipped
    return only.reason, only.detail


def test_booking_reads_owner_invitees_and_utc_times() -> None:
    """Unknown fields are ignored; offsets become UTC."""
    record = booking(
        startDate="2026-06-01T12:00:00+02:00",
        endDate="2026-06-01T14:00:00+02:00",
        title="Workshop",
        somethingNew={"added": "later"},
        attendees=[
            {"membershipRef": "m-2", "user": {"id": "u-2", "email": None}},
            {"membershipRef": "m-3"},
            {},
        ],
    )
    parsed = parse_booking(record, BookingStatus.TENTATIVE)
    assert parsed.start == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert parsed.end == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert parsed.status is BookingStatus.TENTATIVE
    assert parsed.title == "Workshop"
    assert parsed.owner == Person(ANNA["id"], ANNA["email"], "Anna", "Gruber")
    # An invitee known only by membership is kept, without e-mail.
    assert parsed.attendees == (Person("u-2", None), Person("m-3", None))


def test_booking_without_attendees_field_has_none() -> None:
    """Attendees are empty when the caller may not see booking details."""
    record = booking()
    del record["attendees"], record["userOwner"]
    parsed = parse_booking(record, BookingStatus.CONFIRMED)
    assert parsed.attendees == ()
    assert parsed.owner is None


def test_booking_with_delete_date_is_cancelled_whatever_the_list() -> None:
    """deleteDate wins over the status the list was asked for."""
    parsed = parse_booking(
        booking(deleteDate="2026-05-30T09:00:00Z"), BookingStatus.CONFIRMED
    )
    assert parsed.status is BookingStatus.CANCELED
    assert parsed.deleted == datetime(2026, 5, 30, 9, 0, tzinfo=UTC)


def test_timestamp_without_offset_is_taken_as_utc() -> None:
    """Naive timestamps are read as UTC rather than local time."""
    parsed = parse_booking(
        booking(startDate="2026-06-01T10:00:00", endDate="2026-06-01T11:00:00"),
        BookingStatus.CONFIRMED,
    )
    assert parsed.start == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "reason", "detail"),
    [
        ({"startDate": None}, "missing_field", "startDate is missing"),
        ({"startDate": "June 1st"}, "invalid_datetime", "startDate is not an ISO"),
        ({"endDate": "2026-06-01T10:00:00Z"}, "invalid_interval", "endDate is not"),
        ({"resourceRef": 42}, "invalid_field", "resourceRef is not a string"),
        ({"id": ""}, "missing_field", "id is missing"),
        ({"userOwner": "Anna"}, "invalid_field", "userOwner is not an object"),
        ({"userOwner": {"email": "x@y.example"}}, "missing_field", "id is missing"),
        ({"attendees": {"user": ANNA}}, "invalid_field", "attendees is not a list"),
        ({"attendees": ["Anna"]}, "not_an_object", "an attendee is not an object"),
    ],
)
def test_unusable_booking_is_skipped_with_a_reason(
    fields: dict[str, Any], reason: str, detail: str
) -> None:
    """Reason codes a caller can count; details name the field, not values."""
    got_reason, got_detail = skipped_reason(booking(**fields))
    assert got_reason == reason
    assert got_detail.startswith(detail)
    assert "Members.example" not in got_detail


def test_records_that_are_not_objects_are_skipped() -> None:
    """A null or a string in the list is reported without an id."""
    parsed, skipped = parse_records(
        [None, booking()],
        lambda item: parse_booking(item, BookingStatus.CONFIRMED),
        "b",
    )
    assert len(parsed) == 1
    assert skipped == [
        SkippedRecord("b", None, "not_an_object", "the record is not an object")
    ]


def test_skipped_record_without_readable_id_has_none() -> None:
    """A numeric id is not reported as if it were one."""
    _, skipped = parse_records(
        [booking(id=7)], lambda item: parse_booking(item, BookingStatus.CONFIRMED), "b"
    )
    assert skipped[0].record_id is None


def test_company_subscription_reads_company_items_and_groups() -> None:
    """Item plan comes from `plan.id` when `planRef` is absent."""
    parsed = parse_subscription(subscription(endDate="2026-12-31T23:00:00Z"))
    assert parsed.customer_type is CustomerType.COMPANY
    assert parsed.status is SubscriptionStatus.ACTIVE
    assert parsed.company_id == "c0c0c0c0-1111-4222-8333-444455556666"
    assert parsed.timezone == "Europe/Vienna"
    assert parsed.end == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    (item,) = parsed.items
    assert item.plan_id == "99999999-8888-4777-8666-555544443333"
    assert item.tapkey_group_ref == "5c0ffee0-0000-4000-8000-000000000001"
    assert parsed.user is None


def test_company_known_only_as_customer() -> None:
    """Without companyRef the company is the customer."""
    parsed = parse_subscription(subscription(companyRef=None))
    assert parsed.company_id == "c0c0c0c0-1111-4222-8333-444455556666"


def test_user_subscription_takes_the_user_from_the_customer() -> None:
    """`user` may be missing while `customer.user` is there."""
    parsed = parse_subscription(
        subscription(
            subscriptionType="user",
            companyRef=None,
            customer={"id": "m-1", "type": "user", "user": ANNA},
        )
    )
    assert parsed.customer_type is CustomerType.USER
    assert parsed.user is not None
    assert parsed.user.email == ANNA["email"]
    assert parsed.company_id is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"companyRef": None, "customer": {"type": "company"}}, "missing_field"),
        ({"status": "paused"}, "invalid_field"),
        ({"endDate": "2026-01-01T00:00:00Z"}, "invalid_interval"),
        ({"items": ["office"]}, "not_an_object"),
        ({"startDate": None}, "missing_field"),
    ],
)
def test_unusable_subscription_is_skipped(fields: dict[str, Any], reason: str) -> None:
    """Company without id, unknown status, ends before it starts, bad item."""
    parsed, skipped = parse_records(
        [subscription(**fields)], parse_subscription, "subscription"
    )
    assert parsed == []
    assert skipped[0].reason == reason
    assert skipped[0].record_id == "7a9e0d4c-1b2f-4e3d-8c5b-6a7f8e9d0c1b"


def test_membership_request_is_not_approved() -> None:
    """Status `requested` means not (yet) a member."""
    parsed = parse_membership(
        {"id": "m-9", "status": "requested", "user": ANNA, "companyRef": "c-1"}
    )
    assert parsed.approved is False
    assert parsed.company_id == "c-1"


def test_membership_without_user_is_skipped() -> None:
    """No user, no identity."""
    _, skipped = parse_records([{"id": "m-9"}], parse_membership, "membership")
    assert (skipped[0].reason, skipped[0].detail) == (
        "missing_field",
        "user is missing",
    )
