"""The Tapkey client against the sandbox's Tapkey API over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest
from yarl import URL

from custom_components.spacebring_tapkey.api.errors import (
    ApiAuthError,
    ApiConflictError,
    ApiConnectionError,
    ApiForbiddenError,
    ApiInvalidResponseError,
    ApiNotFoundError,
    ApiPlanLimitError,
    ApiRateLimitedError,
    ApiRequestError,
    ApiServerError,
)
from custom_components.spacebring_tapkey.api.http import RateLimiter, RetryPolicy
from custom_components.spacebring_tapkey.api.models import GrantState, TargetKind
from custom_components.spacebring_tapkey.api.tapkey import (
    TapkeyClient,
    format_timestamp,
    odata_equals,
)
from sandbox.const import TAPKEY_CLIENT_ID, TAPKEY_CLIENT_SECRET
from sandbox.faults import FaultInjector, FaultKind
from sandbox.server import RunningSandbox
from sandbox.tapkey import TapkeyState
from sandbox.tapkey_generate import DEMO_OWNER_NAME
from sandbox.tapkey_oauth import ALL_SCOPES
from sandbox.tapkey_records import OwnerAccount

FIXED_TIME = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CLEANING_ICAL = "\r\n".join(
    (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "DTSTART:20250303T080000Z",
        "DTEND:20250303T180000Z",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "END:VEVENT",
        "END:VCALENDAR",
    )
)


class StaticToken:
    """A token provider handing out one fixed token."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def async_get_access_token(self) -> str:
        return self.token


@dataclass
class TapkeyHarness:
    """The running sandbox, its frozen time and a Tapkey client pointed at it."""

    running: RunningSandbox
    client: TapkeyClient
    tokens: StaticToken
    now: datetime

    @property
    def state(self) -> TapkeyState:
        return self.running.world.tapkey

    @property
    def faults(self) -> FaultInjector:
        return self.running.faults

    @property
    def owner(self) -> OwnerAccount:
        return self.state.owner_named(DEMO_OWNER_NAME)

    def lock_id(self, title: str) -> str:
        return next(
            lock.id for lock in self.owner.locks.values() if lock.title == title
        )

    def contact_id(self, identifier: str) -> str:
        contact = self.state.find_contact(self.owner, "tapkey", identifier)
        assert contact is not None
        return contact.id


FAST_RETRIES = RetryPolicy(
    max_attempts=3, backoff_base=0.01, backoff_max=0.02, request_timeout=0.5
)


@pytest.fixture
async def tapkey(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> TapkeyHarness:
    """A client with a full-scope token on the demo sandbox; time stands still."""
    sandbox.clock.freeze()
    sandbox.faults.retry_after_seconds = 0
    now = sandbox.clock.now()
    issued = sandbox.world.tapkey.oauth.issue_tokens(
        TAPKEY_CLIENT_ID, ALL_SCOPES, now=now
    )
    tokens = StaticToken(issued["access_token"])
    client = TapkeyClient(
        sandbox_session,
        tokens,
        base_url=f"{sandbox.base_url}/api/v1",
        policy=FAST_RETRIES,
        limiter=RateLimiter(1000),
    )
    return TapkeyHarness(sandbox, client, tokens, now)


# --- reading ------------------------------------------------------------------


async def test_owners_are_the_locking_systems_of_the_account(
    tapkey: TapkeyHarness,
) -> None:
    owners = await tapkey.client.async_get_owners()

    assert [owner.name for owner in owners.items] == [
        "Demo Coworking",
        "Demo Coworking Annex",
    ]
    assert owners.skipped == ()


async def test_bound_locks_say_whether_they_support_weekly_schedules(
    tapkey: TapkeyHarness,
) -> None:
    locks = await tapkey.client.async_get_bound_locks(tapkey.owner.id)

    by_title = {lock.title: lock for lock in locks.items}
    assert len(locks.items) == len(tapkey.owner.locks)
    assert by_title["Front door"].supports_time_restriction is True
    assert by_title["Parking gate"].supports_time_restriction is False
    assert {lock.kind for lock in locks.items} == {TargetKind.LOCK}


async def test_lock_groups_are_group_targets(tapkey: TapkeyHarness) -> None:
    groups = await tapkey.client.async_get_lock_groups(tapkey.owner.id)

    assert [group.title for group in groups.items] == [
        "All doors",
        "Entrance",
        "Meeting rooms",
        "Offices",
    ]
    assert {group.kind for group in groups.items} == {TargetKind.LOCK_GROUP}


async def test_contacts_are_read_across_pages(tapkey: TapkeyHarness) -> None:
    for n in range(130):
        tapkey.state.create_contact(
            tapkey.owner.id, identifier=f"visitor{n:03d}@example.com"
        )

    contacts = await tapkey.client.async_get_contacts(tapkey.owner.id)

    assert [c.id for c in contacts.items] == list(tapkey.owner.contacts)
    assert tapkey.client.requests_sent == 2


async def test_grants_beyond_one_hundred_arrive_exactly_once(
    tapkey: TapkeyHarness,
) -> None:
    contact_id = tapkey.contact_id("cleaning@demo-coworking.example")
    made_by_hand = len(tapkey.owner.grants)
    for hour in range(250):
        tapkey.state.create_grant(
            tapkey.owner.id,
            contact_id=contact_id,
            bound_lock_id=tapkey.lock_id("Room 1"),
            valid_from=tapkey.now + timedelta(hours=hour),
            valid_before=tapkey.now + timedelta(hours=hour + 1),
        )

    grants = await tapkey.client.async_get_grants(tapkey.owner.id)

    assert len(tapkey.owner.grants) == made_by_hand + 250
    assert [grant.id for grant in grants.items] == list(tapkey.owner.grants)
    assert tapkey.client.requests_sent == 3


async def test_revoked_grants_are_listed_unless_filtered_out(
    tapkey: TapkeyHarness,
) -> None:
    everything = await tapkey.client.async_get_grants(tapkey.owner.id)
    active = await tapkey.client.async_get_grants(
        tapkey.owner.id, odata_filter=odata_equals({"active": True})
    )

    revoked = [g for g in everything.items if g.state is GrantState.REVOKED]
    assert len(revoked) == 1
    assert revoked[0].active is False
    assert {g.id for g in active.items} == {g.id for g in everything.items} - {
        revoked[0].id
    }


async def test_log_entries_since_a_moment_are_the_later_lock_openings(
    tapkey: TapkeyHarness,
) -> None:
    # The cleaning crew opened the front door at 06:xx on each of the last
    # three days.
    today = tapkey.now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=2)

    entries = await tapkey.client.async_get_log_entries(tapkey.owner.id, since=since)
    everything = await tapkey.client.async_get_log_entries(tapkey.owner.id)

    assert len(everything.items) == 3
    assert [e.lock_timestamp >= since for e in everything.items] == [False, True, True]
    assert [e.id for e in entries.items] == [e.id for e in everything.items[1:]]
    assert {e.command for e in entries.items} == {"TriggerLock"}


async def test_a_broken_record_is_skipped_and_reported_not_fatal(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.BROKEN_RECORD, route="/api/v1/Owners/*/Grants")

    grants = await tapkey.client.async_get_grants(tapkey.owner.id)

    [broken] = tapkey.faults.broken_records
    assert len(grants.items) == len(tapkey.owner.grants) - 1
    assert broken.record_id not in {grant.id for grant in grants.items}
    assert [(s.kind, s.record_id) for s in grants.skipped] == [
        ("tapkey_grant", broken.record_id)
    ]
    assert grants.skipped[0].reason == f"{broken.field} is not an ISO-8601 date-time"


# --- contacts -----------------------------------------------------------------


async def test_find_contact_ignores_case_and_spaces(tapkey: TapkeyHarness) -> None:
    stored = next(
        c
        for c in tapkey.owner.contacts.values()
        if c.identifier != c.identifier.lower()
    )

    found = await tapkey.client.async_find_contact(
        tapkey.owner.id, f"  {stored.identifier.lower()} "
    )
    missing = await tapkey.client.async_find_contact(
        tapkey.owner.id, "nobody@example.com"
    )

    assert found is not None
    assert found.id == stored.id
    assert missing is None


async def test_find_contact_needs_an_email(tapkey: TapkeyHarness) -> None:
    with pytest.raises(ValueError, match="e-mail"):
        await tapkey.client.async_find_contact(tapkey.owner.id, "  ")


async def test_create_contact_adds_it_to_the_locking_system(
    tapkey: TapkeyHarness,
) -> None:
    contact = await tapkey.client.async_create_contact(
        tapkey.owner.id, "new.member@example.com", title="New Member"
    )

    stored = tapkey.owner.contacts[contact.id]
    assert (stored.identifier, stored.title) == ("new.member@example.com", "New Member")


async def test_creating_an_existing_contact_returns_it(tapkey: TapkeyHarness) -> None:
    existing_id = tapkey.contact_id("facility@demo-coworking.example")
    before = len(tapkey.owner.contacts)

    contact = await tapkey.client.async_create_contact(
        tapkey.owner.id, "Facility@Demo-Coworking.example"
    )

    assert contact.id == existing_id
    assert len(tapkey.owner.contacts) == before


async def test_a_new_contact_beyond_the_plan_limit_is_a_plan_limit_error(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.state.set_contact_limit(len(tapkey.owner.contacts))

    with pytest.raises(ApiPlanLimitError) as caught:
        await tapkey.client.async_create_contact(tapkey.owner.id, "x@example.com")

    assert caught.value.status == 402


async def test_contact_creation_is_retried_after_a_gateway_error(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.UNAVAILABLE, route="/api/v1/Owners/*/Contacts")

    contact = await tapkey.client.async_create_contact(tapkey.owner.id, "a@example.com")

    assert contact.id in tapkey.owner.contacts
    assert tapkey.client.requests_sent == 2


# --- grants -------------------------------------------------------------------


async def test_create_grant_stores_the_window_and_schedule(
    tapkey: TapkeyHarness,
) -> None:
    contact_id = tapkey.contact_id("cleaning@demo-coworking.example")
    valid_from = tapkey.now + timedelta(hours=2, minutes=30)
    valid_before = tapkey.now + timedelta(hours=7, minutes=30)

    grant = await tapkey.client.async_create_grant(
        tapkey.owner.id,
        contact_id=contact_id,
        bound_lock_id=tapkey.lock_id("Room 2"),
        valid_from=valid_from,
        valid_before=valid_before,
        time_restriction_ical=CLEANING_ICAL,
    )

    stored = tapkey.owner.grants[grant.id]
    assert (stored.valid_from, stored.valid_before) == (valid_from, valid_before)
    assert stored.time_restriction_ical == CLEANING_ICAL
    assert (grant.valid_from, grant.valid_before) == (valid_from, valid_before)
    assert grant.state is GrantState.OK


async def test_create_grant_without_end_is_open_ended(tapkey: TapkeyHarness) -> None:
    grant = await tapkey.client.async_create_grant(
        tapkey.owner.id,
        contact_id=tapkey.contact_id("facility@demo-coworking.example"),
        bound_lock_id=tapkey.lock_id("Parking gate"),
        valid_from=tapkey.now,
        valid_before=None,
    )

    assert tapkey.owner.grants[grant.id].valid_before is None


async def test_create_grant_on_an_unknown_lock_is_not_found(
    tapkey: TapkeyHarness,
) -> None:
    with pytest.raises(ApiNotFoundError):
        await tapkey.client.async_create_grant(
            tapkey.owner.id,
            contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
            bound_lock_id="no-such-lock",
            valid_from=tapkey.now,
            valid_before=tapkey.now + timedelta(hours=1),
        )


async def test_a_schedule_on_a_lock_without_support_is_a_request_error(
    tapkey: TapkeyHarness,
) -> None:
    with pytest.raises(ApiRequestError) as caught:
        await tapkey.client.async_create_grant(
            tapkey.owner.id,
            contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
            bound_lock_id=tapkey.lock_id("Parking gate"),
            valid_from=tapkey.now,
            valid_before=None,
            time_restriction_ical=CLEANING_ICAL,
        )

    assert caught.value.status == 400


async def test_create_grant_needs_aware_times(tapkey: TapkeyHarness) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await tapkey.client.async_create_grant(
            tapkey.owner.id,
            contact_id="c",
            bound_lock_id="l",
            valid_from=datetime(2025, 3, 3, 9, 0),
            valid_before=None,
        )


async def test_a_grant_put_that_failed_before_tapkey_acted_is_not_repeated(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(
        FaultKind.UNAVAILABLE, route="/api/v1/Owners/*/Grants", count=1
    )
    before = dict(tapkey.owner.grants)

    with pytest.raises(ApiServerError) as caught:
        await tapkey.client.async_create_grant(
            tapkey.owner.id,
            contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
            bound_lock_id=tapkey.lock_id("Room 3"),
            valid_from=tapkey.now,
            valid_before=tapkey.now + timedelta(hours=1),
        )

    assert caught.value.status == 503
    assert tapkey.owner.grants == before
    assert tapkey.client.requests_sent == 2  # the PUT once, then one read-back


async def test_a_grant_created_despite_a_broken_answer_is_found_not_repeated(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.MALFORMED_JSON, route="/api/v1/Owners/*/Grants")
    before = set(tapkey.owner.grants)

    grant = await tapkey.client.async_create_grant(
        tapkey.owner.id,
        contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
        bound_lock_id=tapkey.lock_id("Room 3"),
        valid_from=tapkey.now,
        valid_before=tapkey.now + timedelta(hours=1),
    )

    assert set(tapkey.owner.grants) - before == {grant.id}


async def test_when_grants_cannot_be_read_back_the_put_failure_is_raised(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(
        FaultKind.SERVER_ERROR, route="/api/v1/Owners/*/Grants", count=2
    )
    before = dict(tapkey.owner.grants)

    with pytest.raises(ApiServerError):
        await tapkey.client.async_create_grant(
            tapkey.owner.id,
            contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
            bound_lock_id=tapkey.lock_id("Room 3"),
            valid_from=tapkey.now,
            valid_before=tapkey.now + timedelta(hours=1),
        )

    assert tapkey.owner.grants == before
    assert tapkey.client.requests_sent == 2


async def test_a_reset_grant_put_is_resent_once_by_aiohttp_and_creates_one_grant(
    tapkey: TapkeyHarness,
) -> None:
    # aiohttp resends a PUT (an idempotent method to HTTP) once by itself
    # when the connection drops; Tapkey did not act on the reset request.
    tapkey.faults.fail_next(FaultKind.CONNECTION_RESET, route="/api/v1/Owners/*/Grants")
    before = set(tapkey.owner.grants)

    grant = await tapkey.client.async_create_grant(
        tapkey.owner.id,
        contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
        bound_lock_id=tapkey.lock_id("Room 3"),
        valid_from=tapkey.now,
        valid_before=tapkey.now + timedelta(hours=1),
    )

    assert set(tapkey.owner.grants) - before == {grant.id}
    assert tapkey.client.requests_sent == 1


async def test_revoked_grant_stays_listed_as_revoked(tapkey: TapkeyHarness) -> None:
    grant = await tapkey.client.async_create_grant(
        tapkey.owner.id,
        contact_id=tapkey.contact_id("cleaning@demo-coworking.example"),
        bound_lock_id=tapkey.lock_id("Office 1"),
        valid_from=tapkey.now,
        valid_before=tapkey.now + timedelta(days=3),
    )

    await tapkey.client.async_revoke_grant(tapkey.owner.id, grant.id)
    await tapkey.client.async_revoke_grant(tapkey.owner.id, grant.id)
    grants = await tapkey.client.async_get_grants(
        tapkey.owner.id, odata_filter=odata_equals({"contactId": grant.contact_id})
    )

    listed = next(g for g in grants.items if g.id == grant.id)
    assert (listed.state, listed.active) == (GrantState.REVOKED, False)


async def test_revoking_an_unknown_grant_is_not_found(tapkey: TapkeyHarness) -> None:
    with pytest.raises(ApiNotFoundError):
        await tapkey.client.async_revoke_grant(tapkey.owner.id, "no-such-grant")


async def test_an_unknown_locking_system_is_not_found(tapkey: TapkeyHarness) -> None:
    with pytest.raises(ApiNotFoundError):
        await tapkey.client.async_get_grants("no-such-owner")


# --- authorisation and transport failures ---------------------------------------


class RefreshingTokens:
    """What Home Assistant's OAuth2 session does: log in once, refresh on expiry."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base_url = base_url
        self._tokens: dict[str, str] = {}

    async def log_in(self) -> None:
        redirect_uri = "http://127.0.0.1:8123/auth/external/callback"
        async with self._session.get(
            f"{self._base_url}/connect/authorize",
            params={
                "client_id": TAPKEY_CLIENT_ID,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(sorted(ALL_SCOPES)),
                "state": "s",
            },
            allow_redirects=False,
        ) as approved:
            code = URL(approved.headers["Location"]).query["code"]
        await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )

    async def _token(self, form: dict[str, str]) -> None:
        async with self._session.post(
            f"{self._base_url}/connect/token",
            data={
                **form,
                "client_id": TAPKEY_CLIENT_ID,
                "client_secret": TAPKEY_CLIENT_SECRET,
            },
        ) as response:
            response.raise_for_status()
            self._tokens = await response.json()

    async def async_get_access_token(self) -> str:
        return self._tokens["access_token"]

    async def refresh(self) -> None:
        await self._token(
            {
                "grant_type": "refresh_token",
                "refresh_token": self._tokens["refresh_token"],
            }
        )


async def test_after_a_refresh_the_client_works_again(
    tapkey: TapkeyHarness, sandbox_session: aiohttp.ClientSession
) -> None:
    tapkey.state.auto_approve = True
    tokens = RefreshingTokens(sandbox_session, tapkey.running.base_url)
    await tokens.log_in()
    client = TapkeyClient(
        sandbox_session, tokens, base_url=f"{tapkey.running.base_url}/api/v1"
    )
    assert len((await client.async_get_owners()).items) == 2
    tapkey.running.clock.advance(tapkey.state.oauth.access_token_lifetime)

    with pytest.raises(ApiAuthError):
        await client.async_get_owners()
    await tokens.refresh()

    assert len((await client.async_get_owners()).items) == 2


async def test_an_expired_token_is_an_auth_error(tapkey: TapkeyHarness) -> None:
    tapkey.running.clock.advance(tapkey.state.oauth.access_token_lifetime)

    with pytest.raises(ApiAuthError) as caught:
        await tapkey.client.async_get_owners()

    assert caught.value.status == 401


async def test_a_token_without_the_scope_is_forbidden(tapkey: TapkeyHarness) -> None:
    issued = tapkey.state.oauth.issue_tokens(
        TAPKEY_CLIENT_ID, frozenset({"read:owneraccounts"}), now=tapkey.now
    )
    tapkey.tokens.token = issued["access_token"]

    owners = await tapkey.client.async_get_owners()
    with pytest.raises(ApiForbiddenError):
        await tapkey.client.async_get_grants(owners.items[0].id)


async def test_rate_limited_reads_wait_and_succeed(tapkey: TapkeyHarness) -> None:
    tapkey.faults.fail_next(FaultKind.RATE_LIMITED, route="/api/v1/Owners")
    tapkey.faults.fail_next(
        FaultKind.RATE_LIMITED_NO_RETRY_AFTER, route="/api/v1/Owners"
    )

    owners = await tapkey.client.async_get_owners()

    assert len(owners.items) == 2
    assert tapkey.client.requests_sent == 3


async def test_rate_limiting_that_outlasts_the_retries_is_reported(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.RATE_LIMITED, route="/api/v1/Owners", count=3)

    with pytest.raises(ApiRateLimitedError) as caught:
        await tapkey.client.async_get_owners()

    assert caught.value.retry_after == 0


@pytest.mark.parametrize(
    "kind",
    [FaultKind.BAD_GATEWAY, FaultKind.CONNECTION_RESET, FaultKind.MALFORMED_JSON],
)
async def test_transient_read_failures_are_retried(
    tapkey: TapkeyHarness, kind: FaultKind
) -> None:
    tapkey.faults.fail_next(kind, route="/api/v1/Owners/*/BoundLocks")

    locks = await tapkey.client.async_get_bound_locks(tapkey.owner.id)

    assert len(locks.items) == len(tapkey.owner.locks)


async def test_an_internal_server_error_is_a_server_error(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.SERVER_ERROR, route="/api/v1/Owners")

    with pytest.raises(ApiServerError) as caught:
        await tapkey.client.async_get_owners()

    assert caught.value.status == 500


async def test_garbage_that_outlasts_the_retries_is_an_invalid_response(
    tapkey: TapkeyHarness,
) -> None:
    tapkey.faults.fail_next(FaultKind.MALFORMED_JSON, route="/api/v1/Owners", count=3)

    with pytest.raises(ApiInvalidResponseError):
        await tapkey.client.async_get_owners()


async def test_an_unreachable_service_is_a_connection_error(
    socket_enabled: None,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = TapkeyClient(
            session,
            StaticToken("t"),
            base_url="http://127.0.0.1:9/api/v1",
            policy=RetryPolicy(max_attempts=1),
        )
        with pytest.raises(ApiConnectionError):
            await client.async_get_owners()


def test_filters_quote_text_and_format_times_in_utc() -> None:
    vienna_winter = timezone(timedelta(hours=1))

    assert odata_equals({"identifier": "o'brien@example.com", "active": False}) == (
        "identifier eq 'o''brien@example.com' and active eq false"
    )
    assert odata_equals({"validFrom": FIXED_TIME.astimezone(vienna_winter)}) == (
        "validFrom eq 2025-03-03T09:00:00Z"
    )
    assert format_timestamp(FIXED_TIME) == "2025-03-03T09:00:00Z"


# --- answers the sandbox never gives ----------------------------------------------


type StartScripted = Callable[[web.RouteTableDef], Awaitable[TapkeyClient]]


@pytest.fixture
async def scripted(socket_enabled: None) -> AsyncIterator[StartScripted]:
    """Start a bare server with a test's own routes; a client reads 2 per page."""
    servers: list[TestServer] = []
    async with aiohttp.ClientSession() as session:

        async def start(routes: web.RouteTableDef) -> TapkeyClient:
            app = web.Application()
            app.add_routes(routes)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            return TapkeyClient(
                session,
                StaticToken("t"),
                base_url=str(server.make_url("/api/v1")),
                policy=FAST_RETRIES,
                page_size=2,
            )

        yield start
    for server in servers:
        await server.close()


def _contact(contact_id: str) -> dict[str, str]:
    return {"id": contact_id, "identifier": f"{contact_id}@example.com"}


async def test_a_server_ignoring_skip_is_an_invalid_response(
    scripted: StartScripted,
) -> None:
    routes = web.RouteTableDef()

    @routes.get("/api/v1/Owners/o/Contacts")
    async def same_page(_: web.Request) -> web.Response:
        return web.json_response([_contact("a"), _contact("b")])

    client = await scripted(routes)

    with pytest.raises(ApiInvalidResponseError, match="repeated a page"):
        await client.async_get_contacts("o")


async def test_a_record_shifted_into_the_next_page_is_delivered_once(
    scripted: StartScripted,
) -> None:
    pages = {"0": ["a", "b"], "2": ["b", "c"], "4": ["d"]}
    routes = web.RouteTableDef()

    @routes.get("/api/v1/Owners/o/Contacts")
    async def shifting(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer t"
        assert request.query["$top"] == "2"
        return web.json_response([_contact(c) for c in pages[request.query["$skip"]]])

    client = await scripted(routes)

    contacts = await client.async_get_contacts("o")

    assert [c.id for c in contacts.items] == ["a", "b", "c", "d"]


async def test_a_conflict_without_a_matching_contact_is_a_conflict_error(
    scripted: StartScripted,
) -> None:
    routes = web.RouteTableDef()

    @routes.put("/api/v1/Owners/o/Contacts")
    async def conflict(_: web.Request) -> web.Response:
        return web.json_response({"ErrorCode": "Conflict"}, status=409)

    @routes.get("/api/v1/Owners/o/Contacts")
    async def none(_: web.Request) -> web.Response:
        return web.json_response([])

    client = await scripted(routes)

    with pytest.raises(ApiConflictError):
        await client.async_create_contact("o", "ana@example.com")


async def test_a_write_answered_without_a_record_is_an_invalid_response(
    scripted: StartScripted,
) -> None:
    routes = web.RouteTableDef()

    @routes.put("/api/v1/Owners/o/Contacts")
    async def empty(_: web.Request) -> web.Response:
        return web.json_response(["c-1"])

    @routes.put("/api/v1/Owners/o/Grants")
    async def no_id(_: web.Request) -> web.Response:
        return web.json_response({"contactId": "c-1", "boundLockId": "l-1"})

    @routes.get("/api/v1/Owners/o/Grants")
    async def no_grants(_: web.Request) -> web.Response:
        return web.json_response([])

    client = await scripted(routes)

    with pytest.raises(ApiInvalidResponseError, match="without one"):
        await client.async_create_contact("o", "ana@example.com")
    with pytest.raises(ApiInvalidResponseError, match="id is missing"):
        await client.async_create_grant(
            "o",
            contact_id="c-1",
            bound_lock_id="l-1",
            valid_from=FIXED_TIME,
            valid_before=None,
        )
