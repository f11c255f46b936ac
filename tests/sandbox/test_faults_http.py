"""Injected faults as a client sees them, on Spacebring and Tapkey routes."""

from __future__ import annotations

import json

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.http import basic_auth_header
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox

AUTH = {
    "Authorization": basic_auth_header(SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET)
}


async def test_tapkey_routes_fail_in_tapkey_error_shape(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Faults wrap Tapkey's routes too, with Tapkey's error body."""
    sandbox.faults.fail_next(FaultKind.RATE_LIMITED, route="/api/v1/*")
    async with sandbox_session.get(f"{sandbox.base_url}/api/v1/Owners") as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert await response.json() == {
            "ErrorCode": "rate_limit",
            "Message": "Too many requests",
        }


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (FaultKind.SERVER_ERROR, 500),
        (FaultKind.BAD_GATEWAY, 502),
        (FaultKind.UNAVAILABLE, 503),
        (FaultKind.RATE_LIMITED_NO_RETRY_AFTER, 429),
    ],
)
async def test_status_faults(
    sandbox: RunningSandbox,
    sandbox_session: aiohttp.ClientSession,
    kind: FaultKind,
    status: int,
) -> None:
    """The status, and no Retry-After unless the kind says so."""
    sandbox.faults.fail_next(kind)
    async with sandbox_session.get(
        f"{sandbox.base_url}/locations/v1", headers=AUTH
    ) as response:
        assert response.status == status
        assert "Retry-After" not in response.headers


async def test_malformed_json_keeps_the_status(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """A 200 whose body is cut in half."""
    sandbox.faults.fail_next(FaultKind.MALFORMED_JSON)
    async with sandbox_session.get(
        f"{sandbox.base_url}/locations/v1", headers=AUTH
    ) as response:
        assert response.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await response.read())


async def test_malformed_json_on_an_empty_answer_invents_a_broken_body(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """A DELETE's 204 becomes a 200 with half a JSON object."""
    booking_id = next(iter(sandbox.world.spacebring.bookings))
    sandbox.faults.fail_next(FaultKind.MALFORMED_JSON)
    async with sandbox_session.delete(
        f"{sandbox.base_url}/resources/bookings/v1/{booking_id}", headers=AUTH
    ) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b'{"rec')


async def test_dropped_connection_sends_headers_then_half_the_body(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """The client sees the status, then the body breaks off."""
    sandbox.faults.fail_next(FaultKind.CONNECTION_DROPPED)
    async with sandbox_session.get(
        f"{sandbox.base_url}/locations/v1", headers=AUTH
    ) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_dropped_connection_on_an_empty_answer(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Even a 204 can be cut off."""
    booking_id = next(iter(sandbox.world.spacebring.bookings))
    sandbox.faults.fail_next(FaultKind.CONNECTION_DROPPED)
    with pytest.raises(aiohttp.ClientError):
        async with sandbox_session.delete(
            f"{sandbox.base_url}/resources/bookings/v1/{booking_id}", headers=AUTH
        ) as response:
            await response.read()


@pytest.mark.parametrize(
    "kind", [FaultKind.BROKEN_RECORD, FaultKind.REPEATED_PAGE_TOKEN]
)
async def test_body_faults_leave_answers_without_records_alone(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession, kind: FaultKind
) -> None:
    """Nothing to break in a single object or a first page without a token."""
    location_id = next(iter(sandbox.world.spacebring.locations))
    sandbox.faults.fail_next(kind)
    async with sandbox_session.get(
        f"{sandbox.base_url}/locations/v1/{location_id}", headers=AUTH
    ) as response:
        assert await response.json() == {
            "location": sandbox.world.spacebring.locations[location_id]
        }
    assert sandbox.faults.broken_records == []


async def test_broken_record_in_a_tapkey_list(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Tapkey lists are bare arrays; a record there gets broken too."""
    token = sandbox.world.tapkey.oauth.issue_tokens(
        next(iter(sandbox.world.tapkey.oauth.clients)),
        frozenset({"read:owneraccounts"}),
        now=sandbox.clock.now(),
    )["access_token"]
    sandbox.faults.fail_next(FaultKind.BROKEN_RECORD, route="/api/v1/Owners")
    async with sandbox_session.get(
        f"{sandbox.base_url}/api/v1/Owners",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        owners = await response.json()
    (broken,) = sandbox.faults.broken_records
    assert broken.field == "id"
    assert None in [owner["id"] for owner in owners]
