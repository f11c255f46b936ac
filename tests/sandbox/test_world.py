"""The demo world: deterministic, complete, and loadable from a world file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import random

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.spacebring_demo import (
    ANNEX_LOCATION_TITLE,
    MAIN_LOCATION_TITLE,
    Scale,
    generate_spacebring,
)
from sandbox.spacebring_records import parse_iso
from sandbox.spacebring_state import SpacebringState
from sandbox.world import World, generate_world, load_world

__all__ = ["DOMAIN"]

NOW = datetime(2026, 5, 11, 9, 30, tzinfo=UTC)


def demo(seed: int = 1, scale: str = "small") -> World:
    """The demo world at a fixed instant."""
    return generate_world(seed=seed, scale=Scale.parse(scale), now=NOW)


def main_location(state: SpacebringState) -> str:
    """Id of the main location."""
    return next(
        k for k, v in state.locations.items() if v["title"] == MAIN_LOCATION_TITLE
    )


def test_same_seed_same_world_other_seed_other_world() -> None:
    """Replayable: the seed fixes every id and date."""
    assert demo(seed=4).to_world() == demo(seed=4).to_world()
    assert demo(seed=4).to_world() != demo(seed=5).to_world()


@pytest.mark.parametrize(
    ("text", "bookings", "members"),
    [("small", 60, 24), ("large", 10_000, 600), ("300", 300, 20), ("0", 0, 12)],
)
def test_scale_names_and_numbers(text: str, bookings: int, members: int) -> None:
    """small, large, or a number of bookings at the main location."""
    scale = Scale.parse(text)
    assert (scale.bookings, scale.members) == (bookings, members)


@pytest.mark.parametrize("text", ["huge", "-5"])
def test_unknown_scale_is_refused(text: str) -> None:
    """With a message the command line can show."""
    with pytest.raises(ValueError, match="scale"):
        Scale.parse(text)


@pytest.mark.parametrize("scale", ["0", "2", "small", "1234"])
def test_main_location_holds_exactly_the_scaled_bookings(scale: str) -> None:
    """The scale is the number of bookings at the main location."""
    state = demo(scale=scale).spacebring
    here = main_location(state)
    count = sum(
        1
        for b in state.bookings.values()
        if state.resources[b["resourceRef"]]["locationRef"] == here
    )
    assert count == Scale.parse(scale).bookings


def test_demo_space_has_what_the_rules_must_handle() -> None:
    """Groups on some plans and resources, every type, every status."""
    state = demo().spacebring
    here = main_location(state)
    assert state.locations[here]["timezoneId"] == "Europe/Vienna"
    assert {loc["title"] for loc in state.locations.values()} == {
        MAIN_LOCATION_TITLE,
        ANNEX_LOCATION_TITLE,
    }
    plans = [p for p in state.plans.values() if p["locationRef"] == here]
    assert any("access" in p for p in plans)
    assert any("access" not in p for p in plans)
    resources = [r for r in state.resources.values() if r["locationRef"] == here]
    assert {r["type"] for r in resources} >= {
        "room",
        "hotDesk",
        "dedicatedDesk",
        "office",
        "parkingLot",
        "equipment",
    }
    assert any(r["tapkeyGroupRef"] is None for r in resources)
    members_per_company = Counter(
        m["companyRef"] for m in state.memberships.values() if "companyRef" in m
    )
    assert all(members_per_company[c] >= 1 for c in state.companies)
    kinds = {(s["subscriptionType"], s["status"]) for s in state.subscriptions.values()}
    for customer in ("user", "company"):
        for status in (
            "active",
            "scheduled",
            "incomplete",
            "incompleteExpired",
            "canceled",
        ):
            assert (customer, status) in kinds
    assert set(state.booking_status.values()) == {"confirmed", "tentative", "canceled"}
    assert any(b["attendees"] for b in state.bookings.values())
    assert any("email" not in m["user"] for m in state.memberships.values())
    assert any(m["status"] == "requested" for m in state.memberships.values())


def test_bookings_are_placed_around_now() -> None:
    """From a week ago to three weeks ahead; one is in progress right now."""
    state = demo().spacebring
    starts = [parse_iso(b["startDate"]) for b in state.bookings.values()]
    assert min(starts) >= NOW - timedelta(days=8)
    assert max(starts) <= NOW + timedelta(days=22)
    assert any(
        parse_iso(b["startDate"]) <= NOW < parse_iso(b["endDate"])
        and state.booking_status[b["id"]] == "confirmed"
        for b in state.bookings.values()
    )


def test_members_emails_go_to_the_tapkey_world() -> None:
    """The generator hands Tapkey the members' addresses."""
    _, emails = generate_spacebring(random.Random(1), Scale.parse("small"), NOW)
    assert len(emails) == 23  # one of 24 members has no e-mail
    assert all("@" in email for email in emails)


def test_world_file_round_trip(tmp_path: Path) -> None:
    """Dump, load, dump again: the same file."""
    world = demo()
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world.to_world()), encoding="utf-8")
    loaded = load_world(path)
    assert loaded.to_world() == world.to_world()
    assert loaded.origin == f"loaded from {path}"


def test_hand_written_world_gets_spacebring_defaults(tmp_path: Path) -> None:
    """A short world file is completed to full API records."""
    path = tmp_path / "space.json"
    network = "11111111-1111-4111-8111-111111111111"
    path.write_text(
        json.dumps(
            {
                "spacebring": {
                    "locations": [
                        {
                            "id": "22222222-2222-4222-8222-222222222222",
                            "title": "Tiny",
                            "networkRef": network,
                        }
                    ],
                    "resources": [
                        {
                            "id": "33333333-3333-4333-8333-333333333333",
                            "title": "Room",
                            "type": "room",
                            "createDate": "2026-01-01T00:00:00Z",
                            "locationRef": "22222222-2222-4222-8222-222222222222",
                        }
                    ],
                    "bookings": [
                        {
                            "id": "b-1",
                            "resourceRef": "33333333-3333-4333-8333-333333333333",
                            "startDate": "2026-06-01T10:00:00Z",
                            "endDate": "2026-06-01T11:00:00Z",
                            "createDate": "2026-05-01T10:00:00Z",
                        },
                        {
                            "id": "b-2",
                            "resourceRef": "33333333-3333-4333-8333-333333333333",
                            "startDate": "2026-06-02T10:00:00Z",
                            "endDate": "2026-06-02T11:00:00Z",
                            "createDate": "2026-05-01T10:00:00Z",
                            "deleteDate": "2026-05-03T10:00:00Z",
                        },
                    ],
                }
            }
        ),
        encoding="utf-8",
    )
    state = load_world(path).spacebring
    assert state.network_id == network
    assert state.booking_status == {"b-1": "confirmed", "b-2": "canceled"}
    assert (
        state.resources["33333333-3333-4333-8333-333333333333"]["networkRef"] == network
    )
    assert state.bookings["b-1"]["attendees"] == []
    assert state.locations["22222222-2222-4222-8222-222222222222"]["timezoneId"] == (
        "Europe/Vienna"
    )


def test_world_file_must_be_an_object(tmp_path: Path) -> None:
    """A JSON list is not a world."""
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(TypeError, match="JSON object"):
        load_world(path)


def test_world_without_network_is_refused() -> None:
    """Locations need the network their credentials belong to."""
    with pytest.raises(ValueError, match="networkRef"):
        SpacebringState.from_world({"locations": [{"id": "x", "title": "No network"}]})


def test_booking_with_unknown_status_is_refused() -> None:
    """Only tentative, confirmed and canceled exist."""
    raw = demo().spacebring.to_world()
    raw["bookings"][0]["status"] = "pencilled"
    with pytest.raises(ValueError, match="unknown status pencilled"):
        SpacebringState.from_world(raw)


def test_world_may_have_only_one_service() -> None:
    """A Tapkey-only world file serves an empty Spacebring network."""
    tapkey_only = World.from_world({"tapkey": demo().tapkey.to_world()}, origin="t")
    assert tapkey_only.spacebring.locations == {}
    assert tapkey_only.tapkey.owners


def test_summary_names_locations_and_locking_systems() -> None:
    """The start-up banner says what world was made."""
    lines = demo().summary()
    assert lines[0] == "World: demo coworking space, seed 1, scale small"
    assert any(MAIN_LOCATION_TITLE in line and "60 bookings" in line for line in lines)
    assert any("Tapkey locking system" in line for line in lines)
