"""The sandbox's Spacebring responses against Spacebring's published OpenAPI.

Every response body is validated with openapi-core against the vendor's
document (`additionalProperties: false` on records, uuid and date-time
formats), so the sandbox cannot drift from what the real service sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
import json
from pathlib import Path
from typing import Any

import aiohttp
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import ResponseValidationError
import pytest

from custom_components.spacebring_tapkey.api.http import RateLimiter, basic_auth_header
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE
from sandbox.spacebring_records import iso

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
SPEC = REFERENCE / "spacebring-openapi.json"
SPACEBRING = "https://api.spacebring.com"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"Spacebring's OpenAPI document is not here: {REFERENCE} is absent",
)


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The vendor's document (valid OpenAPI 3.0; not re-validated here)."""
    return OpenAPI.from_file_path(str(SPEC), config=Config(spec_validator_cls=None))


@dataclass(frozen=True)
class Exchange:
    """One request to the sandbox and what came back."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    content_type: str
    data: bytes

    def validate(self, openapi: OpenAPI) -> None:
        """Raise if the response is not what the document promises."""
        request = MockRequest(
            SPACEBRING,
            self.method.lower(),
            self.path,
            args=self.query,
            data=json.dumps(self.body).encode() if self.body is not None else None,
        )
        openapi.validate_response(
            request,
            MockResponse(
                self.data,
                status_code=self.status,
                content_type=self.content_type or "application/json",
            ),
        )

    def json(self) -> Any:
        """The decoded body."""
        return json.loads(self.data)


class SandboxCaller:
    """Sends paced, authenticated requests (the sandbox enforces 10/s)."""

    def __init__(self, sandbox: RunningSandbox, session: aiohttp.ClientSession) -> None:
        self._sandbox = sandbox
        self._session = session
        self._limiter = RateLimiter(8)

    async def __call__(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> Exchange:
        await self._limiter.acquire()
        async with self._session.request(
            method,
            self._sandbox.base_url + path,
            params=query,
            json=body,
            headers={
                "Authorization": basic_auth_header(
                    SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
                )
            },
        ) as response:
            data = await response.read()
            return Exchange(
                method,
                path,
                query or {},
                body,
                response.status,
                response.content_type if data else "",
                data,
            )


@pytest.fixture
def call(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> SandboxCaller:
    """Send requests to the sandbox."""
    return SandboxCaller(sandbox, sandbox_session)


@dataclass(frozen=True)
class Ids:
    """Ids of the demo world used in requests."""

    location: str
    plan: str
    resource: str
    booking: str
    cancelled_booking: str
    subscription: str
    company: str
    membership: str


def ids_of(sandbox: RunningSandbox) -> Ids:
    """Pick representative records of the main location."""
    state = sandbox.world.spacebring
    location = next(
        key
        for key, loc in state.locations.items()
        if loc["title"] == MAIN_LOCATION_TITLE
    )

    def first(
        table: dict[str, dict[str, Any]], test: Callable[[dict[str, Any]], bool]
    ) -> str:
        return next(key for key, record in table.items() if test(record))

    here: Callable[[dict[str, Any]], bool] = lambda r: r.get("locationRef") == location  # noqa: E731
    return Ids(
        location=location,
        plan=first(state.plans, lambda p: here(p) and "access" in p),
        resource=first(state.resources, here),
        booking=first(state.bookings, lambda b: bool(b["attendees"])),
        cancelled_booking=first(state.bookings, lambda b: "deleteDate" in b),
        subscription=first(state.subscriptions, here),
        company=first(state.companies, here),
        membership=first(state.memberships, here),
    )


type Case = Callable[[Ids, RunningSandbox], tuple[str, str, dict[str, str], Any]]

READ_CASES: dict[str, Case] = {
    "locations": lambda i, s: ("GET", "/locations/v1", {}, None),
    "location": lambda i, s: ("GET", f"/locations/v1/{i.location}", {}, None),
    "plans": lambda i, s: ("GET", "/plans/v1", {"locationRef": i.location}, None),
    "plan": lambda i, s: ("GET", f"/plans/v1/{i.plan}", {}, None),
    "resources": lambda i, s: (
        "GET",
        "/resources/v1",
        {"locationRef": i.location},
        None,
    ),
    "resource": lambda i, s: ("GET", f"/resources/v1/{i.resource}", {}, None),
    "bookings in a window": lambda i, s: (
        "GET",
        "/resources/bookings/v1",
        {
            "locationRef": i.location,
            "singleBookings": "true",
            "status": "confirmed,tentative,canceled",
            "endDate[gt]": iso(s.clock.now() - timedelta(days=2)),
            "startDate[lt]": iso(s.clock.now() + timedelta(days=5)),
            "limit": "100",
        },
        None,
    ),
    "booking with invitees": lambda i, s: (
        "GET",
        f"/resources/bookings/v1/{i.booking}",
        {},
        None,
    ),
    "cancelled booking": lambda i, s: (
        "GET",
        f"/resources/bookings/v1/{i.cancelled_booking}",
        {},
        None,
    ),
    "subscriptions": lambda i, s: (
        "GET",
        "/subscriptions/v1",
        {
            "locationRef": i.location,
            "status": "active,scheduled,incomplete,incompleteExpired,canceled",
            "limit": "100",
        },
        None,
    ),
    "subscription": lambda i, s: (
        "GET",
        f"/subscriptions/v1/{i.subscription}",
        {},
        None,
    ),
    "companies": lambda i, s: (
        "GET",
        "/community/companies/v1",
        {"locationRef": i.location},
        None,
    ),
    "company": lambda i, s: ("GET", f"/community/companies/v1/{i.company}", {}, None),
    "memberships": lambda i, s: (
        "GET",
        "/community/memberships/v1",
        {"locationRef": i.location, "limit": "100"},
        None,
    ),
    "membership requests": lambda i, s: (
        "GET",
        "/community/memberships/v1",
        {"locationRef": i.location, "status": "requested"},
        None,
    ),
    "membership": lambda i, s: (
        "GET",
        f"/community/memberships/v1/{i.membership}",
        {},
        None,
    ),
    "invalid filter (400)": lambda i, s: (
        "GET",
        "/resources/bookings/v1",
        {"locationRef": i.location, "status": "lost"},
        None,
    ),
}

WRITE_CASES: dict[str, Case] = {
    "create booking": lambda i, s: (
        "POST",
        "/resources/bookings/v1",
        {},
        {
            "booking": {
                "resourceRef": i.resource,
                "startDate": iso(s.clock.now() + timedelta(days=3)),
                "endDate": iso(s.clock.now() + timedelta(days=3, hours=2)),
                "membershipRefOwner": i.membership,
                "title": "Planning",
            }
        },
    ),
    "create member subscription": lambda i, s: (
        "POST",
        "/subscriptions/v1",
        {},
        {
            "subscription": {
                "period": "month",
                "startDate": iso(s.clock.now() + timedelta(days=10)),
                "membershipRef": i.membership,
                "items": [{"planRef": i.plan}],
            }
        },
    ),
    "create company subscription": lambda i, s: (
        "POST",
        "/subscriptions/v1",
        {},
        {
            "subscription": {
                "period": "month",
                "startDate": iso(s.clock.now()),
                "companyRef": i.company,
                "items": [{"resourceRef": i.resource, "tapkeyGroupRef": i.plan}],
            }
        },
    ),
    "cancel booking": lambda i, s: (
        "DELETE",
        f"/resources/bookings/v1/{i.booking}",
        {},
        None,
    ),
    "cancel subscription": lambda i, s: (
        "DELETE",
        f"/subscriptions/v1/{i.subscription}",
        {},
        None,
    ),
    "invalid booking (400)": lambda i, s: (
        "POST",
        "/resources/bookings/v1",
        {},
        {
            "booking": {
                "resourceRef": i.resource,
                "startDate": "tomorrow",
                "endDate": "later",
            }
        },
    ),
}


@pytest.mark.parametrize("case", list(READ_CASES), ids=list(READ_CASES))
async def test_read_matches_the_published_schema(
    openapi: OpenAPI, call: SandboxCaller, sandbox: RunningSandbox, case: str
) -> None:
    """Each list and record the integration reads."""
    method, path, query, body = READ_CASES[case](ids_of(sandbox), sandbox)
    exchange = await call(method, path, query, body)
    assert exchange.status in {200, 400}
    exchange.validate(openapi)


@pytest.mark.parametrize("case", list(WRITE_CASES), ids=list(WRITE_CASES))
async def test_write_matches_the_published_schema(
    openapi: OpenAPI, call: SandboxCaller, sandbox: RunningSandbox, case: str
) -> None:
    """POST and DELETE of bookings and subscriptions."""
    method, path, query, body = WRITE_CASES[case](ids_of(sandbox), sandbox)
    exchange = await call(method, path, query, body)
    assert exchange.status in {200, 201, 204, 400}
    exchange.validate(openapi)


async def _pages(
    call: SandboxCaller, path: str, query: dict[str, str]
) -> list[Exchange]:
    pages = [await call("GET", path, query)]
    while token := pages[-1].json().get("nextPageToken"):
        pages.append(await call("GET", path, {**query, "nextPageToken": token}))
    return pages


async def test_every_record_of_the_demo_world_matches_the_schema(
    openapi: OpenAPI, call: SandboxCaller, sandbox: RunningSandbox
) -> None:
    """All pages of every list, both locations, all statuses."""
    lists = {
        "/plans/v1": {},
        "/resources/v1": {},
        "/community/companies/v1": {},
        "/community/memberships/v1": {},
        "/subscriptions/v1": {
            "status": "active,scheduled,incomplete,incompleteExpired,canceled"
        },
        "/resources/bookings/v1": {"status": "confirmed,tentative,canceled"},
    }
    seen = 0
    for location in sandbox.world.spacebring.locations:
        for path, extra in lists.items():
            for page in await _pages(
                call, path, {"locationRef": location, "limit": "100", **extra}
            ):
                page.validate(openapi)
                seen += sum(len(v) for v in page.json().values() if isinstance(v, list))
    state = sandbox.world.spacebring
    requested = sum(1 for m in state.memberships.values() if m["status"] != "approved")
    assert seen == (
        len(state.plans)
        + len(state.resources)
        + len(state.companies)
        + len(state.memberships)
        - requested
        + len(state.subscriptions)
        + len(state.bookings)
    )


def _bookings_page(exchange: Exchange) -> Iterator[dict[str, Any]]:
    yield from exchange.json()["bookings"]


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown property": lambda b: b.update(status="confirmed"),
    "id of the resource not a uuid": lambda b: b.update(resourceRef="room-1"),
    "required start missing": lambda b: b.pop("startDate"),
    "date that is no date-time": lambda b: b.update(endDate="next Tuesday"),
    "invitee e-mail that is no e-mail": lambda b: b["attendees"].append(
        {"user": {"id": b["resourceRef"], "email": "not an address"}}
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES), ids=list(BREAKAGES))
async def test_response_breaking_the_schema_fails_validation(
    openapi: OpenAPI, call: SandboxCaller, sandbox: RunningSandbox, breakage: str
) -> None:
    """The check has teeth: one damaged record fails the whole response."""
    exchange = await call(
        "GET", "/resources/bookings/v1", {"locationRef": ids_of(sandbox).location}
    )
    exchange.validate(openapi)
    payload = exchange.json()
    BREAKAGES[breakage](payload["bookings"][0])
    broken = Exchange(
        exchange.method,
        exchange.path,
        exchange.query,
        None,
        200,
        "application/json",
        json.dumps(payload).encode(),
    )
    with pytest.raises(ResponseValidationError):
        broken.validate(openapi)


async def test_injected_broken_record_fails_validation(
    openapi: OpenAPI, call: SandboxCaller, sandbox: RunningSandbox
) -> None:
    """The sandbox's own broken-record fault produces what the schema forbids."""
    sandbox.faults.fail_next(FaultKind.BROKEN_RECORD, route="/resources/bookings/v1")
    exchange = await call(
        "GET", "/resources/bookings/v1", {"locationRef": ids_of(sandbox).location}
    )
    with pytest.raises(ResponseValidationError):
        exchange.validate(openapi)
