"""The shared HTTP plumbing: rate limiter, Retry-After, backoff, transport.

The transport is exercised against a scripted loopback server that answers
each request with the next prepared step; retry delays go to a recording
sleep so no test waits for a backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import itertools
import random
import socket

import aiohttp
import pytest

from custom_components.spacebring_tapkey.api.errors import (
    ApiAuthError,
    ApiConflictError,
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiInvalidResponseError,
    ApiNotFoundError,
    ApiPlanLimitError,
    ApiRateLimitedError,
    ApiRequestError,
    ApiServerError,
)
from custom_components.spacebring_tapkey.api.http import (
    ApiTransport,
    RateLimiter,
    RetryPolicy,
    error_message,
    parse_retry_after,
)
from sandbox.traffic import max_in_window

from .conftest import RecordingSleep
from .scripted import ScriptedServer, hang, reply, reset, run_scripted_server

THINGS = "/things"


@pytest.fixture
async def server(socket_enabled: None) -> AsyncIterator[ScriptedServer]:
    """A loopback server playing a script, one step per request."""
    async with run_scripted_server() as scripted:
        yield scripted


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def transport_for(
    session: aiohttp.ClientSession,
    sleep: RecordingSleep,
    *,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
) -> ApiTransport:
    """A transport that retries quickly and never really sleeps."""
    return ApiTransport(
        session,
        service="Demo",
        limiter=limiter,
        policy=policy or RetryPolicy(max_attempts=3, request_timeout=0.3),
        sleep=sleep,
        rng=random.Random(3),
    )


# --- Retry-After -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), ("0", 0.0), (" 12 ", 12.0), ("1.5", 1.5)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    """Delta-seconds are read as they are."""
    assert parse_retry_after(header) == seconds


def test_retry_after_as_http_date_counts_from_now() -> None:
    """An HTTP-date means: wait until then."""
    now = datetime(2026, 5, 11, 9, 0, 0, tzinfo=UTC)
    header = "Mon, 11 May 2026 09:00:30 GMT"
    assert parse_retry_after(header, now=now) == 30.0


def test_retry_after_date_without_zone_is_gmt() -> None:
    """A "-0000" offset (no zone information) still means GMT."""
    now = datetime(2026, 5, 11, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 11 May 2026 09:01:00 -0000", now=now) == 60.0


def test_retry_after_in_the_past_means_now() -> None:
    """A date already passed asks for no wait at all."""
    now = datetime(2026, 5, 11, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 11 May 2026 08:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "-3", "Someday 99"])
def test_unreadable_retry_after_is_ignored(header: str | None) -> None:
    """Junk gives None, so the client falls back to its own backoff."""
    assert parse_retry_after(header) is None


# --- backoff and limiter -----------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_and_stays_bounded() -> None:
    """Retry n waits between half and all of min(max, base * 2^(n-1))."""
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [policy.backoff(retry, rng) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1  # jittered, not lock-step


@dataclass
class FakeTime:
    """A monotonic clock that moves only when someone sleeps."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay


async def test_rate_limiter_never_lets_more_than_the_rate_into_one_second() -> None:
    """35 calls at 10/s: no one-second window holds more than 10."""
    fake = FakeTime()
    limiter = RateLimiter(10, margin=0.0, clock=fake, sleep=fake.sleep)
    grants = []
    for _ in range(35):
        await limiter.acquire()
        grants.append(fake.now)
    assert max_in_window(grants) == 10
    assert grants[-1] - grants[0] == pytest.approx(3.0)


async def test_rate_limiter_shared_by_two_clients_holds_the_sum_to_the_rate() -> None:
    """Clients of one network share a limiter; together they stay under it."""
    fake = FakeTime()
    limiter = RateLimiter(10, clock=fake, sleep=fake.sleep)
    grants: list[float] = []

    async def client() -> None:
        for _ in range(15):
            await limiter.acquire()
            grants.append(fake.now)

    await asyncio.gather(client(), client())
    assert len(grants) == 30
    assert max_in_window(grants) <= 10


async def test_headroom_keeps_a_slot_free_for_an_unasked_resend() -> None:
    """With room kept for a copy, even every call sent twice stays at 10."""
    fake = FakeTime()
    limiter = RateLimiter(10, margin=0.0, clock=fake, sleep=fake.sleep)
    on_the_wire = []
    for _ in range(30):
        await limiter.acquire(headroom=1)
        on_the_wire += [fake.now, fake.now]  # sent, and resent by the stack
        limiter.charge()
    assert max_in_window(on_the_wire) == 10


async def test_headroom_costs_one_call_per_second_when_nothing_is_resent() -> None:
    """Without resends, calls with headroom run at rate minus one."""
    fake = FakeTime()
    limiter = RateLimiter(10, margin=0.0, clock=fake, sleep=fake.sleep)
    grants = []
    for _ in range(28):
        await limiter.acquire(headroom=1)
        grants.append(fake.now)
    assert max_in_window(grants) == 9


async def test_rate_limiter_below_one_per_second_spaces_calls() -> None:
    """Half a call per second means one call every two seconds."""
    fake = FakeTime()
    limiter = RateLimiter(0.5, margin=0.0, clock=fake, sleep=fake.sleep)
    grants = []
    for _ in range(3):
        await limiter.acquire()
        grants.append(fake.now)
    assert [b - a for a, b in itertools.pairwise(grants)] == [2.0, 2.0]
    assert limiter.rate_per_second == 0.5


def test_rate_limiter_needs_a_positive_rate() -> None:
    """A zero rate would block forever."""
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


# --- transport: success --------------------------------------------------------


async def test_json_body_is_returned(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A 200 answer gives its decoded JSON; query parameters are sent."""
    server.script(reply(200, {"things": [1, 2]}))
    transport = transport_for(session, RecordingSleep())
    body = await transport.request("GET", server.url + THINGS, params={"limit": "100"})
    assert body == {"things": [1, 2]}
    assert server.seen == [("GET", "/things?limit=100")]
    assert transport.requests_sent == 1


async def test_empty_answer_gives_none(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """204 No Content (a DELETE) gives None."""
    server.script(reply(204))
    transport = transport_for(session, RecordingSleep())
    assert await transport.request("DELETE", server.url + THINGS) is None


# --- transport: rate limiting ----------------------------------------------------


async def test_429_waits_as_long_as_retry_after_says(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """The service's Retry-After is the delay before the next attempt."""
    server.script(
        reply(429, {"message": "slow down"}, headers={"Retry-After": "2"}),
        reply(200, {"ok": True}),
    )
    sleep = RecordingSleep()
    transport = transport_for(session, sleep)
    assert await transport.request("POST", server.url + THINGS, json_body={}) == {
        "ok": True
    }
    assert sleep.delays == [2.0]


async def test_429_with_an_http_date_waits_until_then(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """Retry-After may be an HTTP-date instead of seconds."""
    then = datetime.now(UTC) + timedelta(seconds=20)
    server.script(
        reply(429, headers={"Retry-After": then.strftime("%a, %d %b %Y %H:%M:%S GMT")}),
        reply(200, {"ok": True}),
    )
    sleep = RecordingSleep()
    await transport_for(session, sleep).request("GET", server.url + THINGS)
    assert 15 < sleep.delays[0] <= 20


async def test_429_without_retry_after_backs_off(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """Without a hint the client waits its own growing, jittered delay."""
    server.script(reply(429), reply(429), reply(200, {"ok": True}))
    sleep = RecordingSleep()
    policy = RetryPolicy(max_attempts=3, backoff_base=1.0)
    await transport_for(session, sleep, policy=policy).request(
        "GET", server.url + THINGS
    )
    assert 0.5 <= sleep.delays[0] <= 1.0
    assert 1.0 <= sleep.delays[1] <= 2.0


async def test_429_that_persists_raises_rate_limited(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """After max_attempts the 429 surfaces, with the last Retry-After."""
    server.script(*[reply(429, headers={"Retry-After": "1"})] * 3)
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiRateLimitedError) as caught:
        await transport.request("GET", server.url + THINGS)
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429
    assert transport.requests_sent == 3


async def test_429_asking_for_too_long_a_wait_is_not_waited_for(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """An hour's Retry-After goes to the caller instead of blocking a sync."""
    server.script(reply(429, headers={"Retry-After": "3600"}))
    sleep = RecordingSleep()
    with pytest.raises(ApiRateLimitedError) as caught:
        await transport_for(session, sleep).request("GET", server.url + THINGS)
    assert caught.value.retry_after == 3600.0
    assert sleep.delays == []


async def test_limiter_is_asked_before_every_attempt(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """Retries count against the rate limit like first attempts."""
    fake = FakeTime()
    limiter = RateLimiter(1, margin=0.0, clock=fake, sleep=fake.sleep)
    server.script(reply(503), reply(503), reply(200, {"ok": True}))
    transport = transport_for(session, RecordingSleep(), limiter=limiter)
    await transport.request("GET", server.url + THINGS)
    assert fake.now == 102.0  # three attempts at one per second


# --- transport: transient failures --------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_read_is_retried_on_gateway_errors(
    server: ScriptedServer, session: aiohttp.ClientSession, status: int
) -> None:
    """A GET survives a proxy's 502/503/504."""
    server.script(reply(status, raw=b"<html>proxy error</html>"), reply(200, {"ok": 1}))
    transport = transport_for(session, RecordingSleep())
    assert await transport.request("GET", server.url + THINGS) == {"ok": 1}
    assert transport.requests_sent == 2


async def test_503_retry_after_is_honoured(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A 503 that says when to come back is believed."""
    server.script(reply(503, headers={"Retry-After": "4"}), reply(200, {"ok": 1}))
    sleep = RecordingSleep()
    await transport_for(session, sleep).request("GET", server.url + THINGS)
    assert sleep.delays == [4.0]


async def test_write_is_not_retried_on_a_gateway_error(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A POST may have happened behind a failing proxy: no blind repeat."""
    server.script(reply(503, {"message": "busy"}))
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiServerError) as caught:
        await transport.request("POST", server.url + THINGS, json_body={"a": 1})
    assert caught.value.status == 503
    assert transport.requests_sent == 1


async def test_write_declared_idempotent_is_retried(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """The caller may vouch that repeating a write is safe."""
    server.script(reply(502), reply(200, {"ok": 1}))
    transport = transport_for(session, RecordingSleep())
    result = await transport.request(
        "POST", server.url + THINGS, json_body={}, idempotent=True
    )
    assert result == {"ok": 1}


async def test_internal_server_error_is_not_retried(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A 500 is a bug on their side, not a blip: report it at once."""
    server.script(reply(500, {"message": "boom", "type": "internal"}))
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiServerError, match="boom"):
        await transport.request("GET", server.url + THINGS)
    assert transport.requests_sent == 1


async def test_gateway_errors_that_persist_raise_server_error(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """Retries are bounded."""
    server.script(*[reply(502)] * 3)
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiServerError):
        await transport.request("GET", server.url + THINGS)
    assert transport.requests_sent == 3


async def test_read_is_retried_after_a_timeout(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A GET that outlasts the request timeout is tried again."""
    server.script(hang(1.0), reply(200, {"ok": 1}))
    transport = transport_for(session, RecordingSleep())
    assert await transport.request("GET", server.url + THINGS) == {"ok": 1}


async def test_write_timing_out_raises_connection_error(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A POST that timed out may have happened: report, don't repeat."""
    server.script(hang(1.0))
    with pytest.raises(ApiConnectionError, match="timed out"):
        await transport_for(session, RecordingSleep()).request(
            "POST", server.url + THINGS
        )


async def test_read_is_retried_after_a_connection_reset(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A reset connection is a transport accident for a GET."""
    server.script(reset, reset, reply(200, {"ok": 1}))
    transport = transport_for(session, RecordingSleep())
    assert await transport.request("GET", server.url + THINGS) == {"ok": 1}
    # aiohttp itself repeats an idempotent request once on a reset; the
    # transport's own retry comes on top of that.
    assert len(server.seen) == 3
    assert transport.requests_sent == 2


async def test_resets_that_persist_raise_connection_error(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """Bounded attempts, then ApiConnectionError."""
    server.script(*[reset] * 6)
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiConnectionError, match="unreachable"):
        await transport.request("GET", server.url + THINGS)
    assert transport.requests_sent == 3


async def test_resend_of_a_reset_read_is_charged_to_the_limiter(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """aiohttp sent the GET twice: both copies count against the rate."""
    fake = FakeTime()
    limiter = RateLimiter(4, margin=0.0, clock=fake, sleep=fake.sleep)
    server.script(reset, reset, reply(200, {"ok": 1}))
    transport = transport_for(session, RecordingSleep(), limiter=limiter)
    await transport.request("GET", server.url + THINGS)
    assert len(server.seen) == 3
    # Two attempts and one charged resend fill three of four slots.
    await limiter.acquire()
    assert fake.now == 100.0
    await limiter.acquire()
    assert fake.now == 101.0


async def test_write_reset_raises_connection_error_at_once(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A POST whose connection broke may have happened: no repeat."""
    server.script(reset)
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiConnectionError):
        await transport.request("POST", server.url + THINGS, json_body={})
    assert server.seen == [("POST", "/things")]


async def test_unreachable_service_raises_connection_error(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """Nothing listening: ApiConnectionError, not an aiohttp exception."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiConnectionError):
        await transport.request("GET", f"http://127.0.0.1:{port}/")


# --- transport: bodies and statuses ------------------------------------------------


async def test_garbled_body_on_a_read_is_retried(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A truncated body is treated like a reset for a GET."""
    server.script(reply(200, raw=b'{"things": [1, 2'), reply(200, {"things": [1, 2]}))
    transport = transport_for(session, RecordingSleep())
    assert await transport.request("GET", server.url + THINGS) == {"things": [1, 2]}


async def test_garbled_body_that_persists_raises_invalid_response(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """A body that is never JSON surfaces as ApiInvalidResponseError."""
    server.script(*[reply(200, raw=b"<html>hello</html>")] * 3)
    with pytest.raises(ApiInvalidResponseError):
        await transport_for(session, RecordingSleep()).request(
            "GET", server.url + THINGS
        )


async def test_garbled_body_of_a_write_is_not_repeated(
    server: ScriptedServer, session: aiohttp.ClientSession
) -> None:
    """The write happened; only its answer is unreadable."""
    server.script(reply(201, raw=b'{"booking": '))
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(ApiInvalidResponseError):
        await transport.request("POST", server.url + THINGS, json_body={})
    assert transport.requests_sent == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ApiRequestError),
        (401, ApiAuthError),
        (402, ApiPlanLimitError),
        (403, ApiForbiddenError),
        (404, ApiNotFoundError),
        (409, ApiConflictError),
        (422, ApiRequestError),
    ],
)
async def test_status_maps_to_typed_error(
    server: ScriptedServer,
    session: aiohttp.ClientSession,
    status: int,
    error: type[ApiError],
) -> None:
    """Each refusal has its own exception, carrying status and message."""
    server.script(reply(status, {"message": "not like this", "type": "x"}))
    transport = transport_for(session, RecordingSleep())
    with pytest.raises(error, match="not like this") as caught:
        await transport.request("GET", server.url + THINGS)
    assert caught.value.status == status
    assert transport.requests_sent == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"message": "Invalid client credentials", "type": "auth"}',
            "Invalid client credentials",
        ),
        (b'{"ErrorCode": "Duplicate", "Message": "exists"}', "exists"),
        (b'{"error": "invalid_grant"}', "invalid_grant"),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b'["not", "an", "object"]', '["not", "an", "object"]'),
    ],
)
def test_error_message_is_taken_from_either_service_shape(
    body: bytes, message: str
) -> None:
    """Spacebring's {message}, Tapkey's {Message}, OAuth's {error}, or text."""
    assert error_message(body) == message
