"""The Spacebring client facing answers the real service should never give.

A scripted loopback server plays them, since the sandbox is faithful.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import logging

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.errors import ApiInvalidResponseError
from custom_components.spacebring_tapkey.api.http import RetryPolicy
from custom_components.spacebring_tapkey.api.spacebring import (
    NewSubscriptionItem,
    SpacebringClient,
)

from .conftest import RecordingSleep
from .scripted import ScriptedServer, reply, run_scripted_server

LOCATION = "6f1c1d38-3e07-4c1e-9b7e-0d2b8f2a6c11"
START = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def server(socket_enabled: None) -> AsyncIterator[ScriptedServer]:
    """A loopback server playing a script, one step per request."""
    async with run_scripted_server() as scripted:
        yield scripted


@pytest.fixture
async def client(server: ScriptedServer) -> AsyncIterator[SpacebringClient]:
    """A client of the scripted server."""
    async with aiohttp.ClientSession() as session:
        yield SpacebringClient(
            session,
            "client-id",
            "client-secret",
            base_url=server.url + "/",
            policy=RetryPolicy(max_attempts=1),
            sleep=RecordingSleep(),
        )


async def test_list_without_its_envelope_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A 200 whose body lacks the `plans` list cannot be read as empty."""
    server.script(reply(200, {"items": []}))
    with pytest.raises(ApiInvalidResponseError, match="no plans list"):
        await client.async_get_plans(LOCATION)


async def test_page_token_of_the_wrong_type_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A numeric nextPageToken is not something to send back."""
    server.script(reply(200, {"plans": [], "nextPageToken": 7}))
    with pytest.raises(ApiInvalidResponseError, match="not a string"):
        await client.async_get_plans(LOCATION)


async def test_empty_page_token_ends_the_list(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """An empty string token means there is no next page."""
    server.script(reply(200, {"plans": [], "nextPageToken": ""}))
    assert (await client.async_get_plans(LOCATION)).items == ()
    assert server.seen == [
        ("GET", f"/plans/v1?locationRef={LOCATION}&limit=100"),
    ]


async def test_locations_without_a_list_are_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """The credential check needs a locations list."""
    server.script(reply(200, {"message": "hello"}))
    with pytest.raises(ApiInvalidResponseError, match="no locations list"):
        await client.async_get_locations()


async def test_unusable_location_in_the_list_is_left_out(
    server: ScriptedServer,
    client: SpacebringClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A location without id is skipped (and logged at debug level)."""
    server.script(
        reply(200, {"locations": [{"title": "No id"}, {"id": LOCATION, "title": "HQ"}]})
    )
    with caplog.at_level(logging.DEBUG):
        locations = await client.async_get_locations()
    assert [location.id for location in locations] == [LOCATION]
    assert "Skipped a Spacebring location" in caplog.text


async def test_location_without_its_envelope_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """GET of one location must return a `location` object."""
    server.script(reply(200, {"locations": []}))
    with pytest.raises(ApiInvalidResponseError, match="no location object"):
        await client.async_get_location(LOCATION)


async def test_location_without_id_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A location record the client cannot use fails the call."""
    server.script(reply(200, {"location": {"title": "HQ"}}))
    with pytest.raises(ApiInvalidResponseError, match="id is missing"):
        await client.async_get_location(LOCATION)


async def test_created_booking_missing_from_the_answer_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A 201 without the booking leaves the caller unable to track it."""
    server.script(reply(201, {"ok": True}))
    with pytest.raises(ApiInvalidResponseError, match="created booking missing"):
        await client.async_create_booking(LOCATION, START, START + timedelta(hours=1))


async def test_created_booking_that_cannot_be_read_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A created booking without dates fails the call, not silently."""
    server.script(reply(201, {"booking": {"id": "b-1", "resourceRef": LOCATION}}))
    with pytest.raises(ApiInvalidResponseError, match="startDate is missing"):
        await client.async_create_booking(LOCATION, START, START + timedelta(hours=1))


async def test_created_subscription_missing_from_the_answer_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """The subscription must come back."""
    server.script(reply(200, {}))
    with pytest.raises(ApiInvalidResponseError, match="created subscription missing"):
        await client.async_create_subscription(
            START, [NewSubscriptionItem(plan_id=LOCATION)], company_id=LOCATION
        )


async def test_created_subscription_that_cannot_be_read_is_invalid(
    server: ScriptedServer, client: SpacebringClient
) -> None:
    """A subscription with an unknown status fails the call."""
    server.script(
        reply(
            200,
            {
                "subscription": {
                    "id": "s-1",
                    "status": "paused",
                    "subscriptionType": "company",
                    "companyRef": LOCATION,
                    "startDate": "2026-06-01T00:00:00Z",
                }
            },
        )
    )
    with pytest.raises(ApiInvalidResponseError, match="status has an unknown value"):
        await client.async_create_subscription(START, [], company_id=LOCATION)


async def test_asking_for_no_status_at_all_is_a_mistake(
    client: SpacebringClient,
) -> None:
    """An empty status list would silently mean "the API's default"."""
    with pytest.raises(ValueError, match="subscription status"):
        await client.async_get_subscriptions(LOCATION, statuses=[])
    with pytest.raises(ValueError, match="booking status"):
        await client.async_get_bookings(LOCATION, statuses=[])
