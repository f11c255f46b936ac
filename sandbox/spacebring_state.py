"""The Spacebring half of the sandbox world: records, queries, changes.

Records are kept in the API's own shape so that `GET /_sandbox/world` and a
`--world` file read like Spacebring responses. Two facts the API has no field
for are kept beside them: a booking's status (Spacebring only filters by it)
and, for subscriptions, the stored status is re-evaluated against the clock
(a scheduled subscription becomes active on its start date, an active one
ends on its end date).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import random
from typing import Any, Final
import uuid

from . import spacebring_records as records
from .spacebring_records import Record, iso, parse_iso

BOOKING_STATUSES: Final = ("tentative", "confirmed", "canceled")
SUBSCRIPTION_STATUSES: Final = (
    "active",
    "scheduled",
    "incomplete",
    "incompleteExpired",
    "canceled",
)
_TIME_DRIVEN: Final = frozenset({"active", "scheduled"})
_COMPARISONS: Final[dict[str, Callable[[datetime, datetime], bool]]] = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}


class SpacebringError(Exception):
    """A request the real service would refuse; becomes `{message, type}`."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        """Keep the HTTP status and the error type beside the message."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def not_found(what: str, record_id: str) -> SpacebringError:
    """HTTP 404 for an unknown id."""
    return SpacebringError(404, f"{what} {record_id} not found", "not_found")


def bad_request(message: str) -> SpacebringError:
    """HTTP 400 for an invalid request."""
    return SpacebringError(400, message, "invalid_request")


@dataclass(frozen=True, slots=True)
class DateBound:
    """One date filter, e.g. `startDate[lt]=...`."""

    field: str
    operator: str
    bound: datetime

    def accepts(self, record: Record) -> bool:
        """Whether the record's date satisfies the bound."""
        return _COMPARISONS[self.operator](parse_iso(record[self.field]), self.bound)


@dataclass(slots=True)
class BookingQuery:
    """Filters of `GET /resources/bookings/v1`."""

    location_ref: str | None = None
    resource_ref: str | None = None
    statuses: Collection[str] = ("tentative", "confirmed")
    bounds: tuple[DateBound, ...] = ()
    resource_types: Collection[str] | None = None
    customer_ref: str | None = None


@dataclass(slots=True)
class SubscriptionQuery:
    """Filters of `GET /subscriptions/v1`."""

    location_ref: str | None = None
    statuses: Collection[str] = ("active", "scheduled", "incomplete")
    customer_ref: str | None = None
    plan_ref: str | None = None
    bounds: tuple[DateBound, ...] = ()


def _by_id(items: Iterable[Record]) -> dict[str, Record]:
    return {str(item["id"]): item for item in items}


@dataclass(slots=True)
class SpacebringState:
    """Everything one Spacebring network holds, for all its locations."""

    network_id: str
    locations: dict[str, Record] = field(default_factory=dict)
    plans: dict[str, Record] = field(default_factory=dict)
    resources: dict[str, Record] = field(default_factory=dict)
    companies: dict[str, Record] = field(default_factory=dict)
    memberships: dict[str, Record] = field(default_factory=dict)
    subscriptions: dict[str, Record] = field(default_factory=dict)
    bookings: dict[str, Record] = field(default_factory=dict)
    booking_status: dict[str, str] = field(default_factory=dict)
    id_source: random.Random = field(default_factory=random.Random)

    # --- world files -------------------------------------------------------

    def to_world(self) -> Record:
        """The state in the API's shapes; bookings carry their `status`."""
        return {
            "networkRef": self.network_id,
            "locations": list(self.locations.values()),
            "plans": list(self.plans.values()),
            "resources": list(self.resources.values()),
            "companies": list(self.companies.values()),
            "memberships": list(self.memberships.values()),
            "subscriptions": list(self.subscriptions.values()),
            "bookings": [
                {**booking, "status": self.booking_status[booking_id]}
                for booking_id, booking in self.bookings.items()
            ],
        }

    @classmethod
    def from_world(cls, raw: Mapping[str, Any]) -> SpacebringState:
        """Load records written in the API's shapes; fill Spacebring's defaults."""
        locations = [records.location(item) for item in raw.get("locations", [])]
        network_id = raw.get("networkRef") or next(
            (loc["networkRef"] for loc in locations if loc.get("networkRef")), None
        )
        if not network_id:
            raise ValueError("a Spacebring world needs networkRef")
        state = cls(
            network_id=network_id,
            locations=_by_id(locations),
            plans=_by_id(records.plan(item) for item in raw.get("plans", [])),
            resources=_by_id(
                records.resource({"networkRef": network_id} | item)
                for item in raw.get("resources", [])
            ),
            companies=_by_id(
                records.company(item) for item in raw.get("companies", [])
            ),
            memberships=_by_id(
                records.membership(item) for item in raw.get("memberships", [])
            ),
            subscriptions=_by_id(
                records.subscription({"networkRef": network_id} | item)
                for item in raw.get("subscriptions", [])
            ),
        )
        for item in raw.get("bookings", []):
            booking = dict(item)
            status = booking.pop("status", None) or (
                "canceled" if booking.get("deleteDate") else "confirmed"
            )
            if status not in BOOKING_STATUSES:
                raise ValueError(
                    f"booking {booking.get('id')}: unknown status {status}"
                )
            state.add_booking(records.booking(booking), status)
        return state

    def new_id(self) -> str:
        """A fresh uuid (seeded, so a replayed scenario gets the same ids)."""
        return str(uuid.UUID(int=self.id_source.getrandbits(128), version=4))

    def add_booking(self, booking: Record, status: str) -> None:
        """Store a booking with its status."""
        self.bookings[booking["id"]] = booking
        self.booking_status[booking["id"]] = status

    # --- reads ----------------------------------------------------------------

    def location(self, location_id: str) -> Record:
        """One location."""
        return self._get(self.locations, "location", location_id)

    def _get(self, table: Mapping[str, Record], what: str, record_id: str) -> Record:
        try:
            return table[record_id]
        except KeyError:
            raise not_found(what, record_id) from None

    def _require_location(self, location_ref: str | None) -> str:
        if not location_ref:
            raise bad_request("locationRef is required")
        self.location(location_ref)
        return location_ref

    def list_plans(self, location_ref: str | None) -> list[Record]:
        """Plans, optionally of one location."""
        return [
            plan
            for plan in self.plans.values()
            if location_ref is None or plan["locationRef"] == location_ref
        ]

    def list_resources(
        self, location_ref: str | None, types: Collection[str] | None
    ) -> list[Record]:
        """Resources of a location, optionally of some types."""
        location_ref = self._require_location(location_ref)
        return [
            resource
            for resource in self.resources.values()
            if resource["locationRef"] == location_ref
            and (types is None or resource["type"] in types)
        ]

    def list_companies(
        self, location_ref: str | None, title: str | None
    ) -> list[Record]:
        """Companies of a location (title filter: case-insensitive substring)."""
        location_ref = self._require_location(location_ref)
        needle = title.casefold() if title else None
        return [
            company
            for company in self.companies.values()
            if company["locationRef"] == location_ref
            and (needle is None or needle in company["title"].casefold())
        ]

    def list_memberships(
        self,
        location_ref: str | None,
        *,
        company_ref: str | None = None,
        user_email: str | None = None,
        user_ref: str | None = None,
        status: str | None = None,
    ) -> list[Record]:
        """Memberships of a location; approved ones unless `status` says otherwise."""
        location_ref = self._require_location(location_ref)
        wanted_status = status or "approved"
        email = user_email.strip().casefold() if user_email else None
        return [
            item
            for item in self.memberships.values()
            if item["locationRef"] == location_ref
            and item.get("status", "approved") == wanted_status
            and (company_ref is None or item.get("companyRef") == company_ref)
            and (user_ref is None or item["user"]["id"] == user_ref)
            and (
                email is None
                or str(item["user"].get("email", "")).strip().casefold() == email
            )
        ]

    def subscription_status(self, subscription: Record, now: datetime) -> str:
        """The status the clock gives a subscription today."""
        stored = str(subscription["status"])
        if stored not in _TIME_DRIVEN:
            return stored
        if subscription.get("deleteDate"):
            return "canceled"
        if parse_iso(subscription["startDate"]) > now:
            return "scheduled"
        end = subscription.get("endDate")
        if end and parse_iso(end) <= now:
            return "canceled"
        return "active"

    def served_subscription(self, subscription: Record, now: datetime) -> Record:
        """The subscription as the API shows it now."""
        return subscription | {"status": self.subscription_status(subscription, now)}

    def list_subscriptions(
        self, query: SubscriptionQuery, now: datetime
    ) -> list[Record]:
        """Subscriptions matching the filters, with their status as of `now`."""
        served = []
        for subscription in self.subscriptions.values():
            if query.location_ref and subscription["locationRef"] != query.location_ref:
                continue
            if query.customer_ref and subscription["customerRef"] != query.customer_ref:
                continue
            if query.plan_ref and not any(
                item.get("planRef") == query.plan_ref for item in subscription["items"]
            ):
                continue
            if not all(bound.accepts(subscription) for bound in query.bounds):
                continue
            current = self.served_subscription(subscription, now)
            if current["status"] in query.statuses:
                served.append(current)
        return served

    def list_bookings(self, query: BookingQuery) -> list[Record]:
        """Bookings matching the filters (records without their status)."""
        if not query.location_ref and not query.resource_ref:
            raise bad_request("locationRef or resourceRef is required")
        resource_ids = {
            resource_id
            for resource_id, resource in self.resources.items()
            if (not query.location_ref or resource["locationRef"] == query.location_ref)
            and (not query.resource_ref or resource_id == query.resource_ref)
            and (
                query.resource_types is None or resource["type"] in query.resource_types
            )
        }
        return [
            booking
            for booking_id, booking in self.bookings.items()
            if booking["resourceRef"] in resource_ids
            and self.booking_status[booking_id] in query.statuses
            and (
                query.customer_ref is None
                or booking.get("membershipRefOwner") == query.customer_ref
            )
            and all(bound.accepts(booking) for bound in query.bounds)
        ]

    def plan(self, plan_id: str) -> Record:
        """One plan."""
        return self._get(self.plans, "plan", plan_id)

    def resource(self, resource_id: str) -> Record:
        """One resource."""
        return self._get(self.resources, "resource", resource_id)

    def company(self, company_id: str) -> Record:
        """One company."""
        return self._get(self.companies, "company", company_id)

    def membership(self, membership_id: str) -> Record:
        """One membership."""
        return self._get(self.memberships, "membership", membership_id)

    def booking(self, booking_id: str) -> Record:
        """One booking, cancelled ones included."""
        return self._get(self.bookings, "booking", booking_id)

    def subscription(self, subscription_id: str) -> Record:
        """One subscription (stored form)."""
        return self._get(self.subscriptions, "subscription", subscription_id)

    # --- changes -----------------------------------------------------------

    def create_booking(self, body: Mapping[str, Any], now: datetime) -> Record:
        """`POST /resources/bookings/v1`: a confirmed booking."""
        start, end = _interval(body)
        resource_ref = str(body["resourceRef"])
        if resource_ref not in self.resources:
            raise bad_request(f"resource {resource_ref} does not exist")
        booking: Record = {
            "id": self.new_id(),
            "resourceRef": resource_ref,
            "startDate": iso(start),
            "endDate": iso(end),
            "createDate": iso(now),
            "updateDate": iso(now),
        }
        for optional in ("title", "memo", "seats", "entire"):
            if optional in body:
                booking[optional] = body[optional]
        if owner_ref := body.get("membershipRefOwner"):
            owner = self.membership(str(owner_ref))
            booking["membershipRefOwner"] = owner["id"]
            booking["userOwner"] = records.person(owner["user"])
        created = records.booking(booking)
        self.add_booking(created, "confirmed")
        return created

    def cancel_booking(self, booking_id: str, now: datetime) -> None:
        """`DELETE /resources/bookings/v1/{id}`: cancel (it stays listed as such)."""
        booking = self.booking(booking_id)
        if self.booking_status[booking_id] != "canceled":
            booking["deleteDate"] = iso(now)
            booking["updateDate"] = iso(now)
            self.booking_status[booking_id] = "canceled"

    def update_booking(
        self,
        booking_id: str,
        now: datetime,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
    ) -> Record:
        """Move, shorten or re-status a booking (the operator's admin UI)."""
        booking = self.booking(booking_id)
        new_start = start or parse_iso(booking["startDate"])
        new_end = end or parse_iso(booking["endDate"])
        if new_end <= new_start:
            raise bad_request("endDate must be after startDate")
        if status is not None and status not in BOOKING_STATUSES:
            raise bad_request(f"unknown booking status {status}")
        booking["startDate"] = iso(new_start)
        booking["endDate"] = iso(new_end)
        booking["updateDate"] = iso(now)
        if status == "canceled":
            self.cancel_booking(booking_id, now)
        elif status is not None:
            booking.pop("deleteDate", None)
            self.booking_status[booking_id] = status
        return booking

    def create_subscription(self, body: Mapping[str, Any], now: datetime) -> Record:
        """`POST /subscriptions/v1` for a membership or a company."""
        start = _timestamp(body, "startDate")
        end = _timestamp(body, "endDate") if body.get("endDate") else None
        if end is not None and end <= start:
            raise bad_request("endDate must be after startDate")
        customer, location_ref = self._customer(body)
        subscription: Record = {
            "id": self.new_id(),
            "status": "active",
            "createDate": iso(now),
            "startDate": iso(start),
            "locationRef": location_ref,
            "networkRef": self.network_id,
            "timezoneId": self.location(location_ref).get("timezoneId", "UTC"),
            "period": body.get("period", "month"),
            "items": [self._item(raw, now) for raw in body.get("items", [])],
            **customer,
        }
        if end is not None:
            subscription["endDate"] = iso(end)
        created = records.subscription(subscription)
        self.subscriptions[created["id"]] = created
        return self.served_subscription(created, now)

    def _customer(self, body: Mapping[str, Any]) -> tuple[Record, str]:
        if company_ref := body.get("companyRef"):
            company = self.company(str(company_ref))
            return records.company_customer(company), company["locationRef"]
        if membership_ref := body.get("membershipRef"):
            member = self.membership(str(membership_ref))
            return records.member_customer(member), member["locationRef"]
        raise bad_request("companyRef or membershipRef is required")

    def _item(self, raw: Mapping[str, Any], now: datetime) -> Record:
        item: Record = {
            key: value
            for key, value in raw.items()
            if key
            in {
                "planRef",
                "resourceRef",
                "tapkeyGroupRef",
                "title",
                "price",
                "quantity",
                "startDate",
                "endDate",
                "type",
            }
        } | {"id": self.new_id(), "createDate": iso(now)}
        if plan_ref := raw.get("planRef"):
            plan = self.plan(str(plan_ref))
            item["plan"] = {"id": plan["id"], "title": plan["title"]}
            item.setdefault("title", plan["title"])
            group = plan.get("access", {}).get("tapkeyGroupRef")
            if group and "tapkeyGroupRef" not in raw:
                item["tapkeyGroupRef"] = group
        if resource_ref := raw.get("resourceRef"):
            resource = self.resource(str(resource_ref))
            item["resource"] = {
                "id": resource["id"],
                "title": resource["title"],
                "type": resource["type"],
            }
        return item

    def cancel_subscription(self, subscription_id: str, now: datetime) -> None:
        """`DELETE /subscriptions/v1/{id}`: cancel now (it stays listed)."""
        subscription = self.subscription(subscription_id)
        if subscription["status"] != "canceled":
            subscription["status"] = "canceled"
            subscription["deleteDate"] = iso(now)


def _timestamp(body: Mapping[str, Any], name: str) -> datetime:
    value = body.get(name)
    if not isinstance(value, str):
        raise bad_request(f"{name} is required")
    try:
        return parse_iso(value)
    except ValueError:
        raise bad_request(f"{name} is not an ISO 8601 date-time") from None


def _interval(body: Mapping[str, Any]) -> tuple[datetime, datetime]:
    if not body.get("resourceRef"):
        raise bad_request("resourceRef is required")
    start, end = _timestamp(body, "startDate"), _timestamp(body, "endDate")
    if end <= start:
        raise bad_request("endDate must be after startDate")
    return start, end
