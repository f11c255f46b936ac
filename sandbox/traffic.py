"""A log of every request the sandbox answered, to check clients' manners.

Benchmarks and tests read from it how many requests a client really sent and
the most that arrived within any one second, measured where the service
measures it: on arrival.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
import time
from typing import Any, Final

from aiohttp import web

from .faults import CONTROL_PREFIX, NO_RESPONSE

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TAPKEY_PREFIXES: Final = ("/api/", "/connect/")


def service_of(path: str) -> str:
    """Which API a path belongs to: spacebring, tapkey or control."""
    if path.startswith(CONTROL_PREFIX):
        return "control"
    if path.startswith(_TAPKEY_PREFIXES):
        return "tapkey"
    return "spacebring"


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request: when it arrived (monotonic seconds) and how it ended."""

    at: float
    method: str
    path: str
    service: str
    status: int


def max_in_window(arrivals: Iterable[float], window: float = 1.0) -> int:
    """The most arrivals within any half-open interval of `window` seconds."""
    recent: deque[float] = deque()
    most = 0
    for at in sorted(arrivals):
        recent.append(at)
        while recent[0] <= at - window:
            recent.popleft()
        most = max(most, len(recent))
    return most


@dataclass(slots=True)
class TrafficLog:
    """Arrivals in order; bounded so a long-running sandbox stays small."""

    capacity: int = 100_000
    arrivals: deque[Arrival] = field(init=False)

    def __post_init__(self) -> None:
        """Create the bounded buffer."""
        self.arrivals = deque(maxlen=self.capacity)

    def record(self, arrival: Arrival) -> None:
        """Keep one arrival."""
        self.arrivals.append(arrival)

    def clear(self) -> None:
        """Forget everything (start of a measurement)."""
        self.arrivals.clear()

    def of(self, service: str) -> list[Arrival]:
        """Arrivals for one API."""
        return [a for a in self.arrivals if a.service == service]

    def summary(self, service: str = "spacebring") -> dict[str, Any]:
        """Request count, peak per second and statuses for one API."""
        mine = self.of(service)
        return {
            "service": service,
            "requests": len(mine),
            "maxPerSecond": max_in_window(a.at for a in mine),
            "statuses": {
                str(s): n for s, n in sorted(Counter(a.status for a in mine).items())
            },
        }


def traffic_middleware(log: TrafficLog) -> Callable[..., Any]:
    """aiohttp middleware that records every request with its final status."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        arrived = time.monotonic()
        status = NO_RESPONSE
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as err:
            status = err.status
            raise
        finally:
            log.record(
                Arrival(
                    arrived,
                    request.method,
                    request.path,
                    service_of(request.path),
                    status,
                )
            )

    return middleware
