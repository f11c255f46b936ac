"""Async client of the Spacebring REST API (no Home Assistant imports).

HTTP Basic with the network's client id and secret on a session the caller
injects. Every request goes through `ApiTransport`: at most 10 requests/s by
default (pass one `RateLimiter` to every client of the same network, since
Spacebring counts per credentials), 429 and transient failures retried,
errors typed. Lists are read page by page (`limit` 100, `nextPageToken`);
unusable records are skipped and reported, never fatal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import random
from typing import TYPE_CHECKING, Any, Final, Protocol

import aiohttp

from .errors import ApiInvalidResponseError
from .http import (
    ApiTransport,
    QueryParams,
    RateLimiter,
    RetryPolicy,
    Sleep,
    basic_auth_header,
)
from .models import (
    Booking,
    BookingStatus,
    Company,
    FetchResult,
    Location,
    Membership,
    Plan,
    Resource,
    SkippedRecord,
    SpacebringSnapshot,
    Subscription,
    SubscriptionStatus,
)
from .spacebring_parse import (
    JsonObject,
    MalformedRecordError,
    parse_booking,
    parse_company,
    parse_location,
    parse_membership,
    parse_plan,
    parse_records,
    parse_resource,
    parse_subscription,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.spacebring.com"
DEFAULT_REQUESTS_PER_SECOND: Final = 10.0
MAX_PAGE_SIZE: Final = 100
SERVICE: Final = "Spacebring"

# The statuses that can grant access (DESIGN §2); tentative bookings are
# fetched too so the rules can honour the operator's opt-in.
GRANTING_SUBSCRIPTION_STATUSES: Final = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.SCHEDULED,
)
SNAPSHOT_BOOKING_STATUSES: Final = (BookingStatus.TENTATIVE, BookingStatus.CONFIRMED)

_LOCATIONS: Final = "/locations/v1"
_PLANS: Final = "/plans/v1"
_RESOURCES: Final = "/resources/v1"
_BOOKINGS: Final = "/resources/bookings/v1"
_SUBSCRIPTIONS: Final = "/subscriptions/v1"
_COMPANIES: Final = "/community/companies/v1"
_MEMBERSHIPS: Final = "/community/memberships/v1"


if TYPE_CHECKING:

    class _Identified(Protocol):
        @property
        def id(self) -> str: ...


def format_timestamp(moment: datetime) -> str:
    """A filter or body timestamp as Spacebring writes them (UTC, Z)."""
    if moment.tzinfo is None:
        raise ValueError("Spacebring timestamps need a timezone-aware datetime")
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True, slots=True)
class NewSubscriptionItem:
    """One item of a subscription to create: a plan or a resource rental."""

    plan_id: str | None = None
    resource_id: str | None = None
    tapkey_group_ref: str | None = None
    title: str | None = None
    price: float | None = None
    quantity: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The item in the request body (unset fields left out)."""
        fields = {
            "planRef": self.plan_id,
            "resourceRef": self.resource_id,
            "tapkeyGroupRef": self.tapkey_group_ref,
            "title": self.title,
            "price": self.price,
            "quantity": self.quantity,
        }
        return {key: value for key, value in fields.items() if value is not None}


class SpacebringClient:
    """Reads and changes one Spacebring network's data."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        """Talk to `base_url` with the network's credentials.

        Without `limiter` the client gets its own 10 requests/s limiter; give
        every client of one network the same limiter instead.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": basic_auth_header(client_id, client_secret)}
        self._page_size = page_size
        self._transport = ApiTransport(
            session,
            service=SERVICE,
            limiter=limiter or RateLimiter(DEFAULT_REQUESTS_PER_SECOND),
            policy=policy,
            sleep=sleep,
            rng=rng,
        )

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._transport.requests_sent

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json_body: Any = None,
    ) -> Any:
        return await self._transport.request(
            method,
            self._base_url + path,
            params=params,
            json_body=json_body,
            headers=self._headers,
        )

    async def _get_object(self, path: str, envelope: str) -> JsonObject:
        body = await self._request("GET", path)
        inner = body.get(envelope) if isinstance(body, dict) else None
        if not isinstance(inner, dict):
            raise ApiInvalidResponseError(
                f"{SERVICE} {path}: response has no {envelope} object"
            )
        return inner

    async def _get_all[T](
        self,
        path: str,
        envelope: str,
        params: Sequence[tuple[str, str]],
        parse: Callable[[JsonObject], T],
        kind: str,
    ) -> tuple[list[T], list[SkippedRecord]]:
        """Every page of a list, following `nextPageToken` to the end.

        A token seen before would loop forever (or silently repeat records),
        so it fails the whole read: an incomplete list must never pass for
        the whole truth, or access would be revoked that should stay.
        """
        records: list[T] = []
        skipped: list[SkippedRecord] = []
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            query = [*params, ("limit", str(self._page_size))]
            if token is not None:
                query.append(("nextPageToken", token))
            body = await self._request("GET", path, params=query)
            items = body.get(envelope) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ApiInvalidResponseError(
                    f"{SERVICE} {path}: response has no {envelope} list"
                )
            parsed, bad = parse_records(items, parse, kind)
            records.extend(parsed)
            skipped.extend(bad)
            next_token = body.get("nextPageToken")
            if next_token is None or next_token == "":
                return records, skipped
            if not isinstance(next_token, str):
                raise ApiInvalidResponseError(
                    f"{SERVICE} {path}: nextPageToken is not a string"
                )
            if next_token in seen_tokens:
                raise ApiInvalidResponseError(
                    f"{SERVICE} {path}: nextPageToken repeated after "
                    f"{len(seen_tokens) + 1} pages; the list would never end"
                )
            seen_tokens.add(next_token)
            token = next_token

    @staticmethod
    def _result[T: _Identified](
        records: list[T], skipped: list[SkippedRecord]
    ) -> FetchResult[T]:
        # A record listed twice (it moved while we paged) counts once.
        unique = {record.id: record for record in records}
        return FetchResult(tuple(unique.values()), tuple(skipped))

    # --- reads ------------------------------------------------------------------

    async def async_get_locations(self) -> tuple[Location, ...]:
        """Every location of the network (also checks the credentials)."""
        body = await self._request("GET", _LOCATIONS)
        items = body.get("locations") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ApiInvalidResponseError(f"{SERVICE}: response has no locations list")
        locations, skipped = parse_records(items, parse_location, "location")
        for record in skipped:
            _LOGGER.debug("Skipped a Spacebring location: %s", record)
        return tuple(locations)

    async def async_get_location(self, location_id: str) -> Location:
        """One location."""
        item = await self._get_object(f"{_LOCATIONS}/{location_id}", "location")
        try:
            return parse_location(item)
        except MalformedRecordError as err:
            raise ApiInvalidResponseError(
                f"{SERVICE}: location record unusable: {err.detail}"
            ) from err

    async def async_get_plans(self, location_id: str) -> FetchResult[Plan]:
        """The plans of a location."""
        return self._result(
            *await self._get_all(
                _PLANS, "plans", [("locationRef", location_id)], parse_plan, "plan"
            )
        )

    async def async_get_resources(self, location_id: str) -> FetchResult[Resource]:
        """The bookable resources of a location."""
        return self._result(
            *await self._get_all(
                _RESOURCES,
                "resources",
                [("locationRef", location_id)],
                parse_resource,
                "resource",
            )
        )

    async def async_get_companies(self, location_id: str) -> FetchResult[Company]:
        """The companies of a location."""
        return self._result(
            *await self._get_all(
                _COMPANIES,
                "companies",
                [("locationRef", location_id)],
                parse_company,
                "company",
            )
        )

    async def async_get_memberships(
        self, location_id: str, *, company_id: str | None = None
    ) -> FetchResult[Membership]:
        """The approved memberships of a location, or of one company there."""
        params = [("locationRef", location_id)]
        if company_id is not None:
            params.append(("companyRef", company_id))
        return self._result(
            *await self._get_all(
                _MEMBERSHIPS, "memberships", params, parse_membership, "membership"
            )
        )

    async def async_get_subscriptions(
        self,
        location_id: str,
        *,
        statuses: Sequence[SubscriptionStatus] = GRANTING_SUBSCRIPTION_STATUSES,
    ) -> FetchResult[Subscription]:
        """The subscriptions of a location in the given statuses."""
        if not statuses:
            raise ValueError("at least one subscription status is needed")
        params = [
            ("locationRef", location_id),
            ("status", ",".join(str(status) for status in statuses)),
        ]
        return self._result(
            *await self._get_all(
                _SUBSCRIPTIONS,
                "subscriptions",
                params,
                parse_subscription,
                "subscription",
            )
        )

    async def async_get_bookings(
        self,
        location_id: str,
        *,
        statuses: Sequence[BookingStatus] = SNAPSHOT_BOOKING_STATUSES,
        ending_after: datetime | None = None,
        starting_before: datetime | None = None,
        resource_id: str | None = None,
    ) -> FetchResult[Booking]:
        """Single bookings of a location that overlap a window, per status.

        The booking record has no status field, so each status is listed on
        its own and every booking is tagged with the list it came from. A
        booking that changed status between two lists is kept once, with
        the status of the later list.
        """
        if not statuses:
            raise ValueError("at least one booking status is needed")
        filters = [("locationRef", location_id), ("singleBookings", "true")]
        if resource_id is not None:
            filters.append(("resourceRef", resource_id))
        if ending_after is not None:
            filters.append(("endDate[gt]", format_timestamp(ending_after)))
        if starting_before is not None:
            filters.append(("startDate[lt]", format_timestamp(starting_before)))
        records: list[Booking] = []
        skipped: list[SkippedRecord] = []
        for status in statuses:

            def parse(item: JsonObject, status: BookingStatus = status) -> Booking:
                return parse_booking(item, status)

            found, bad = await self._get_all(
                _BOOKINGS,
                "bookings",
                [*filters, ("status", str(status))],
                parse,
                "booking",
            )
            records.extend(found)
            skipped.extend(bad)
        return self._result(records, skipped)

    async def async_get_snapshot(
        self,
        location_id: str,
        *,
        bookings_from: datetime,
        bookings_until: datetime,
        booking_statuses: Sequence[BookingStatus] = SNAPSHOT_BOOKING_STATUSES,
    ) -> SpacebringSnapshot:
        """Everything the access rules need for one location.

        Bookings are those overlapping [bookings_from, bookings_until).
        Records that could not be used are collected in `skipped`.
        """
        location = await self.async_get_location(location_id)
        plans = await self.async_get_plans(location_id)
        resources = await self.async_get_resources(location_id)
        subscriptions = await self.async_get_subscriptions(location_id)
        companies = await self.async_get_companies(location_id)
        memberships = await self.async_get_memberships(location_id)
        bookings = await self.async_get_bookings(
            location_id,
            statuses=booking_statuses,
            ending_after=bookings_from,
            starting_before=bookings_until,
        )
        return SpacebringSnapshot(
            location=location,
            plans=plans.items,
            resources=resources.items,
            subscriptions=subscriptions.items,
            companies=companies.items,
            memberships=memberships.items,
            bookings=bookings.items,
            skipped=(
                *plans.skipped,
                *resources.skipped,
                *subscriptions.skipped,
                *companies.skipped,
                *memberships.skipped,
                *bookings.skipped,
            ),
        )

    # --- changes ------------------------------------------------------------------

    async def async_create_booking(
        self,
        resource_id: str,
        start: datetime,
        end: datetime,
        *,
        membership_id: str | None = None,
        title: str | None = None,
        seats: int | None = None,
    ) -> Booking:
        """Book a resource, for a member when `membership_id` is given."""
        booking: dict[str, Any] = {
            "resourceRef": resource_id,
            "startDate": format_timestamp(start),
            "endDate": format_timestamp(end),
        }
        if membership_id is not None:
            booking["membershipRefOwner"] = membership_id
        if title is not None:
            booking["title"] = title
        if seats is not None:
            booking["seats"] = seats
        body = await self._request("POST", _BOOKINGS, json_body={"booking": booking})
        created = body.get("booking") if isinstance(body, dict) else None
        if not isinstance(created, dict):
            raise ApiInvalidResponseError(f"{SERVICE}: created booking missing")
        try:
            return parse_booking(created, BookingStatus.CONFIRMED)
        except MalformedRecordError as err:
            raise ApiInvalidResponseError(
                f"{SERVICE}: created booking unusable: {err.detail}"
            ) from err

    async def async_cancel_booking(self, booking_id: str) -> None:
        """Cancel a booking (Spacebring keeps it, listed as cancelled)."""
        await self._request("DELETE", f"{_BOOKINGS}/{booking_id}")

    async def async_create_subscription(
        self,
        start: datetime,
        items: Sequence[NewSubscriptionItem],
        *,
        membership_id: str | None = None,
        company_id: str | None = None,
        end: datetime | None = None,
        period: str = "month",
    ) -> Subscription:
        """Subscribe a member or a company (exactly one of the two)."""
        if (membership_id is None) == (company_id is None):
            raise ValueError("give exactly one of membership_id and company_id")
        subscription: dict[str, Any] = {
            "period": period,
            "startDate": format_timestamp(start),
            "items": [item.to_json() for item in items],
        }
        if membership_id is not None:
            subscription["membershipRef"] = membership_id
        else:
            subscription["companyRef"] = company_id
        if end is not None:
            subscription["endDate"] = format_timestamp(end)
        body = await self._request(
            "POST", _SUBSCRIPTIONS, json_body={"subscription": subscription}
        )
        created = body.get("subscription") if isinstance(body, dict) else None
        if not isinstance(created, dict):
            raise ApiInvalidResponseError(f"{SERVICE}: created subscription missing")
        try:
            return parse_subscription(created)
        except MalformedRecordError as err:
            raise ApiInvalidResponseError(
                f"{SERVICE}: created subscription unusable: {err.detail}"
            ) from err

    async def async_cancel_subscription(self, subscription_id: str) -> None:
        """Cancel a subscription now."""
        await self._request("DELETE", f"{_SUBSCRIPTIONS}/{subscription_id}")
