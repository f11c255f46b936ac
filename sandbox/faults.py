"""Fault injection for every API route of the sandbox.

A `FaultInjector` holds rules ("the next 2 requests to the bookings list get
HTTP 503", "20% of all requests fail somehow"); `fault_middleware` applies
them in front of both the Spacebring and the Tapkey routes. Control routes
under `/_sandbox` are never faulted, so a test can always switch faults off.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import fnmatch
import json
import random
import socket
import struct
from typing import Any, Final

from aiohttp import web

CONTROL_PREFIX: Final = "/_sandbox"
# Status logged for a request whose connection was reset: nothing was sent.
NO_RESPONSE: Final = 499
_TAPKEY_PREFIXES: Final = ("/api/", "/connect/")

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FaultKind(StrEnum):
    """What can go wrong with one request."""

    RATE_LIMITED = "rate_limited"  # 429 with Retry-After
    RATE_LIMITED_NO_RETRY_AFTER = "rate_limited_no_retry_after"
    SERVER_ERROR = "server_error"  # 500
    BAD_GATEWAY = "bad_gateway"  # 502 from a proxy, HTML body
    UNAVAILABLE = "unavailable"  # 503
    TIMEOUT = "timeout"  # answers only after `timeout_seconds`
    CONNECTION_RESET = "connection_reset"  # TCP reset before any response
    CONNECTION_DROPPED = "connection_dropped"  # closed halfway through the body
    MALFORMED_JSON = "malformed_json"  # truncated body, status kept
    BROKEN_RECORD = "broken_record"  # one listed record gets a broken field
    REPEATED_PAGE_TOKEN = "repeated_page_token"  # next token = the one sent


# Faults a correct client survives on a read without losing or doubling data.
TRANSIENT_FAULTS: Final = (
    FaultKind.RATE_LIMITED,
    FaultKind.RATE_LIMITED_NO_RETRY_AFTER,
    FaultKind.BAD_GATEWAY,
    FaultKind.UNAVAILABLE,
    FaultKind.TIMEOUT,
    FaultKind.CONNECTION_RESET,
    FaultKind.CONNECTION_DROPPED,
    FaultKind.MALFORMED_JSON,
)


@dataclass(slots=True)
class FaultRule:
    """Which requests fail and how.

    `route` is a glob over the request path ("*", "/resources/bookings/v1*",
    "/api/v1/Owners/*/Grants"). With `count` the next N matching requests
    fail; with `probability` each matching request fails with that chance;
    with neither, every matching request fails.
    """

    kinds: tuple[FaultKind, ...]
    route: str = "*"
    method: str | None = None
    probability: float | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        """Reject rules that could never fire or fire ambiguously."""
        if not self.kinds:
            raise ValueError("a fault rule needs at least one fault kind")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("probability must lie between 0 and 1")
        if self.count is not None and self.count < 0:
            raise ValueError("count must not be negative")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule is about the request."""
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.route)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FaultRule:
        """Build a rule from the JSON of `POST /_sandbox/faults`."""
        kinds = raw.get("kinds", raw.get("kind"))
        if isinstance(kinds, str):
            kinds = [kinds]
        if not isinstance(kinds, list):
            raise TypeError("kinds must be a list of fault kinds")
        probability = raw.get("probability")
        count = raw.get("count")
        return cls(
            kinds=tuple(FaultKind(kind) for kind in kinds),
            route=str(raw.get("route", "*")),
            method=raw.get("method"),
            probability=None if probability is None else float(probability),
            count=None if count is None else int(count),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the remaining count, for next-N rules)."""
        return {
            "kinds": [str(kind) for kind in self.kinds],
            "route": self.route,
            "method": self.method,
            "probability": self.probability,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    """Which listed record a BROKEN_RECORD fault damaged."""

    path: str
    record_id: Any
    field: str


@dataclass(slots=True)
class FaultInjector:
    """Decides per request whether and how it fails; counts what it did."""

    seed: int | None = None
    timeout_seconds: float = 35.0
    retry_after_seconds: int = 1
    rules: list[FaultRule] = field(default_factory=list)
    injected: Counter[FaultKind] = field(default_factory=Counter)
    broken_records: list[BrokenRecord] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        """Seed the dice so a faulted run can be replayed."""
        self._rng = random.Random(self.seed)

    def add(self, rule: FaultRule) -> FaultRule:
        """Append a rule; earlier rules are asked first."""
        self.rules.append(rule)
        return rule

    def fail_next(
        self, kind: FaultKind, *, route: str = "*", count: int = 1
    ) -> FaultRule:
        """Shortcut: the next `count` requests to `route` fail with `kind`."""
        return self.add(FaultRule(kinds=(kind,), route=route, count=count))

    def fail_randomly(
        self,
        probability: float,
        kinds: Iterable[FaultKind] = TRANSIENT_FAULTS,
        *,
        route: str = "*",
    ) -> FaultRule:
        """Shortcut: each request to `route` fails with `probability`."""
        return self.add(
            FaultRule(kinds=tuple(kinds), route=route, probability=probability)
        )

    def clear(self) -> None:
        """Remove every rule (counters stay for inspection)."""
        self.rules.clear()

    def pick(self, method: str, path: str) -> FaultKind | None:
        """The fault for this request, if any rule fires."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.count is not None:
                if rule.count == 0:
                    continue
                rule.count -= 1
            elif (
                rule.probability is not None and self._rng.random() >= rule.probability
            ):
                continue
            return self._rng.choice(rule.kinds)
        return None

    def choose_index(self, length: int) -> int:
        """A seeded index (which record to break)."""
        return self._rng.randrange(length)

    def as_dict(self) -> dict[str, Any]:
        """State for `GET /_sandbox/faults`."""
        return {
            "rules": [rule.as_dict() for rule in self.rules],
            "injected": {str(kind): n for kind, n in sorted(self.injected.items())},
            "timeoutSeconds": self.timeout_seconds,
            "retryAfterSeconds": self.retry_after_seconds,
        }


def _error(path: str, status: int, message: str, kind: str) -> web.Response:
    """An error body in the shape of the service that owns `path`."""
    if path.startswith(_TAPKEY_PREFIXES):
        body: dict[str, str] = {"ErrorCode": kind, "Message": message}
    else:
        body = {"message": message, "type": kind}
    return web.json_response(body, status=status)


def _reset_connection(request: web.Request) -> web.Response:
    """Abort the TCP connection with RST, as a crashed proxy would."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: close() sends RST instead of an orderly FIN.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        transport.abort()
    return web.Response(status=NO_RESPONSE)  # never reaches the client


async def _drop_midway(
    request: web.Request, response: web.StreamResponse
) -> web.StreamResponse:
    """Send the status, headers and half the body, then close the connection."""
    body = response.body if isinstance(response, web.Response) else None
    raw = body if isinstance(body, bytes) and body else b'{"records": []}'
    partial = web.StreamResponse(status=response.status)
    partial.content_type = "application/json"
    partial.content_length = len(raw)
    await partial.prepare(request)
    await partial.write(raw[: len(raw) // 2])
    if request.transport is not None:
        request.transport.close()
    return partial


def _truncate(response: web.StreamResponse) -> web.Response:
    body = response.body if isinstance(response, web.Response) else None
    raw = body if isinstance(body, bytes) and body else b'{"records": [{"id": "'
    status = response.status if raw is body else 200
    return web.Response(
        status=status,
        body=raw[: max(1, len(raw) // 2)],
        content_type="application/json",
    )


def _json_body(response: web.StreamResponse) -> Any:
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 10:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _break_record(
    injector: FaultInjector, path: str, response: web.StreamResponse
) -> web.StreamResponse:
    """Damage one record of the first list in the body (a date, else the id)."""
    payload = _json_body(response)
    if isinstance(payload, dict):
        records = next(
            (value for value in payload.values() if isinstance(value, list) and value),
            None,
        )
    elif isinstance(payload, list):
        records = payload or None
    else:
        records = None
    if not records or not isinstance(
        record := records[injector.choose_index(len(records))], dict
    ):
        return response
    field_name = next(
        (key for key, value in record.items() if _is_timestamp(value)), "id"
    )
    injector.broken_records.append(BrokenRecord(path, record.get("id"), field_name))
    record[field_name] = "not-a-date" if field_name != "id" else None
    return web.json_response(payload, status=response.status)


def _repeat_token(
    request: web.Request, response: web.StreamResponse
) -> web.StreamResponse:
    payload = _json_body(response)
    sent = request.query.get("nextPageToken")
    if not isinstance(payload, dict) or not sent:
        return response
    payload["nextPageToken"] = sent
    return web.json_response(payload, status=response.status)


def fault_middleware(injector: FaultInjector) -> Callable[..., Any]:
    """aiohttp middleware applying `injector` to every non-control route."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return await handler(request)
        kind = injector.pick(request.method, path)
        if kind is None:
            return await handler(request)
        injector.injected[kind] += 1
        match kind:
            case FaultKind.RATE_LIMITED:
                response = _error(path, 429, "Too many requests", "rate_limit")
                response.headers["Retry-After"] = str(injector.retry_after_seconds)
                return response
            case FaultKind.RATE_LIMITED_NO_RETRY_AFTER:
                return _error(path, 429, "Too many requests", "rate_limit")
            case FaultKind.SERVER_ERROR:
                return _error(path, 500, "Internal server error", "internal")
            case FaultKind.BAD_GATEWAY:
                return web.Response(
                    status=502,
                    text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="text/html",
                )
            case FaultKind.UNAVAILABLE:
                return _error(path, 503, "Service unavailable", "unavailable")
            case FaultKind.TIMEOUT:
                await asyncio.sleep(injector.timeout_seconds)
                return await handler(request)
            case FaultKind.CONNECTION_RESET:
                return _reset_connection(request)
            case FaultKind.CONNECTION_DROPPED:
                return await _drop_midway(request, await handler(request))
            case FaultKind.MALFORMED_JSON:
                return _truncate(await handler(request))
            case FaultKind.BROKEN_RECORD:
                return _break_record(injector, path, await handler(request))
            case FaultKind.REPEATED_PAGE_TOKEN:
                return _repeat_token(request, await handler(request))

    return middleware
