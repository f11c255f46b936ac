"""HTTP plumbing shared by the Spacebring and Tapkey clients.

No Home Assistant imports: a client gets an aiohttp session injected and sends
every call through an `ApiTransport`, which

- waits for a slot of a (shareable) `RateLimiter` before every attempt,
- retries HTTP 429 after the server's Retry-After or a jittered backoff,
- retries idempotent requests on 502/503/504, timeouts, resets and garbled
  bodies, bounded by a `RetryPolicy`,
- maps the final status to the typed exceptions of `errors.py`.

Sleeping, the clock and the random source are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import random
import re
import time
from typing import Any, Final

import aiohttp
from yarl import URL

from .errors import (
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

_LOGGER = logging.getLogger(__name__)

type Sleep = Callable[[float], Awaitable[None]]
type Clock = Callable[[], float]
type QueryParams = Mapping[str, str] | Sequence[tuple[str, str]]

_DELTA_SECONDS: Final = re.compile(r"\d+(\.\d+)?")
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# aiohttp sends a request with one of these methods a second time, at once
# and unseen by the caller, when its connection breaks before the answer
# (RFC 9112 §9.3.1). The limiter keeps room for that second copy.
RESENT_BY_AIOHTTP: Final = frozenset(
    {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}
)

_STATUS_ERRORS: Final[dict[int, type[ApiError]]] = {
    401: ApiAuthError,
    402: ApiPlanLimitError,
    403: ApiForbiddenError,
    404: ApiNotFoundError,
    409: ApiConflictError,
}


class RateLimiter:
    """Allow at most `rate_per_second` calls in any sliding window of one second.

    A sliding log rather than a token bucket: a bucket refilled while it
    drains lets up to twice the rate through within one second, which the
    services count as a breach. One instance may be shared by several clients
    (the Spacebring limit belongs to the network's credentials, not to one
    location); waiters are served in arrival order.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        margin: float = 0.02,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set the rate; `margin` widens the window against network jitter."""
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate_per_second = rate_per_second
        # Fractional rates (one call per 2 s) become one call per window.
        self._capacity = max(1, int(rate_per_second))
        self._window = self._capacity / rate_per_second + margin
        self._clock = clock
        self._sleep = sleep
        self._grants: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self, *, headroom: int = 0) -> None:
        """Wait until one more call fits into the window, then take the slot.

        With `headroom`, wait until that many further calls would fit at the
        same instant too, without taking them: room for a copy the HTTP
        stack may send unasked.
        """
        needed = 1 + min(headroom, self._capacity - 1)
        async with self._lock:
            while True:
                now = self._clock()
                while self._grants and self._grants[0] <= now - self._window:
                    self._grants.popleft()
                if len(self._grants) + needed <= self._capacity:
                    self._grants.append(now)
                    return
                await self._sleep(
                    self._grants[len(self._grants) + needed - self._capacity - 1]
                    + self._window
                    - now
                )

    def charge(self) -> None:
        """Count a call that went out without asking (a transparent resend)."""
        self._grants.append(self._clock())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a transport tries before it gives up.

    `max_attempts` counts every attempt, the first one included. A
    Retry-After longer than `max_retry_after` is not waited for: the
    `ApiRateLimitedError` carries it so the caller can reschedule instead.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    max_retry_after: float = 60.0
    request_timeout: float = 30.0
    retry_statuses: frozenset[int] = frozenset({502, 503, 504})

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number `retry` (1-based): exponential, half jitter."""
        ceiling: float = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after(
    value: str | None, *, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if value is None or not (text := value.strip()):
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses naive
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def basic_auth_header(user: str, password: str) -> str:
    """An `Authorization` value for HTTP Basic.

    Built here rather than with aiohttp.BasicAuth, which newer aiohttp
    releases deprecate while older ones lack the replacement.
    """
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def error_message(body: bytes) -> str:
    """Best human-readable message of an error body (JSON or text)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict):
        for key in ("message", "Message", "error_description", "error"):
            if isinstance(found := payload.get(key), str) and found:
                return found
    return text[:200]


class _RetryableError(Exception):
    """An attempt failed in a way that another attempt may fix."""

    def __init__(self, final: ApiError, delay: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.delay = delay


class ApiTransport:
    """Sends JSON requests to one service with limits, retries and typed errors."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        service: str,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Wrap `session`; `service` names the API in error messages."""
        self._session = session
        self._service = service
        self._limiter = limiter
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests_sent = 0

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: QueryParams | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty).

        `idempotent` defaults to whether the method is safe to repeat; only
        then are 502/503/504, timeouts, resets and garbled bodies retried.
        HTTP 429 is always retried: the service did not act on the request.
        """
        method = method.upper()
        retry_transient = (
            method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        )
        path = URL(url).path  # queries may hold e-mails: never logged
        attempt = 1
        while True:
            try:
                return await self._attempt(
                    method=method,
                    url=url,
                    params=params,
                    json_body=json_body,
                    headers=headers,
                    retry_transient=retry_transient,
                )
            except _RetryableError as err:
                if attempt >= self._policy.max_attempts:
                    raise err.final from err
                delay = err.delay
                if delay is None:
                    delay = self._policy.backoff(attempt, self._rng)
                _LOGGER.debug(
                    "%s %s %s failed (%s), attempt %d, retrying in %.2f s",
                    self._service,
                    method,
                    path,
                    err.final,
                    attempt,
                    delay,
                )
                await self._sleep(delay)
                attempt += 1

    async def _attempt(
        self,
        *,
        method: str,
        url: str | URL,
        params: QueryParams | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        retry_transient: bool,
    ) -> Any:
        resendable = method in RESENT_BY_AIOHTTP
        if self._limiter is not None:
            await self._limiter.acquire(headroom=1 if resendable else 0)
        self.requests_sent += 1
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._policy.request_timeout),
            ) as response:
                body = await response.read()
                status = response.status
                retry_after_header = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as err:
            if (
                resendable
                and self._limiter is not None
                and isinstance(
                    err, aiohttp.ClientOSError | aiohttp.ServerDisconnectedError
                )
            ):
                self._limiter.charge()  # aiohttp sent it twice before giving up
            kind = "timed out" if isinstance(err, TimeoutError) else "unreachable"
            failure = ApiConnectionError(f"{self._service} {kind}: {err!r}")
            if retry_transient:
                raise _RetryableError(failure) from err
            raise failure from err

        if status < 400:
            return self._decode(body, retry_transient)
        raise self._status_error(status, body, retry_after_header, retry_transient)

    def _decode(self, body: bytes, retry_transient: bool) -> Any:
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError as err:
            failure = ApiInvalidResponseError(
                f"{self._service} sent a body that is not JSON: {err}"
            )
            # A garbled body on a read is a transport accident; a write
            # may have happened, so it is reported instead of repeated.
            if retry_transient:
                raise _RetryableError(failure) from err
            raise failure from err

    def _status_error(
        self,
        status: int,
        body: bytes,
        retry_after_header: str | None,
        retry_transient: bool,
    ) -> Exception:
        message = f"{self._service} HTTP {status}: {error_message(body)}"
        retry_after = parse_retry_after(retry_after_header)
        if status == 429:
            limited = ApiRateLimitedError(message, retry_after=retry_after)
            if retry_after is not None and retry_after > self._policy.max_retry_after:
                return limited
            return _RetryableError(limited, retry_after)
        if status >= 500:
            server_error = ApiServerError(message, status=status)
            if retry_transient and status in self._policy.retry_statuses:
                if retry_after is not None:
                    retry_after = min(retry_after, self._policy.max_retry_after)
                return _RetryableError(server_error, retry_after)
            return server_error
        return _STATUS_ERRORS.get(status, ApiRequestError)(message, status=status)
