"""Sandbox building blocks without HTTP: clock, paging, fault rules, traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.clock import SandboxClock
from sandbox.faults import FaultInjector, FaultKind, FaultRule
from sandbox.paging import (
    PageTokenError,
    decode_token,
    encode_token,
    paginate,
    parse_limit,
)
from sandbox.traffic import service_of

__all__ = ["DOMAIN"]

START = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_clock_follows_real_time_shifted_by_what_was_set() -> None:
    """Setting keeps time running from the new instant."""
    wall = Wall()
    clock = SandboxClock(wall)
    clock.set(START + timedelta(days=1))
    wall.now += timedelta(minutes=5)
    assert clock.now() == START + timedelta(days=1, minutes=5)
    clock.advance(timedelta(hours=1))
    assert clock.now() == START + timedelta(days=1, hours=1, minutes=5)


def test_frozen_clock_stands_still_and_resumes_where_it_stood() -> None:
    """Freeze, move while frozen, resume."""
    wall = Wall()
    clock = SandboxClock(wall)
    clock.freeze()
    wall.now += timedelta(hours=2)
    assert clock.now() == START
    clock.set(START + timedelta(days=3))
    assert clock.now() == START + timedelta(days=3)
    clock.resume()
    wall.now += timedelta(minutes=1)
    assert clock.now() == START + timedelta(days=3, minutes=1)
    clock.resume()  # resuming a running clock changes nothing
    clock.reset()
    assert clock.now() == wall.now
    assert clock.as_dict()["frozen"] is False


def test_clock_refuses_naive_times() -> None:
    """Everything in the sandbox is aware UTC."""
    with pytest.raises(ValueError, match="timezone-aware"):
        SandboxClock().set(datetime(2026, 1, 1))


def test_real_clock_is_aware_utc() -> None:
    """The default source is the wall clock in UTC."""
    assert SandboxClock().now().tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "limit"),
    [(None, 25), ("", 25), ("x", 25), ("-3", 25), ("40", 40), ("101", 100)],
)
def test_page_limit(raw: str | None, limit: int) -> None:
    """Default 25, invalid means default, capped at 100."""
    assert parse_limit(raw) == limit


def test_token_round_trip_and_filter_binding() -> None:
    """A token decodes to its key only with the same filters."""
    token = encode_token(("2026-01-01T00:00:00.000Z", "id-1"), "abc")
    assert decode_token(token, "abc") == ("2026-01-01T00:00:00.000Z", "id-1")
    with pytest.raises(PageTokenError, match="other filters"):
        decode_token(token, "xyz")
    with pytest.raises(PageTokenError, match="not valid"):
        decode_token("bm90IGpzb24", "abc")


def test_paging_descending_walks_to_the_start() -> None:
    """Newest first, then older pages, then no token."""
    items = [{"id": f"{n:02d}"} for n in range(7)]
    query: dict[str, str] = {"limit": "3"}
    seen: list[str] = []
    while True:
        page, token = paginate(
            items, lambda i: (i["id"],), query=query, descending=True
        )
        seen += [item["id"] for item in page]
        if token is None:
            break
        query = {"limit": "3", "nextPageToken": token}
    assert seen == ["06", "05", "04", "03", "02", "01", "00"]


def test_fault_rule_needs_sensible_settings() -> None:
    """No kinds, probability outside 0..1, negative count."""
    with pytest.raises(ValueError, match="at least one"):
        FaultRule(kinds=())
    with pytest.raises(ValueError, match="probability"):
        FaultRule(kinds=(FaultKind.TIMEOUT,), probability=1.5)
    with pytest.raises(ValueError, match="count"):
        FaultRule(kinds=(FaultKind.TIMEOUT,), count=-1)


def test_next_n_rule_fires_n_times_for_matching_requests_only() -> None:
    """Route glob and method both have to match."""
    faults = FaultInjector(seed=1)
    faults.add(
        FaultRule(
            kinds=(FaultKind.UNAVAILABLE,),
            route="/resources/bookings/v1*",
            method="get",
            count=2,
        )
    )
    assert faults.pick("POST", "/resources/bookings/v1") is None
    assert faults.pick("GET", "/plans/v1") is None
    assert faults.pick("GET", "/resources/bookings/v1") is FaultKind.UNAVAILABLE
    assert faults.pick("GET", "/resources/bookings/v1/abc") is FaultKind.UNAVAILABLE
    assert faults.pick("GET", "/resources/bookings/v1") is None
    assert faults.rules[0].as_dict()["count"] == 0


def test_probability_rule_is_seeded_and_roughly_right() -> None:
    """20% of 2,000 requests, the same ones for the same seed."""

    def run(seed: int) -> list[FaultKind | None]:
        faults = FaultInjector(seed=seed)
        faults.fail_randomly(0.2)
        return [faults.pick("GET", "/plans/v1") for _ in range(2000)]

    first = run(9)
    assert first == run(9)
    failed = sum(1 for kind in first if kind is not None)
    assert 320 < failed < 480
    assert len({kind for kind in first if kind is not None}) > 3


def test_rule_with_neither_count_nor_probability_always_fires() -> None:
    """Until cleared."""
    faults = FaultInjector()
    faults.add(FaultRule.from_dict({"kind": "server_error"}))
    assert [faults.pick("GET", "/x") for _ in range(3)] == [FaultKind.SERVER_ERROR] * 3
    faults.clear()
    assert faults.pick("GET", "/x") is None


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/resources/bookings/v1", "spacebring"),
        ("/api/v1/Owners", "tapkey"),
        ("/connect/token", "tapkey"),
        ("/_sandbox/faults", "control"),
    ],
)
def test_traffic_is_told_apart_by_path(path: str, service: str) -> None:
    """Which API a request was for."""
    assert service_of(path) == service
