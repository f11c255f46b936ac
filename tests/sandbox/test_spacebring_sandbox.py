"""The sandbox's Spacebring API behaves like the real one: auth, limits, filters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.http import RateLimiter, basic_auth_header
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.server import RunningSandbox
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE
from sandbox.spacebring_records import iso, parse_iso
from tests.api.conftest import SandboxFactory

AUTH = {
    "Authorization": basic_auth_header(SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET)
}
BOOKINGS = "/resources/bookings/v1"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


class Caller:
    """Paced requests with the demo credentials; returns (status, body)."""

    def __init__(self, sandbox: RunningSandbox, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session
        self.limiter = RateLimiter(8)

    async def __call__(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        *,
        body: Any = None,
        data: bytes | None = None,
        auth: dict[str, str] | None = AUTH,
    ) -> tuple[int, Any]:
        await self.limiter.acquire()
        async with self.session.request(
            method,
            self.sandbox.base_url + path,
            params=query,
            json=body,
            data=data,
            headers=auth,
        ) as response:
            raw = await response.read()
            return response.status, (await response.json() if raw else None)

    async def all_pages(self, path: str, query: dict[str, str]) -> list[list[Any]]:
        """Each page's records, following tokens."""
        envelope = path.rstrip("/").split("/")[-2]
        pages: list[list[Any]] = []
        token = None
        while True:
            status, body = await self(
                "GET", path, query | ({"nextPageToken": token} if token else {})
            )
            assert status == 200
            pages.append(body[envelope])
            if not (token := body.get("nextPageToken")):
                return pages


@pytest.fixture
def call(sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession) -> Caller:
    """Requests to the small demo sandbox."""
    return Caller(sandbox, sandbox_session)


def location_of(sandbox: RunningSandbox) -> str:
    """The main location's id."""
    return next(
        key
        for key, loc in sandbox.world.spacebring.locations.items()
        if loc["title"] == MAIN_LOCATION_TITLE
    )


# --- authentication and rate ----------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {"Authorization": basic_auth_header(SPACEBRING_CLIENT_ID, "guess")},
        {"Authorization": basic_auth_header("someone", SPACEBRING_CLIENT_SECRET)},
    ],
)
async def test_without_the_demo_credentials_it_is_401(
    call: Caller, auth: dict[str, str] | None
) -> None:
    """Error body in Spacebring's shape."""
    status, body = await call("GET", "/locations/v1", auth=auth)
    assert status == 401
    assert body == {"message": "Invalid client credentials", "type": "unauthorized"}


async def test_garbled_basic_header_is_401(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Not base64, or not Basic at all."""
    for header in ("Basic %%%", "Bearer token"):
        async with sandbox_session.get(
            sandbox.base_url + "/locations/v1", headers={"Authorization": header}
        ) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_more_than_ten_requests_in_a_second_get_429(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """The eleventh request of a burst is refused with Retry-After."""

    async def one() -> tuple[int, str | None, Any]:
        async with sandbox_session.get(
            sandbox.base_url + "/locations/v1", headers=AUTH
        ) as response:
            return (
                response.status,
                response.headers.get("Retry-After"),
                await response.json(),
            )

    results = await asyncio.gather(*(one() for _ in range(14)))
    refused = [r for r in results if r[0] == 429]
    assert sum(1 for r in results if r[0] == 200) == 10
    assert refused
    assert refused[0][1:] == (
        "1",
        {"message": "Too many requests", "type": "rate_limit"},
    )


# --- paging -------------------------------------------------------------------------


async def test_limit_defaults_to_25_and_is_capped_at_100(
    sandbox_factory: SandboxFactory, sandbox_session: aiohttp.ClientSession
) -> None:
    """As documented: 25 when omitted or invalid, at most 100."""
    sandbox = await sandbox_factory(scale="250")
    call = Caller(sandbox, sandbox_session)
    query = {
        "locationRef": location_of(sandbox),
        "status": "confirmed,tentative,canceled",
    }
    for limit, size in ((None, 25), ("abc", 25), ("0", 25), ("7", 7), ("500", 100)):
        status, body = await call(
            "GET", BOOKINGS, query | ({"limit": limit} if limit else {})
        )
        assert status == 200
        assert len(body["bookings"]) == size
        assert "nextPageToken" in body


async def test_pages_hold_each_booking_once_in_start_order(
    sandbox_factory: SandboxFactory, sandbox_session: aiohttp.ClientSession
) -> None:
    """A keyset cursor: no repeats, no gaps, ordered by start."""
    sandbox = await sandbox_factory(scale="250")
    call = Caller(sandbox, sandbox_session)
    pages = await call.all_pages(
        BOOKINGS,
        {
            "locationRef": location_of(sandbox),
            "status": "confirmed,tentative,canceled",
            "limit": "100",
        },
    )
    assert [len(page) for page in pages] == [100, 100, 50]
    starts = [(b["startDate"], b["id"]) for page in pages for b in page]
    assert starts == sorted(starts)
    assert len({b["id"] for page in pages for b in page}) == 250


async def test_descending_order_pages_backwards(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """`order=endDate:desc` with small pages still covers everything once."""
    query = {"locationRef": location_of(sandbox), "order": "endDate:desc", "limit": "9"}
    pages = await call.all_pages(BOOKINGS, query)
    ends = [(b["endDate"], b["id"]) for page in pages for b in page]
    assert ends == sorted(ends, reverse=True)
    assert len(set(ends)) == len(ends) > 9


@pytest.mark.parametrize(
    "token",
    ["garbage!", "eyJhZnRlciI6IFsiYSJdLCAiZmlsdGVycyI6ICJ4In0"],
    ids=["unreadable", "issued for other filters"],
)
async def test_foreign_page_token_is_400(
    call: Caller, sandbox: RunningSandbox, token: str
) -> None:
    """A token only continues the list it came from."""
    status, body = await call(
        "GET", BOOKINGS, {"locationRef": location_of(sandbox), "nextPageToken": token}
    )
    assert status == 400
    assert body["type"] == "invalid_request"


async def test_token_replayed_with_other_filters_is_400(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """Keep the same filters when fetching the next page."""
    location = location_of(sandbox)
    _, first = await call("GET", BOOKINGS, {"locationRef": location, "limit": "5"})
    status, _ = await call(
        "GET",
        BOOKINGS,
        {
            "locationRef": location,
            "limit": "5",
            "status": "canceled",
            "nextPageToken": first["nextPageToken"],
        },
    )
    assert status == 400


# --- filters --------------------------------------------------------------------------


async def test_booking_status_filter_and_its_default(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """Default tentative+confirmed; canceled on request or includeDeleted."""
    state = sandbox.world.spacebring
    location = location_of(sandbox)

    async def statuses(query: dict[str, str]) -> set[str]:
        pages = await call.all_pages(
            BOOKINGS, {"locationRef": location, "limit": "100"} | query
        )
        return {state.booking_status[b["id"]] for page in pages for b in page}

    assert await statuses({}) == {"confirmed", "tentative"}
    assert await statuses({"status": "canceled"}) == {"canceled"}
    assert await statuses({"includeDeleted": "true"}) == {
        "confirmed",
        "tentative",
        "canceled",
    }


async def test_booking_date_type_and_customer_filters(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """Bracket date filters, resource type and booker combine."""
    state = sandbox.world.spacebring
    now = sandbox.clock.now()
    owner = next(iter(state.bookings.values()))["membershipRefOwner"]
    query = {
        "locationRef": location_of(sandbox),
        "startDate[gte]": iso(now - timedelta(days=3)),
        "endDate[lte]": iso(now + timedelta(days=10)),
        "type": "room,meetingRoom",
        "limit": "100",
    }
    pages = await call.all_pages(BOOKINGS, query)
    found = [b for page in pages for b in page]
    assert found
    for booking in found:
        assert parse_iso(booking["startDate"]) >= now - timedelta(days=3)
        assert parse_iso(booking["endDate"]) <= now + timedelta(days=10)
        assert state.resources[booking["resourceRef"]]["type"] in {
            "room",
            "meetingRoom",
        }
    mine = await call.all_pages(
        BOOKINGS, {"locationRef": location_of(sandbox), "customerRef": owner}
    )
    assert {b["membershipRefOwner"] for page in mine for b in page} == {owner}


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        (BOOKINGS, {}, "locationRef or resourceRef is required"),
        (
            BOOKINGS,
            {"locationRef": "{loc}", "status": "lost"},
            "status: unknown value(s) lost",
        ),
        (
            BOOKINGS,
            {"locationRef": "{loc}", "startDate[lt]": "soon"},
            "startDate[lt] is not",
        ),
        (BOOKINGS, {"locationRef": "{loc}", "order": "title:asc"}, "order must be"),
        ("/resources/v1", {}, "locationRef is required"),
        ("/community/companies/v1", {}, "locationRef is required"),
        ("/community/memberships/v1", {}, "locationRef is required"),
    ],
)
async def test_invalid_list_requests_are_400(
    call: Caller,
    sandbox: RunningSandbox,
    path: str,
    query: dict[str, str],
    message: str,
) -> None:
    """Spacebring's error body says what is wrong."""
    filled = {k: v.replace("{loc}", location_of(sandbox)) for k, v in query.items()}
    status, body = await call("GET", path, filled)
    assert status == 400
    assert body["message"].startswith(message)


async def test_unknown_location_is_404(call: Caller) -> None:
    """Listing resources of a location that does not exist."""
    status, body = await call("GET", "/resources/v1", {"locationRef": UNKNOWN})
    assert (status, body["type"]) == (404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/locations/v1/{id}",
        "/plans/v1/{id}",
        "/resources/v1/{id}",
        "/resources/bookings/v1/{id}",
        "/subscriptions/v1/{id}",
        "/community/companies/v1/{id}",
        "/community/memberships/v1/{id}",
    ],
)
async def test_unknown_record_is_404(call: Caller, path: str) -> None:
    """Each single-record route."""
    status, body = await call("GET", path.format(id=UNKNOWN))
    assert status == 404
    assert set(body) == {"message", "type"}


async def test_resources_companies_and_memberships_filters(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """types, title (substring, any case), userEmail (any case), userRef."""
    location = location_of(sandbox)
    state = sandbox.world.spacebring
    _, body = await call(
        "GET", "/resources/v1", {"locationRef": location, "types": "parkingLot"}
    )
    assert {r["type"] for r in body["resources"]} == {"parkingLot"}

    _, body = await call(
        "GET", "/community/companies/v1", {"locationRef": location, "title": "bluefin"}
    )
    assert [c["title"] for c in body["companies"]] == ["Bluefin Studio"]

    member = next(
        m
        for m in state.memberships.values()
        if m["locationRef"] == location and m["user"].get("email")
    )
    for query in (
        {"userEmail": "  " + member["user"]["email"].upper()},
        {"userRef": member["user"]["id"]},
    ):
        _, body = await call(
            "GET", "/community/memberships/v1", {"locationRef": location} | query
        )
        assert [m["id"] for m in body["memberships"]] == [member["id"]]


async def test_subscription_status_follows_the_clock(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """A scheduled subscription is active once its start has passed."""
    location = location_of(sandbox)
    state = sandbox.world.spacebring
    scheduled = next(
        s
        for s in state.subscriptions.values()
        if s["locationRef"] == location and s["status"] == "scheduled"
    )
    query = {
        "locationRef": location,
        "customerRef": scheduled["customerRef"],
        "status": "active,scheduled",
    }
    _, before = await call("GET", "/subscriptions/v1", query)
    assert {
        s["status"] for s in before["subscriptions"] if s["id"] == scheduled["id"]
    } == {"scheduled"}

    sandbox.clock.set(parse_iso(scheduled["startDate"]) + timedelta(hours=1))
    _, after = await call("GET", "/subscriptions/v1", query)
    assert {
        s["status"] for s in after["subscriptions"] if s["id"] == scheduled["id"]
    } == {"active"}

    sandbox.clock.set(parse_iso(scheduled["endDate"]) + timedelta(hours=1))
    _, ended = await call("GET", "/subscriptions/v1", query | {"status": "canceled"})
    assert scheduled["id"] in {s["id"] for s in ended["subscriptions"]}


async def test_subscription_plan_and_creation_filters(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """planRef and createDate[gte]/[lte], newest first on request."""
    location = location_of(sandbox)
    state = sandbox.world.spacebring
    plan = next(p for p in state.plans.values() if p["title"] == "Private Office")
    _, body = await call(
        "GET",
        "/subscriptions/v1",
        {
            "locationRef": location,
            "planRef": plan["id"],
            "status": "active,scheduled,incomplete,incompleteExpired,canceled",
            "createDate[gte]": "2000-01-01T00:00:00Z",
            "createDate[lte]": iso(sandbox.clock.now()),
            "order": "createDate:desc",
        },
    )
    found = body["subscriptions"]
    assert found
    assert all(s["items"][0]["planRef"] == plan["id"] for s in found)
    created = [s["createDate"] for s in found]
    assert created == sorted(created, reverse=True)


# --- writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"title": "no envelope"}, 400, "request body needs a booking object"),
        ({"booking": {"startDate": "x"}}, 400, "resourceRef is required"),
        (
            {
                "booking": {
                    "resourceRef": "{res}",
                    "startDate": "2030-01-01T10:00:00Z",
                    "endDate": "2030-01-01T09:00:00Z",
                }
            },
            400,
            "endDate must be after",
        ),
        (
            {
                "booking": {
                    "resourceRef": "{res}",
                    "startDate": "2030-01-01T10:00:00Z",
                    "endDate": "2030-01-01T11:00:00Z",
                    "membershipRefOwner": UNKNOWN,
                }
            },
            404,
            "membership",
        ),
    ],
)
async def test_invalid_booking_is_refused(
    call: Caller,
    sandbox: RunningSandbox,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    """Nothing is created from a bad request."""
    resource = next(iter(sandbox.world.spacebring.resources))
    filled = _fill(body, resource)
    count = len(sandbox.world.spacebring.bookings)
    got_status, got = await call("POST", BOOKINGS, body=filled)
    assert (got_status, got["message"].startswith(message)) == (status, True)
    assert len(sandbox.world.spacebring.bookings) == count


def _fill(body: Any, resource: str) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, resource) for k, v in body.items()}
    return resource if body == "{res}" else body


async def test_body_that_is_not_json_is_400(call: Caller) -> None:
    """Bookings and subscriptions alike."""
    for path in (BOOKINGS, "/subscriptions/v1"):
        status, body = await call("POST", path, data=b"booking please")
        assert (status, body["type"]) == (400, "invalid_request")


async def test_cancelling_twice_is_harmless_and_unknown_is_404(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """DELETE is idempotent for a known booking."""
    booking_id = next(iter(sandbox.world.spacebring.bookings))
    assert (await call("DELETE", f"{BOOKINGS}/{booking_id}"))[0] == 204
    first_cancel = sandbox.world.spacebring.bookings[booking_id]["deleteDate"]
    assert (await call("DELETE", f"{BOOKINGS}/{booking_id}"))[0] == 204
    assert sandbox.world.spacebring.bookings[booking_id]["deleteDate"] == first_cancel
    assert (await call("DELETE", f"{BOOKINGS}/{UNKNOWN}"))[0] == 404
    assert (await call("DELETE", f"/subscriptions/v1/{UNKNOWN}"))[0] == 404


@pytest.mark.parametrize(
    ("subscription", "status", "message"),
    [
        ({"startDate": "2030-01-01T00:00:00Z"}, 400, "companyRef or membershipRef"),
        ({"companyRef": "{company}"}, 400, "startDate is required"),
        ({"companyRef": "{company}", "startDate": "soon"}, 400, "startDate is not"),
        (
            {
                "companyRef": "{company}",
                "startDate": "2030-01-01T00:00:00Z",
                "endDate": "2029-01-01T00:00:00Z",
            },
            400,
            "endDate must be after",
        ),
        (
            {
                "companyRef": "{company}",
                "startDate": "2030-01-01T00:00:00Z",
                "items": [{"planRef": UNKNOWN}],
            },
            404,
            "plan",
        ),
        ({"companyRef": UNKNOWN, "startDate": "2030-01-01T00:00:00Z"}, 404, "company"),
    ],
)
async def test_invalid_subscription_is_refused(
    call: Caller,
    sandbox: RunningSandbox,
    subscription: dict[str, Any],
    status: int,
    message: str,
) -> None:
    """Missing customer, dates or unknown references."""
    company = next(iter(sandbox.world.spacebring.companies))
    body = {
        "subscription": {
            k: (company if v == "{company}" else v) for k, v in subscription.items()
        }
    }
    got_status, got = await call("POST", "/subscriptions/v1", body=body)
    assert got_status == status
    assert got["message"].startswith(message)


async def test_cancelled_subscription_stays_listed_as_cancelled(
    call: Caller, sandbox: RunningSandbox
) -> None:
    """DELETE sets status canceled and a deleteDate; repeating changes nothing."""
    state = sandbox.world.spacebring
    active = next(s for s in state.subscriptions.values() if s["status"] == "active")
    for _ in range(2):
        assert (await call("DELETE", f"/subscriptions/v1/{active['id']}"))[0] == 204
    _, body = await call("GET", f"/subscriptions/v1/{active['id']}")
    assert body["subscription"]["status"] == "canceled"
    assert "deleteDate" in body["subscription"]
