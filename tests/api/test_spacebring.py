"""The Spacebring client against the sandbox, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiInvalidResponseError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiRequestError,
    ApiServerError,
)
from custom_components.spacebring_tapkey.api.http import RateLimiter, RetryPolicy
from custom_components.spacebring_tapkey.api.models import (
    BookingStatus,
    CustomerType,
    SkippedRecord,
    SubscriptionStatus,
)
from custom_components.spacebring_tapkey.api.spacebring import (
    NewSubscriptionItem,
    SpacebringClient,
    format_timestamp,
)
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE
from sandbox.spacebring_records import Record, parse_iso

from .conftest import RecordingSleep, SandboxFactory

BOOKINGS = "/resources/bookings/v1"


def make_client(
    sandbox: RunningSandbox,
    session: aiohttp.ClientSession,
    *,
    sleep: RecordingSleep | None = None,
    limiter: RateLimiter | None = None,
    secret: str = SPACEBRING_CLIENT_SECRET,
    page_size: int = 100,
) -> SpacebringClient:
    """A client of the sandbox whose requests time out before injected hangs."""
    return SpacebringClient(
        session,
        SPACEBRING_CLIENT_ID,
        secret,
        base_url=sandbox.base_url,
        limiter=limiter,
        policy=RetryPolicy(max_attempts=4, request_timeout=0.4),
        sleep=sleep or RecordingSleep(),
        page_size=page_size,
    )


def main_location(sandbox: RunningSandbox) -> str:
    """Id of the demo world's main location."""
    return next(
        location_id
        for location_id, location in sandbox.world.spacebring.locations.items()
        if location["title"] == MAIN_LOCATION_TITLE
    )


def world_bookings(
    sandbox: RunningSandbox, location_id: str, statuses: set[str]
) -> dict[str, Record]:
    """The sandbox's bookings of a location in some statuses, by id."""
    state = sandbox.world.spacebring
    return {
        booking_id: booking
        for booking_id, booking in state.bookings.items()
        if state.resources[booking["resourceRef"]]["locationRef"] == location_id
        and state.booking_status[booking_id] in statuses
    }


@pytest.fixture
def sleep() -> RecordingSleep:
    """The retry delays the client asked for."""
    return RecordingSleep()


@pytest.fixture
def client(
    sandbox: RunningSandbox,
    sandbox_session: aiohttp.ClientSession,
    sleep: RecordingSleep,
) -> SpacebringClient:
    """A client of the small demo sandbox."""
    return make_client(sandbox, sandbox_session, sleep=sleep)


# --- reading the demo world ---------------------------------------------------


async def test_locations_of_the_network(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Both demo locations, with their time zone."""
    locations = await client.async_get_locations()
    assert {location.id for location in locations} == set(
        sandbox.world.spacebring.locations
    )
    main = next(loc for loc in locations if loc.id == main_location(sandbox))
    assert main.title == MAIN_LOCATION_TITLE
    assert main.timezone == "Europe/Vienna"


async def test_one_location(client: SpacebringClient, sandbox: RunningSandbox) -> None:
    """A location read by id."""
    location = await client.async_get_location(main_location(sandbox))
    assert location.title == MAIN_LOCATION_TITLE


async def test_plans_carry_their_tapkey_group(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Plans with and without `access.tapkeyGroupRef`, of one location only."""
    location_id = main_location(sandbox)
    plans = await client.async_get_plans(location_id)
    expected = {
        plan["id"]: plan.get("access", {}).get("tapkeyGroupRef")
        for plan in sandbox.world.spacebring.plans.values()
        if plan["locationRef"] == location_id
    }
    assert {plan.id: plan.tapkey_group_ref for plan in plans.items} == expected
    assert None in expected.values()
    assert any(expected.values())


async def test_resources_of_every_type(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Rooms, desks, offices, parking and equipment with their groups."""
    resources = (await client.async_get_resources(main_location(sandbox))).items
    assert {r.type for r in resources} >= {
        "room",
        "hotDesk",
        "dedicatedDesk",
        "office",
        "parkingLot",
        "equipment",
    }
    world = sandbox.world.spacebring.resources
    for resource in resources:
        assert resource.tapkey_group_ref == world[resource.id]["tapkeyGroupRef"]


async def test_companies_and_their_members(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Memberships filtered by company are that company's members."""
    location_id = main_location(sandbox)
    companies = (await client.async_get_companies(location_id)).items
    company = companies[0]
    members = (
        await client.async_get_memberships(location_id, company_id=company.id)
    ).items
    assert members
    assert {member.company_id for member in members} == {company.id}
    assert all(member.approved for member in members)


async def test_memberships_are_the_approved_ones_of_the_location(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Membership requests not yet approved are not listed."""
    location_id = main_location(sandbox)
    memberships = (await client.async_get_memberships(location_id)).items
    expected = {
        membership_id
        for membership_id, membership in sandbox.world.spacebring.memberships.items()
        if membership["locationRef"] == location_id
        and membership["status"] == "approved"
    }
    assert {membership.id for membership in memberships} == expected


async def test_subscriptions_in_every_status_for_users_and_companies(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """The demo world holds each status for both kinds of customer."""
    result = await client.async_get_subscriptions(
        main_location(sandbox), statuses=list(SubscriptionStatus)
    )
    kinds = {(sub.customer_type, sub.status) for sub in result.items}
    for customer_type in CustomerType:
        for status in SubscriptionStatus:
            assert (customer_type, status) in kinds
    company_subscription = next(
        sub for sub in result.items if sub.customer_type is CustomerType.COMPANY
    )
    assert company_subscription.company_id is not None
    assert company_subscription.items
    assert all(sub.start.tzinfo is UTC for sub in result.items)


async def test_subscriptions_default_to_those_that_grant(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Active and scheduled only, unless asked otherwise."""
    result = await client.async_get_subscriptions(main_location(sandbox))
    assert {sub.status for sub in result.items} == {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.SCHEDULED,
    }


async def test_bookings_are_tagged_with_the_status_they_were_listed_under(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """The record has no status; the client asks per status and tags."""
    location_id = main_location(sandbox)
    result = await client.async_get_bookings(location_id, statuses=list(BookingStatus))
    state = sandbox.world.spacebring
    assert {b.id: str(b.status) for b in result.items} == {
        booking_id: state.booking_status[booking_id]
        for booking_id in world_bookings(
            sandbox, location_id, {"confirmed", "tentative", "canceled"}
        )
    }
    cancelled = [b for b in result.items if b.status is BookingStatus.CANCELED]
    assert cancelled
    assert all(b.deleted is not None for b in cancelled)


async def test_bookings_keep_owner_and_invitees(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Booker and attendees come as people with their e-mails."""
    result = await client.async_get_bookings(main_location(sandbox))
    with_guests = [b for b in result.items if b.attendees]
    assert with_guests
    booking = with_guests[0]
    record = sandbox.world.spacebring.bookings[booking.id]
    assert [a.user_id for a in booking.attendees] == [
        a["user"]["id"] for a in record["attendees"]
    ]
    assert booking.owner is not None
    assert booking.owner.email == record["userOwner"].get("email")


async def test_bookings_in_a_window(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Exactly the bookings overlapping [from, until), datetimes aware UTC."""
    location_id = main_location(sandbox)
    now = sandbox.clock.now()
    window_start, window_end = now - timedelta(days=1), now + timedelta(days=2)
    result = await client.async_get_bookings(
        location_id, ending_after=window_start, starting_before=window_end
    )
    expected = {
        booking_id
        for booking_id, booking in world_bookings(
            sandbox, location_id, {"confirmed", "tentative"}
        ).items()
        if parse_iso(booking["endDate"]) > window_start
        and parse_iso(booking["startDate"]) < window_end
    }
    assert {b.id for b in result.items} == expected
    assert all(b.start.tzinfo is UTC and b.end.tzinfo is UTC for b in result.items)


async def test_bookings_of_one_resource(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """The resource filter narrows the list to that resource."""
    location_id = main_location(sandbox)
    resource_id = next(
        iter(world_bookings(sandbox, location_id, {"confirmed"}).values())
    )["resourceRef"]
    result = await client.async_get_bookings(location_id, resource_id=resource_id)
    assert result.items
    assert {b.resource_id for b in result.items} == {resource_id}


async def test_snapshot_holds_everything_the_rules_need(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """One call: location, catalogue, community, subscriptions, bookings."""
    location_id = main_location(sandbox)
    now = sandbox.clock.now()
    snapshot = await client.async_get_snapshot(
        location_id,
        bookings_from=now - timedelta(days=30),
        bookings_until=now + timedelta(days=60),
    )
    state = sandbox.world.spacebring
    assert snapshot.location.id == location_id
    assert len(snapshot.plans) == sum(
        1 for p in state.plans.values() if p["locationRef"] == location_id
    )
    assert snapshot.resources
    assert snapshot.companies
    assert snapshot.memberships
    assert {s.status for s in snapshot.subscriptions} <= {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.SCHEDULED,
    }
    assert {b.id for b in snapshot.bookings} == set(
        world_bookings(sandbox, location_id, {"confirmed", "tentative"})
    )
    assert snapshot.skipped == ()


async def test_paging_reads_beyond_one_hundred_records_exactly_once(
    sandbox_factory: SandboxFactory, sandbox_session: aiohttp.ClientSession
) -> None:
    """250 bookings come in pages of 100; each is delivered once."""
    sandbox = await sandbox_factory(scale="250")
    client = make_client(sandbox, sandbox_session)
    location_id = main_location(sandbox)
    result = await client.async_get_bookings(location_id, statuses=list(BookingStatus))
    ids = [booking.id for booking in result.items]
    assert len(ids) == len(set(ids)) == 250
    assert set(ids) == set(
        world_bookings(sandbox, location_id, {"confirmed", "tentative", "canceled"})
    )
    # Pages per status: ceil(count / 100).
    per_status = Counter(
        sandbox.world.spacebring.booking_status[booking_id] for booking_id in ids
    )
    assert client.requests_sent == sum(-(-n // 100) for n in per_status.values())


async def test_smaller_pages_still_deliver_everything(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """A page size of 2 walks many tokens to the same result."""
    client = make_client(sandbox, sandbox_session, page_size=2)
    plans = await client.async_get_plans(main_location(sandbox))
    assert len(plans.items) == 6
    assert client.requests_sent == 3


def test_page_size_is_bounded_by_the_api() -> None:
    """Spacebring caps pages at 100."""
    with pytest.raises(ValueError, match="page_size"):
        SpacebringClient(None, "id", "secret", page_size=101)  # type: ignore[arg-type]


# --- faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        FaultKind.RATE_LIMITED,
        FaultKind.RATE_LIMITED_NO_RETRY_AFTER,
        FaultKind.BAD_GATEWAY,
        FaultKind.UNAVAILABLE,
        FaultKind.TIMEOUT,
        FaultKind.CONNECTION_RESET,
        FaultKind.CONNECTION_DROPPED,
        FaultKind.MALFORMED_JSON,
    ],
)
async def test_read_survives_a_transient_fault(
    client: SpacebringClient, sandbox: RunningSandbox, kind: FaultKind
) -> None:
    """Each transient fault costs a retry, never a record."""
    location_id = main_location(sandbox)
    sandbox.faults.fail_next(kind, route=BOOKINGS, count=2)
    result = await client.async_get_bookings(location_id)
    assert {b.id for b in result.items} == set(
        world_bookings(sandbox, location_id, {"confirmed", "tentative"})
    )
    assert sandbox.faults.injected[kind] == 2


async def test_rate_limit_waits_as_told(
    client: SpacebringClient, sandbox: RunningSandbox, sleep: RecordingSleep
) -> None:
    """Retry-After of the 429 is the delay the client takes."""
    sandbox.faults.retry_after_seconds = 3
    sandbox.faults.fail_next(FaultKind.RATE_LIMITED, route=BOOKINGS)
    await client.async_get_bookings(main_location(sandbox))
    assert sleep.delays == [3.0]


async def test_rate_limit_that_persists_surfaces(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """More 429s than attempts: ApiRateLimitedError."""
    sandbox.faults.fail_next(FaultKind.RATE_LIMITED, route=BOOKINGS, count=4)
    with pytest.raises(ApiRateLimitedError):
        await client.async_get_bookings(main_location(sandbox))


async def test_internal_server_error_fails_the_read(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """A 500 is not retried: the sync fails and tries again later."""
    sandbox.faults.fail_next(FaultKind.SERVER_ERROR, route=BOOKINGS)
    with pytest.raises(ApiServerError) as caught:
        await client.async_get_bookings(main_location(sandbox))
    assert caught.value.status == 500


async def test_timeouts_that_persist_fail_the_read(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """Every attempt timing out ends in ApiConnectionError."""
    sandbox.faults.fail_next(FaultKind.TIMEOUT, route=BOOKINGS, count=4)
    with pytest.raises(ApiConnectionError, match="timed out"):
        await client.async_get_bookings(main_location(sandbox))


async def test_broken_record_is_skipped_and_reported(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """One record with a broken date is left out; the others arrive."""
    location_id = main_location(sandbox)
    sandbox.faults.fail_next(FaultKind.BROKEN_RECORD, route=BOOKINGS)
    result = await client.async_get_bookings(
        location_id, statuses=[BookingStatus.CONFIRMED]
    )
    (broken,) = sandbox.faults.broken_records
    assert result.skipped == (
        SkippedRecord(
            "booking",
            broken.record_id,
            "invalid_datetime",
            f"{broken.field} is not an ISO 8601 date-time",
        ),
    )
    expected = set(world_bookings(sandbox, location_id, {"confirmed"}))
    assert {b.id for b in result.items} == expected - {broken.record_id}


async def test_records_missing_what_matters_are_reported_in_the_snapshot(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """A booking without resource and a subscription with an unknown status."""
    location_id = main_location(sandbox)
    state = sandbox.world.spacebring
    booking_id = next(iter(world_bookings(sandbox, location_id, {"confirmed"})))
    del state.bookings[booking_id]["attendees"]
    state.bookings[booking_id]["endDate"] = state.bookings[booking_id]["startDate"]
    subscription = next(
        s
        for s in state.subscriptions.values()
        if s["locationRef"] == location_id and s["status"] == "active"
    )
    subscription["subscriptionType"] = "robot"
    now = sandbox.clock.now()
    snapshot = await client.async_get_snapshot(
        location_id,
        bookings_from=now - timedelta(days=30),
        bookings_until=now + timedelta(days=60),
    )
    assert {(s.kind, s.record_id, s.reason) for s in snapshot.skipped} == {
        ("booking", booking_id, "invalid_interval"),
        ("subscription", subscription["id"], "invalid_field"),
    }
    assert booking_id not in {b.id for b in snapshot.bookings}


async def test_repeated_page_token_fails_instead_of_looping(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """A token that comes back again would page forever: the read fails."""
    client = make_client(sandbox, sandbox_session, page_size=5)
    sandbox.faults.fail_next(FaultKind.REPEATED_PAGE_TOKEN, route=BOOKINGS, count=5)
    with pytest.raises(ApiInvalidResponseError, match="nextPageToken repeated"):
        await client.async_get_bookings(
            main_location(sandbox), statuses=[BookingStatus.CONFIRMED]
        )


# --- errors ---------------------------------------------------------------------


async def test_wrong_secret_is_an_auth_error(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """401 with Spacebring's message."""
    client = make_client(sandbox, sandbox_session, secret="wrong")
    with pytest.raises(ApiAuthError, match="Invalid client credentials") as caught:
        await client.async_get_locations()
    assert caught.value.status == 401


async def test_unknown_location_is_not_found(client: SpacebringClient) -> None:
    """404 for an id the network does not have."""
    with pytest.raises(ApiNotFoundError):
        await client.async_get_location("00000000-0000-4000-8000-000000000000")


async def test_invalid_booking_is_a_request_error(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """400 when the booking names no existing resource."""
    start = sandbox.clock.now() + timedelta(days=1)
    with pytest.raises(ApiRequestError, match="does not exist") as caught:
        await client.async_create_booking(
            "00000000-0000-4000-8000-000000000000", start, start + timedelta(hours=1)
        )
    assert caught.value.status == 400


def test_naive_datetimes_are_refused() -> None:
    """Filters and bodies are UTC; a naive datetime is a programming error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1, 12, 0))
    assert format_timestamp(datetime(2026, 1, 1, 13, 0, tzinfo=UTC)) == (
        "2026-01-01T13:00:00.000Z"
    )


# --- rate ---------------------------------------------------------------------------


async def test_reading_never_exceeds_ten_requests_per_second(
    sandbox_factory: SandboxFactory, sandbox_session: aiohttp.ClientSession
) -> None:
    """Two clients of one network share a limiter: the sandbox never says 429."""
    sandbox = await sandbox_factory(scale="600")
    limiter = RateLimiter(10)
    clients = [
        make_client(sandbox, sandbox_session, limiter=limiter, page_size=25)
        for _ in range(2)
    ]
    location_id = main_location(sandbox)
    await asyncio.gather(
        *(
            c.async_get_bookings(location_id, statuses=list(BookingStatus))
            for c in clients
        )
    )
    traffic = sandbox.traffic.summary()
    assert traffic["requests"] > 30
    assert traffic["maxPerSecond"] <= 10
    assert "429" not in traffic["statuses"]


# --- changes ----------------------------------------------------------------------


async def test_created_booking_is_listed_and_cancelling_moves_it(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """POST creates a confirmed booking; DELETE lists it as cancelled."""
    location_id = main_location(sandbox)
    state = sandbox.world.spacebring
    resource_id = next(
        r["id"] for r in state.resources.values() if r["locationRef"] == location_id
    )
    member_id = next(
        m["id"] for m in state.memberships.values() if m["locationRef"] == location_id
    )
    start = (sandbox.clock.now() + timedelta(days=2)).replace(microsecond=0)
    created = await client.async_create_booking(
        resource_id,
        start,
        start + timedelta(hours=2),
        membership_id=member_id,
        title="Board meeting",
        seats=1,
    )
    assert created.status is BookingStatus.CONFIRMED
    assert (created.start, created.end) == (start, start + timedelta(hours=2))
    assert created.owner is not None
    assert created.owner.user_id == state.memberships[member_id]["user"]["id"]
    listed = await client.async_get_bookings(location_id, resource_id=resource_id)
    assert created.id in {b.id for b in listed.items}

    await client.async_cancel_booking(created.id)
    cancelled = await client.async_get_bookings(
        location_id, statuses=[BookingStatus.CANCELED], resource_id=resource_id
    )
    assert created.id in {b.id for b in cancelled.items}


async def test_subscription_for_a_member_and_its_cancellation(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """A future subscription is scheduled; cancelling it ends it."""
    location_id = main_location(sandbox)
    state = sandbox.world.spacebring
    plan = next(
        p
        for p in state.plans.values()
        if p["locationRef"] == location_id and p.get("access")
    )
    member_id = next(
        m["id"] for m in state.memberships.values() if m["locationRef"] == location_id
    )
    start = datetime(2031, 3, 1, tzinfo=UTC)
    created = await client.async_create_subscription(
        start,
        [NewSubscriptionItem(plan_id=plan["id"], price=190, quantity=1)],
        membership_id=member_id,
        end=start + timedelta(days=90),
    )
    assert created.status is SubscriptionStatus.SCHEDULED
    assert created.customer_type is CustomerType.USER
    assert created.items[0].plan_id == plan["id"]
    assert created.items[0].tapkey_group_ref == plan["access"]["tapkeyGroupRef"]

    await client.async_cancel_subscription(created.id)
    cancelled = await client.async_get_subscriptions(
        location_id, statuses=[SubscriptionStatus.CANCELED]
    )
    assert created.id in {s.id for s in cancelled.items}


async def test_company_subscription_with_an_item_group_override(
    client: SpacebringClient, sandbox: RunningSandbox
) -> None:
    """A company subscription whose item names its own Tapkey group."""
    location_id = main_location(sandbox)
    state = sandbox.world.spacebring
    company_id = next(
        c["id"] for c in state.companies.values() if c["locationRef"] == location_id
    )
    office = next(r for r in state.resources.values() if r["type"] == "office")
    group = "5c0ffee0-0000-4000-8000-000000000001"
    created = await client.async_create_subscription(
        sandbox.clock.now() - timedelta(days=1),
        [NewSubscriptionItem(resource_id=office["id"], tapkey_group_ref=group)],
        company_id=company_id,
    )
    assert created.status is SubscriptionStatus.ACTIVE
    assert created.company_id == company_id
    assert created.items[0].resource_id == office["id"]
    assert created.items[0].tapkey_group_ref == group


async def test_subscription_needs_exactly_one_customer(
    client: SpacebringClient,
) -> None:
    """Member or company, not both, not neither."""
    start = datetime(2031, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="exactly one"):
        await client.async_create_subscription(start, [])
    with pytest.raises(ValueError, match="exactly one"):
        await client.async_create_subscription(
            start, [], membership_id="a", company_id="b"
        )
