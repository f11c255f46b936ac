"""The sandbox's Tapkey Management API over HTTP: what a raw client sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.clock import SandboxClock
from sandbox.const import TAPKEY_CLIENT_ID
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.spacebring_demo import Scale
from sandbox.tapkey_generate import CLEANING_EMAIL, DEMO_OWNER_NAME
from sandbox.tapkey_oauth import ALL_SCOPES
from sandbox.tapkey_records import OwnerAccount
from sandbox.world import generate_world

__all__ = ["DOMAIN"]


@dataclass
class Api:
    """Raw HTTP access to a running sandbox's Tapkey API."""

    running: RunningSandbox
    session: aiohttp.ClientSession
    token: str

    @property
    def owner(self) -> OwnerAccount:
        return self.running.world.tapkey.owner_named(DEMO_OWNER_NAME)

    def url(self, path: str) -> str:
        return f"{self.running.base_url}/api/v1/Owners/{self.owner.id}{path}"

    async def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.session.request(
            method, url, headers=headers, params=params, json=json, data=data
        ) as response:
            return response.status, await response.json()

    def lock_id(self, title: str) -> str:
        return next(
            lock.id for lock in self.owner.locks.values() if lock.title == title
        )

    def contact_id(self, identifier: str) -> str:
        contact = self.running.world.tapkey.find_contact(
            self.owner, "tapkey", identifier
        )
        assert contact is not None
        return contact.id


@pytest.fixture
async def api(socket_enabled: None) -> AsyncIterator[Api]:
    """The small demo sandbox on 127.0.0.1 and a token with every scope."""
    clock = SandboxClock()
    clock.freeze()
    world = generate_world(seed=11, scale=Scale.parse("small"), now=clock.now())
    async with (
        run_sandbox(world, clock=clock, shutdown_timeout=0.1) as running,
        aiohttp.ClientSession() as session,
    ):
        issued = world.tapkey.oauth.issue_tokens(
            TAPKEY_CLIENT_ID, ALL_SCOPES, now=clock.now()
        )
        yield Api(running, session, issued["access_token"])


async def test_owners_list_is_a_plain_array(api: Api) -> None:
    status, body = await api.call("GET", f"{api.running.base_url}/api/v1/Owners")

    assert status == 200
    assert [owner["name"] for owner in body] == [
        "Demo Coworking",
        "Demo Coworking Annex",
    ]


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
async def test_without_a_valid_bearer_token_the_answer_is_401(
    api: Api, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    async with api.session.get(api.url("/Grants"), headers=headers) as response:
        body = await response.json()

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert body["ErrorCode"] == "Unauthorized"


async def test_an_expired_token_is_refused(api: Api) -> None:
    api.running.clock.advance(api.running.world.tapkey.oauth.access_token_lifetime)

    status, _ = await api.call("GET", api.url("/Grants"))

    assert status == 401


async def test_each_call_needs_its_documented_scope(api: Api) -> None:
    read_only = api.running.world.tapkey.oauth.issue_tokens(
        TAPKEY_CLIENT_ID,
        frozenset({"read:grants", "read:core:entities"}),
        now=api.running.clock.now(),
    )["access_token"]

    read_status, _ = await api.call("GET", api.url("/Grants"), token=read_only)
    write_status, body = await api.call(
        "PUT", api.url("/Grants"), token=read_only, json={}
    )

    assert read_status == 200
    assert (write_status, body["ErrorCode"]) == (403, "Forbidden")


async def test_an_unknown_owner_is_not_found(api: Api) -> None:
    status, body = await api.call(
        "GET", f"{api.running.base_url}/api/v1/Owners/nowhere/BoundLocks"
    )

    assert (status, body["ErrorCode"]) == (404, "NotFound")


@pytest.mark.parametrize("option", ["expand", "$expand"])
async def test_lock_features_come_only_when_expanded(api: Api, option: str) -> None:
    _, plain = await api.call("GET", api.url("/BoundLocks"))
    _, expanded = await api.call(
        "GET", api.url("/BoundLocks"), params={option: "supportedFeatures"}
    )

    assert "supportedFeatures" not in plain[0]
    assert expanded[0]["supportedFeatures"] == {
        "timeRestrictionIcalSupport": "Supported"
    }


async def test_lock_groups_name_their_locks(api: Api) -> None:
    _, groups = await api.call("GET", api.url("/LockGroups"))

    entrance = next(group for group in groups if group["title"] == "Entrance")
    assert entrance["targetType"] == "Group"
    assert entrance["boundLockIds"] == [
        api.lock_id("Front door"),
        api.lock_id("Parking gate"),
    ]


async def test_a_bad_filter_is_a_400(api: Api) -> None:
    status, body = await api.call(
        "GET", api.url("/Grants"), params={"$filter": "contains(state, 'Ok')"}
    )

    assert (status, body["ErrorCode"]) == (400, "InvalidQuery")


async def test_lists_are_capped_at_one_hundred_per_page(api: Api) -> None:
    tapkey = api.running.world.tapkey
    for n in range(120):
        tapkey.create_contact(api.owner.id, identifier=f"guest{n}@example.com")

    _, first = await api.call("GET", api.url("/Contacts"), params={"$top": "500"})
    _, rest = await api.call("GET", api.url("/Contacts"), params={"$skip": "100"})

    assert len(first) == 100
    assert len(first) + len(rest) == len(api.owner.contacts)


async def test_creating_a_contact_returns_it(api: Api) -> None:
    status, body = await api.call(
        "PUT",
        api.url("/Contacts"),
        json={"ipId": "tapkey", "identifier": "ana@example.com", "title": "Ana"},
    )

    assert status == 200
    assert body["identifier"] == body["email"] == "ana@example.com"
    assert api.owner.contacts[body["id"]].title == "Ana"


async def test_the_deprecated_email_field_still_creates_a_contact(api: Api) -> None:
    status, body = await api.call(
        "PUT", api.url("/Contacts"), json={"email": "ben@example.com"}
    )

    assert (status, body["ipId"]) == (200, "tapkey")


async def test_a_duplicate_contact_is_409_with_error_code_duplicate(api: Api) -> None:
    status, body = await api.call(
        "PUT", api.url("/Contacts"), json={"identifier": CLEANING_EMAIL.upper()}
    )

    assert (status, body["ErrorCode"]) == (409, "Duplicate")


async def test_a_contact_beyond_the_plan_limit_is_402(api: Api) -> None:
    api.running.world.tapkey.set_contact_limit(len(api.owner.contacts))

    status, body = await api.call(
        "PUT", api.url("/Contacts"), json={"identifier": "ana@example.com"}
    )

    assert (status, body["ErrorCode"]) == (402, "LimitExceeded")


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (None, "not json"),
        ([1, 2], None),
        ({"title": "no identifier"}, None),
        ({"identifier": 42}, None),
    ],
)
async def test_a_malformed_contact_request_is_400(
    api: Api, body: Any, data: str | None
) -> None:
    status, answer = await api.call("PUT", api.url("/Contacts"), json=body, data=data)

    assert (status, answer["ErrorCode"]) == (400, "BadRequest")


async def test_a_created_grant_embeds_its_contact_and_lock(api: Api) -> None:
    status, grant = await api.call(
        "PUT",
        api.url("/Grants"),
        json={
            "contactId": api.contact_id(CLEANING_EMAIL),
            "boundLockId": api.lock_id("Room 1"),
            "validFrom": "2025-03-03T11:30:00+01:00",
            "validBefore": "2025-03-03T15:30:00Z",
        },
    )

    assert status == 200
    assert (grant["validFrom"], grant["validBefore"]) == (
        "2025-03-03T10:30:00Z",
        "2025-03-03T15:30:00Z",
    )
    assert (grant["state"], grant["active"]) == ("Ok", True)
    assert grant["contact"]["identifier"] == CLEANING_EMAIL
    assert grant["boundLock"]["title"] == "Room 1"
    assert grant["ownerAccountId"] == api.owner.id


async def test_a_grant_may_name_its_contact_by_identity(api: Api) -> None:
    status, grant = await api.call(
        "PUT",
        api.url("/Grants"),
        json={
            "contact": {"ipId": "tapkey", "identifier": "visitor@example.com"},
            "boundLockId": api.lock_id("Front door"),
            "validFrom": "2025-03-03T08:00:00Z",
        },
    )

    assert status == 200
    assert grant["contact"]["identifier"] == "visitor@example.com"
    assert grant["validBefore"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"boundLockId": None},
        {"validFrom": "2025-03-03T08:00:00"},
        {"validBefore": 1741000000},
        {"timeRestrictionIcal": ["BEGIN:VCALENDAR"]},
        {"contactId": None, "contact": {"ipId": "tapkey"}},
    ],
)
async def test_a_malformed_grant_request_is_400(
    api: Api, change: dict[str, Any]
) -> None:
    body = {
        "contactId": api.contact_id(CLEANING_EMAIL),
        "boundLockId": api.lock_id("Room 1"),
        "validFrom": "2025-03-03T08:00:00Z",
        **change,
    }

    status, answer = await api.call("PUT", api.url("/Grants"), json=body)

    assert (status, answer["ErrorCode"]) == (400, "BadRequest")


async def test_a_revoked_grant_stays_listed_as_revoked(api: Api) -> None:
    grant_id = next(g.id for g in api.owner.grants.values() if g.state == "Ok")

    status, revoked = await api.call(
        "POST", api.url(f"/Grants/{grant_id}/Revoke"), params={"dryRun": "false"}
    )
    _, everything = await api.call("GET", api.url("/Grants"))
    _, active = await api.call(
        "GET", api.url("/Grants"), params={"$filter": "active eq true"}
    )

    assert (status, revoked["state"], revoked["active"]) == (200, "Revoked", False)
    assert grant_id in {grant["id"] for grant in everything}
    assert grant_id not in {grant["id"] for grant in active}


async def test_a_dry_run_revoke_changes_nothing(api: Api) -> None:
    grant_id = next(g.id for g in api.owner.grants.values() if g.state == "Ok")

    status, answer = await api.call(
        "POST", api.url(f"/Grants/{grant_id}/Revoke"), params={"dryRun": "True"}
    )
    bad_status, _ = await api.call(
        "POST", api.url(f"/Grants/{grant_id}/Revoke"), params={"dryRun": "maybe"}
    )

    assert (status, answer["state"]) == (200, "Ok")
    assert bad_status == 400
    assert api.owner.grants[grant_id].state == "Ok"


async def test_revoking_a_contacts_grants_lists_what_was_revoked(api: Api) -> None:
    cleaning = api.contact_id(CLEANING_EMAIL)

    status, revoked = await api.call(
        "POST", api.url(f"/Contacts/{cleaning}/RevokeGrants")
    )

    assert status == 200
    assert {grant["contactId"] for grant in revoked} == {cleaning}
    assert {grant["state"] for grant in revoked} == {"Revoked"}


async def test_log_entries_filter_and_order_like_odata(api: Api) -> None:
    status, entries = await api.call(
        "GET",
        api.url("/LogEntries"),
        params={
            "$filter": "logType eq 'Command' and command eq 'TriggerLock'",
            "$orderby": "lockTimestamp desc",
        },
    )

    assert status == 200
    assert [entry["entryNo"] for entry in entries] == [3, 2, 1]
    assert {entry["boundLockId"] for entry in entries} == {api.lock_id("Front door")}
