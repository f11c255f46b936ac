"""Benchmark of the Spacebring client and the sandbox.

Run from the repository root: `python -m benchmarks.bench_spacebring`. Prints
one JSON line:

- `sandbox_start_s`: `python -m sandbox` from launch to its banner;
- `parse_10000_bookings_ms`: booking records (already decoded JSON) to typed
  `Booking`s, best of five; `json_decode_10000_bookings_ms` beside it;
- reading all 10,000 bookings of a location (three statuses, pages of 100)
  through the client from the sandbox while 20% of requests fail with a
  transient fault (429 with and without Retry-After, 502, 503, timeout,
  connection reset or dropped, malformed JSON): requests the client sent,
  requests the sandbox received, the most that arrived in any one second,
  records delivered and unique, seconds taken.

Exits non-zero if a record is lost or doubled or the rate was exceeded.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import json
from pathlib import Path
import socket
import sys
import time
from typing import Any

import aiohttp

from custom_components.spacebring_tapkey.api.http import RetryPolicy
from custom_components.spacebring_tapkey.api.models import BookingStatus
from custom_components.spacebring_tapkey.api.spacebring import SpacebringClient
from custom_components.spacebring_tapkey.api.spacebring_parse import (
    parse_booking,
    parse_records,
)
from sandbox.clock import SandboxClock
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.faults import TRANSIENT_FAULTS, FaultInjector
from sandbox.server import run_sandbox
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE, Scale
from sandbox.world import World, generate_world

BOOKINGS = 10_000
FAULT_RATE = 0.2
SEED = 11
REPO = Path(__file__).resolve().parents[1]


def _main_location(world: World) -> str:
    return next(
        key
        for key, location in world.spacebring.locations.items()
        if location["title"] == MAIN_LOCATION_TITLE
    )


def _served_bookings(world: World, location_id: str) -> list[dict[str, Any]]:
    state = world.spacebring
    return [
        booking
        for booking in state.bookings.values()
        if state.resources[booking["resourceRef"]]["locationRef"] == location_id
    ]


def measure_parsing(world: World, location_id: str) -> dict[str, float]:
    """Decode and parse 10,000 booking records, best of five each."""
    wire = json.dumps({"bookings": _served_bookings(world, location_id)}).encode()
    decode, parse = [], []
    for _ in range(5):
        started = time.perf_counter()
        records = json.loads(wire)["bookings"]
        decode.append(time.perf_counter() - started)
        started = time.perf_counter()
        parsed, skipped = parse_records(
            records,
            lambda item: parse_booking(item, BookingStatus.CONFIRMED),
            "booking",
        )
        parse.append(time.perf_counter() - started)
        if len(parsed) != BOOKINGS or skipped:
            raise SystemExit(f"parsed {len(parsed)} bookings, skipped {skipped}")
    return {
        "parse_10000_bookings_ms": round(min(parse) * 1000, 1),
        "json_decode_10000_bookings_ms": round(min(decode) * 1000, 1),
    }


def measure_start() -> float:
    """Seconds from launching `python -m sandbox` to its printed banner."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def run() -> float:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                if line.startswith(b"  Tapkey locking system"):
                    return time.perf_counter() - started
            raise SystemExit("the sandbox exited before printing its banner")
        finally:
            process.terminate()
            await process.wait()

    return asyncio.run(run())


async def measure_faulted_read(world: World, location_id: str) -> dict[str, Any]:
    """All bookings through the client while 20% of requests fail."""
    # Injected timeouts hold the answer longer than the client waits.
    faults = FaultInjector(seed=SEED, timeout_seconds=2.0, retry_after_seconds=1)
    faults.fail_randomly(FAULT_RATE, TRANSIENT_FAULTS)
    async with (
        run_sandbox(world, faults=faults) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        client = SpacebringClient(
            session,
            SPACEBRING_CLIENT_ID,
            SPACEBRING_CLIENT_SECRET,
            base_url=sandbox.base_url,
            policy=RetryPolicy(request_timeout=1.0),
        )
        started = time.perf_counter()
        result = await client.async_get_bookings(
            location_id, statuses=list(BookingStatus)
        )
        elapsed = time.perf_counter() - started
        traffic = sandbox.traffic.summary()
    ids = [booking.id for booking in result.items]
    expected = {booking["id"] for booking in _served_bookings(world, location_id)}
    per_status = Counter(world.spacebring.booking_status[i] for i in expected)
    return {
        "pages": sum(-(-count // 100) for count in per_status.values()),
        "requests_client": client.requests_sent,
        "requests_sandbox": traffic["requests"],
        "max_requests_in_1s": traffic["maxPerSecond"],
        "faults_injected": {str(k): n for k, n in sorted(faults.injected.items())},
        "sandbox_statuses": traffic["statuses"],
        "records_delivered": len(ids),
        "records_unique": len(set(ids)),
        "records_match_world": set(ids) == expected,
        "skipped": len(result.skipped),
        "elapsed_s": round(elapsed, 2),
    }


def main() -> None:
    """Measure and print one JSON line."""
    clock = SandboxClock()
    world = generate_world(seed=SEED, scale=Scale.parse(str(BOOKINGS)), now=clock.now())
    location_id = _main_location(world)
    figures: dict[str, Any] = {
        "benchmark": "spacebring",
        "sandbox_start_s": round(measure_start(), 2),
        **measure_parsing(world, location_id),
        **asyncio.run(measure_faulted_read(world, location_id)),
    }
    print(json.dumps(figures))
    if not (
        figures["records_delivered"] == figures["records_unique"] == BOOKINGS
        and figures["records_match_world"]
        and figures["max_requests_in_1s"] <= 10
    ):
        raise SystemExit("benchmark requirements not met")


if __name__ == "__main__":
    main()
