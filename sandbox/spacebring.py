"""Spacebring's REST API, at the same paths as api.spacebring.com.

HTTP Basic with the demo credentials (401 otherwise), 10 requests/s per
credentials (429 beyond), cursor paging, the list filters the integration
uses, error bodies `{message, type}`, POST/DELETE of bookings and
subscriptions. Only what the published OpenAPI document describes.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Awaitable, Callable, Collection
import hmac
import time
from typing import Any, Final

from aiohttp import web

from .clock import SandboxClock
from .const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from .paging import PageTokenError, paginate
from .spacebring_records import Record, parse_iso
from .spacebring_state import (
    BOOKING_STATUSES,
    SUBSCRIPTION_STATUSES,
    BookingQuery,
    DateBound,
    SpacebringError,
    SpacebringState,
    SubscriptionQuery,
    bad_request,
)

type Handler = Callable[[web.Request], Awaitable[web.Response]]

_BOOKING_ORDER_FIELDS: Final = frozenset({"startDate", "endDate", "createDate"})


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response({"message": message, "type": kind}, status=status)


class RequestRateLimit:
    """The service's limit: N requests in any sliding second per credentials."""

    def __init__(self, rate_per_second: int) -> None:
        """`rate_per_second` requests are allowed in every 1-s window."""
        self.rate_per_second = rate_per_second
        self.refused = 0
        self._arrivals: dict[str, deque[float]] = {}

    def admit(self, client_id: str) -> bool:
        """Record an arrival; False when it breaks the limit."""
        now = time.monotonic()
        arrivals = self._arrivals.setdefault(client_id, deque())
        while arrivals and arrivals[0] <= now - 1.0:
            arrivals.popleft()
        if len(arrivals) >= self.rate_per_second:
            self.refused += 1
            return False
        arrivals.append(now)
        return True


def _split(raw: str | None, allowed: Collection[str], name: str) -> set[str] | None:
    if raw is None:
        return None
    values = {part.strip() for part in raw.split(",") if part.strip()}
    if unknown := values - set(allowed):
        raise bad_request(f"{name}: unknown value(s) {', '.join(sorted(unknown))}")
    return values


def _date_bounds(query: Any, fields: Collection[str]) -> tuple[DateBound, ...]:
    bounds = []
    for name in fields:
        for operator in ("gt", "gte", "lt", "lte"):
            raw = query.get(f"{name}[{operator}]")
            if raw is None:
                continue
            try:
                bound = parse_iso(raw)
            except ValueError:
                raise bad_request(
                    f"{name}[{operator}] is not an ISO 8601 date"
                ) from None
            bounds.append(DateBound(name, operator, bound))
    return tuple(bounds)


def _by_created(record: Record) -> tuple[str, ...]:
    return (str(record.get("createDate", "")), str(record["id"]))


def _page(
    name: str,
    items: list[Record],
    request: web.Request,
    *,
    key: Callable[[Record], tuple[str, ...]] = _by_created,
    descending: bool = False,
) -> web.Response:
    """One page of `items` under `name`, with the next token if there is more."""
    page, token = paginate(items, key, query=request.query, descending=descending)
    body: Record = {name: page}
    if token is not None:
        body["nextPageToken"] = token
    return web.json_response(body)


class SpacebringApi:
    """Request handlers over one `SpacebringState`."""

    def __init__(
        self, state: SpacebringState, clock: SandboxClock, *, rate_per_second: int = 10
    ) -> None:
        """Serve `state`, reading time from `clock`."""
        self.state = state
        self.clock = clock
        self.rate_limit = RequestRateLimit(rate_per_second)

    def register(self, app: web.Application) -> None:
        """Add Spacebring's routes at the root of `app`."""
        guarded = self._guarded
        app.add_routes(
            [
                web.get("/locations/v1", guarded(self.list_locations)),
                web.get("/locations/v1/{id}", guarded(self.get_location)),
                web.get("/plans/v1", guarded(self.list_plans)),
                web.get("/plans/v1/{id}", guarded(self.get_plan)),
                web.get("/resources/v1", guarded(self.list_resources)),
                web.get("/resources/v1/{id}", guarded(self.get_resource)),
                web.get("/resources/bookings/v1", guarded(self.list_bookings)),
                web.post("/resources/bookings/v1", guarded(self.create_booking)),
                web.get("/resources/bookings/v1/{id}", guarded(self.get_booking)),
                web.delete("/resources/bookings/v1/{id}", guarded(self.delete_booking)),
                web.get("/subscriptions/v1", guarded(self.list_subscriptions)),
                web.post("/subscriptions/v1", guarded(self.create_subscription)),
                web.get("/subscriptions/v1/{id}", guarded(self.get_subscription)),
                web.delete("/subscriptions/v1/{id}", guarded(self.delete_subscription)),
                web.get("/community/companies/v1", guarded(self.list_companies)),
                web.get("/community/companies/v1/{id}", guarded(self.get_company)),
                web.get("/community/memberships/v1", guarded(self.list_memberships)),
                web.get("/community/memberships/v1/{id}", guarded(self.get_membership)),
            ]
        )

    def _guarded(self, handler: Handler) -> Handler:
        """Authenticate, apply the rate limit, turn refusals into error bodies."""

        async def endpoint(request: web.Request) -> web.Response:
            client_id = self._authenticated_client(request)
            if client_id is None:
                response = _error(401, "Invalid client credentials", "unauthorized")
                response.headers["WWW-Authenticate"] = 'Basic realm="Spacebring"'
                return response
            if not self.rate_limit.admit(client_id):
                response = _error(429, "Too many requests", "rate_limit")
                response.headers["Retry-After"] = "1"
                return response
            try:
                return await handler(request)
            except SpacebringError as err:
                return _error(err.status, err.message, err.kind)
            except PageTokenError as err:
                return _error(400, str(err), "invalid_request")

        return endpoint

    @staticmethod
    def _authenticated_client(request: web.Request) -> str | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        valid = hmac.compare_digest(
            client_id, SPACEBRING_CLIENT_ID
        ) & hmac.compare_digest(secret, SPACEBRING_CLIENT_SECRET)
        return client_id if valid else None

    # --- locations, plans, resources ---------------------------------------

    async def list_locations(self, request: web.Request) -> web.Response:
        """All locations of the network (not paged)."""
        return web.json_response({"locations": list(self.state.locations.values())})

    async def get_location(self, request: web.Request) -> web.Response:
        """One location."""
        return web.json_response(
            {"location": self.state.location(request.match_info["id"])}
        )

    async def list_plans(self, request: web.Request) -> web.Response:
        """Plans, optionally of one location."""
        plans = self.state.list_plans(request.query.get("locationRef"))
        return _page("plans", plans, request)

    async def get_plan(self, request: web.Request) -> web.Response:
        """One plan."""
        return web.json_response({"plan": self.state.plan(request.match_info["id"])})

    async def list_resources(self, request: web.Request) -> web.Response:
        """Resources of a location."""
        types = request.query.get("types")
        resources = self.state.list_resources(
            request.query.get("locationRef"),
            {part for part in types.split(",") if part} if types else None,
        )
        return _page("resources", resources, request)

    async def get_resource(self, request: web.Request) -> web.Response:
        """One resource."""
        return web.json_response(
            {"resource": self.state.resource(request.match_info["id"])}
        )

    # --- bookings -----------------------------------------------------------

    async def list_bookings(self, request: web.Request) -> web.Response:
        """Bookings of a location or resource; by default tentative + confirmed."""
        query = request.query
        statuses = _split(query.get("status"), BOOKING_STATUSES, "status") or {
            "tentative",
            "confirmed",
        }
        if query.get("includeDeleted") == "true":
            statuses.add("canceled")
        types = query.get("type") or query.get("types")
        bookings = self.state.list_bookings(
            BookingQuery(
                location_ref=query.get("locationRef"),
                resource_ref=query.get("resourceRef"),
                statuses=statuses,
                bounds=_date_bounds(query, ("startDate", "endDate")),
                resource_types={part for part in types.split(",") if part}
                if types
                else None,
                customer_ref=query.get("customerRef")
                or query.get("membershipRefOwner"),
            )
        )
        field, _, direction = query.get("order", "startDate:asc").partition(":")
        if field not in _BOOKING_ORDER_FIELDS or direction not in {"asc", "desc"}:
            raise bad_request("order must be <startDate|endDate|createDate>:<asc|desc>")

        def key(booking: Record) -> tuple[str, ...]:
            return (str(booking[field]), str(booking["id"]))

        return _page(
            "bookings", bookings, request, key=key, descending=direction == "desc"
        )

    async def get_booking(self, request: web.Request) -> web.Response:
        """One booking (cancelled ones carry `deleteDate`)."""
        return web.json_response(
            {"booking": self.state.booking(request.match_info["id"])}
        )

    async def create_booking(self, request: web.Request) -> web.Response:
        """Book a resource."""
        body = await _json_object(request, "booking")
        booking = self.state.create_booking(body, self.clock.now())
        return web.json_response({"booking": booking}, status=201)

    async def delete_booking(self, request: web.Request) -> web.Response:
        """Cancel a booking."""
        self.state.cancel_booking(request.match_info["id"], self.clock.now())
        return web.Response(status=204)

    # --- subscriptions ---------------------------------------------------------

    async def list_subscriptions(self, request: web.Request) -> web.Response:
        """Subscriptions; by default active, scheduled and incomplete."""
        query = request.query
        statuses = _split(query.get("status"), SUBSCRIPTION_STATUSES, "status") or {
            "active",
            "scheduled",
            "incomplete",
        }
        subscriptions = self.state.list_subscriptions(
            SubscriptionQuery(
                location_ref=query.get("locationRef"),
                statuses=statuses,
                customer_ref=query.get("customerRef"),
                plan_ref=query.get("planRef"),
                bounds=_date_bounds(query, ("createDate",)),
            ),
            self.clock.now(),
        )
        return _page(
            "subscriptions",
            subscriptions,
            request,
            descending=query.get("order", "").endswith("desc"),
        )

    async def get_subscription(self, request: web.Request) -> web.Response:
        """One subscription, status as of the sandbox clock."""
        subscription = self.state.subscription(request.match_info["id"])
        return web.json_response(
            {
                "subscription": self.state.served_subscription(
                    subscription, self.clock.now()
                )
            }
        )

    async def create_subscription(self, request: web.Request) -> web.Response:
        """Subscribe a membership or a company."""
        body = await _json_object(request, "subscription")
        created = self.state.create_subscription(body, self.clock.now())
        return web.json_response({"subscription": created})

    async def delete_subscription(self, request: web.Request) -> web.Response:
        """Cancel a subscription."""
        self.state.cancel_subscription(request.match_info["id"], self.clock.now())
        return web.Response(status=204)

    # --- community ------------------------------------------------------------

    async def list_companies(self, request: web.Request) -> web.Response:
        """Companies of a location."""
        companies = self.state.list_companies(
            request.query.get("locationRef"), request.query.get("title")
        )
        return _page("companies", companies, request)

    async def get_company(self, request: web.Request) -> web.Response:
        """One company."""
        return web.json_response(
            {"company": self.state.company(request.match_info["id"])}
        )

    async def list_memberships(self, request: web.Request) -> web.Response:
        """Memberships of a location, filtered by company, user or status."""
        query = request.query
        memberships = self.state.list_memberships(
            query.get("locationRef"),
            company_ref=query.get("companyRef"),
            user_email=query.get("userEmail"),
            user_ref=query.get("userRef"),
            status=query.get("status"),
        )
        return _page("memberships", memberships, request)

    async def get_membership(self, request: web.Request) -> web.Response:
        """One membership."""
        return web.json_response(
            {"membership": self.state.membership(request.match_info["id"])}
        )


async def _json_object(request: web.Request, envelope: str) -> dict[str, Any]:
    """The `{envelope: {...}}` object of a request body, or HTTP 400."""
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("request body is not JSON") from None
    inner = body.get(envelope) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise bad_request(f"request body needs a {envelope} object")
    return inner
