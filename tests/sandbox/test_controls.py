"""The `/_sandbox` control routes: world dump, clock, faults, traffic, bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.http import basic_auth_header
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.spacebring_records import parse_iso
from sandbox.world import World

AUTH = {
    "Authorization": basic_auth_header(SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET)
}


async def control(
    sandbox: RunningSandbox,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any = None,
) -> tuple[int, Any]:
    """Call a control route; (status, JSON or text body)."""
    async with session.request(
        method, f"{sandbox.base_url}/_sandbox{path}", json=body
    ) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_world_dump_is_the_world_file_format(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """What GET returns loads back into the same world."""
    status, dump = await control(sandbox, sandbox_session, "GET", "/world")
    assert status == 200
    assert dump == sandbox.world.to_world()
    assert World.from_world(dump, origin="replay").to_world() == dump


async def test_clock_can_be_set_advanced_frozen_and_reset(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Each form of POST /_sandbox/clock."""
    target = datetime(2030, 1, 15, 8, 0, tzinfo=UTC)
    _, state = await control(
        sandbox,
        sandbox_session,
        "POST",
        "/clock",
        {"now": "2030-01-15T08:00:00Z", "frozen": True},
    )
    assert state["frozen"] is True
    assert parse_iso(state["now"]) == target
    _, state = await control(
        sandbox, sandbox_session, "POST", "/clock", {"advanceSeconds": 3600}
    )
    assert parse_iso(state["now"]) == target + timedelta(hours=1)
    assert sandbox.clock.now() == target + timedelta(hours=1)
    _, state = await control(
        sandbox, sandbox_session, "POST", "/clock", {"frozen": False}
    )
    assert state["frozen"] is False
    _, state = await control(
        sandbox, sandbox_session, "POST", "/clock", {"reset": True}
    )
    assert state["offsetSeconds"] == 0
    status, _ = await control(sandbox, sandbox_session, "GET", "/clock")
    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"now": "someday"},
        {"now": "2030-13-45T00:00:00Z"},
        {"advanceSeconds": "x"},
        ["now"],
    ],
)
async def test_invalid_clock_change_is_400(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession, body: Any
) -> None:
    """Unreadable times, naive times and non-objects are refused."""
    before = sandbox.clock.now()
    status, _ = await control(sandbox, sandbox_session, "POST", "/clock", body)
    assert status == 400
    assert sandbox.clock.now() >= before


async def test_fault_rules_over_http(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """POST adds rules, the next request fails, GET counts, DELETE clears."""
    status, state = await control(
        sandbox,
        sandbox_session,
        "POST",
        "/faults",
        {
            "rules": [{"kind": "unavailable", "route": "/locations/v1", "count": 1}],
            "timeoutSeconds": 2,
            "retryAfterSeconds": 5,
        },
    )
    assert status == 200
    assert state["rules"][0]["kinds"] == ["unavailable"]
    assert (state["timeoutSeconds"], state["retryAfterSeconds"]) == (2.0, 5)
    url = f"{sandbox.base_url}/locations/v1"
    async with sandbox_session.get(url, headers=AUTH) as response:
        assert response.status == 503
    async with sandbox_session.get(url, headers=AUTH) as response:
        assert response.status == 200
    _, state = await control(sandbox, sandbox_session, "GET", "/faults")
    assert state["injected"] == {"unavailable": 1}

    await control(
        sandbox,
        sandbox_session,
        "POST",
        "/faults",
        {"rules": [{"kinds": ["server_error"], "probability": 1.0}], "replace": True},
    )
    # Control routes are never faulted, so faults can always be switched off.
    status, state = await control(sandbox, sandbox_session, "DELETE", "/faults")
    assert (status, state["rules"]) == (200, [])


@pytest.mark.parametrize(
    "rule",
    [
        {"kinds": ["meteor_strike"]},
        {"kinds": []},
        {"kinds": "rate_limited", "probability": 2},
        {"kinds": 5},
        {"kinds": ["timeout"], "count": -1},
    ],
)
async def test_invalid_fault_rule_is_400(
    sandbox: RunningSandbox,
    sandbox_session: aiohttp.ClientSession,
    rule: dict[str, Any],
) -> None:
    """Unknown kinds, empty kinds, impossible probability or count."""
    status, _ = await control(
        sandbox, sandbox_session, "POST", "/faults", {"rules": [rule]}
    )
    assert status == 400
    assert sandbox.faults.rules == []


async def test_traffic_log_counts_requests_per_api(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Spacebring requests with their statuses; DELETE starts over."""
    await control(sandbox, sandbox_session, "DELETE", "/traffic")
    sandbox.faults.fail_next(FaultKind.CONNECTION_RESET, route="/plans/v1")
    with pytest.raises(aiohttp.ClientOSError):
        async with sandbox_session.post(f"{sandbox.base_url}/plans/v1"):
            pass
    for path in ("/locations/v1", "/plans/v1"):
        async with sandbox_session.post(f"{sandbox.base_url}{path}") as response:
            assert response.status == 405
    status, summary = await control(sandbox, sandbox_session, "GET", "/traffic")
    assert status == 200
    assert summary["requests"] == 3
    assert summary["statuses"] == {"405": 2, "499": 1}
    assert 1 <= summary["maxPerSecond"] <= 3
    _, tapkey = await control(
        sandbox, sandbox_session, "GET", "/traffic?service=tapkey"
    )
    assert tapkey["requests"] == 0


async def test_operator_can_shorten_and_restatus_a_booking(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """PATCH changes what the public API cannot: times and status."""
    state = sandbox.world.spacebring
    booking_id = next(b for b, s in state.booking_status.items() if s == "confirmed")
    end = parse_iso(state.bookings[booking_id]["startDate"]) + timedelta(minutes=30)
    status, body = await control(
        sandbox,
        sandbox_session,
        "PATCH",
        f"/spacebring/bookings/{booking_id}",
        {"endDate": end.isoformat(), "status": "tentative"},
    )
    assert status == 200
    assert body["status"] == "tentative"
    assert parse_iso(body["booking"]["endDate"]) == end
    status, body = await control(
        sandbox,
        sandbox_session,
        "PATCH",
        f"/spacebring/bookings/{booking_id}",
        {"status": "canceled"},
    )
    assert body["status"] == "canceled"
    assert "deleteDate" in body["booking"]
    status, body = await control(
        sandbox,
        sandbox_session,
        "PATCH",
        f"/spacebring/bookings/{booking_id}",
        {"status": "confirmed"},
    )
    assert "deleteDate" not in body["booking"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"endDate": "2000-01-01T00:00:00Z"}, 400),
        ({"status": "maybe"}, 400),
        ({"startDate": "yesterday"}, 400),
    ],
)
async def test_invalid_booking_change_is_refused(
    sandbox: RunningSandbox,
    sandbox_session: aiohttp.ClientSession,
    change: dict[str, str],
    status: int,
) -> None:
    """End before start, unknown status, unreadable date."""
    booking_id = next(iter(sandbox.world.spacebring.bookings))
    got, _ = await control(
        sandbox, sandbox_session, "PATCH", f"/spacebring/bookings/{booking_id}", change
    )
    assert got == status


async def test_changing_an_unknown_booking_is_404(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Spacebring's error body."""
    status, body = await control(
        sandbox,
        sandbox_session,
        "PATCH",
        "/spacebring/bookings/00000000-0000-4000-8000-000000000000",
        {"status": "confirmed"},
    )
    assert (status, body["type"]) == (404, "not_found")


async def test_control_body_must_be_json_object(
    sandbox: RunningSandbox, sandbox_session: aiohttp.ClientSession
) -> None:
    """Not JSON at all is a 400 too."""
    async with sandbox_session.post(
        f"{sandbox.base_url}/_sandbox/clock", data=b"tomorrow"
    ) as response:
        assert response.status == 400
