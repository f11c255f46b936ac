"""The whole sandbox world: a Spacebring network and Tapkey locking systems.

Made deterministically from a seed and a scale around the sandbox clock, or
loaded from a JSON file in the APIs' own shapes; `to_world()` writes the same
format back, so a run can be saved, edited, replayed and compared.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
import json
from pathlib import Path
import random
from typing import Any

from .spacebring_demo import Scale, generate_spacebring
from .spacebring_state import SpacebringState
from .tapkey import TapkeyState


@dataclass(slots=True)
class World:
    """Both services' state, and where it came from."""

    spacebring: SpacebringState
    tapkey: TapkeyState
    origin: str

    def to_world(self) -> dict[str, Any]:
        """The world file format: each half in its API's shapes."""
        return {
            "spacebring": self.spacebring.to_world(),
            "tapkey": self.tapkey.to_world(),
        }

    @classmethod
    def from_world(cls, raw: dict[str, Any], *, origin: str) -> World:
        """Read the world file format (either half may be missing)."""
        spacebring_raw = raw.get("spacebring")
        spacebring = (
            SpacebringState.from_world(spacebring_raw)
            if spacebring_raw
            else SpacebringState(network_id="00000000-0000-4000-8000-000000000000")
        )
        return cls(
            spacebring=spacebring,
            tapkey=TapkeyState.from_world(raw.get("tapkey") or {}),
            origin=origin,
        )

    def summary(self) -> list[str]:
        """What the world holds, in a few lines for the start-up banner."""
        state = self.spacebring
        lines = [f"World: {self.origin}"]
        for location in state.locations.values():
            here = location["id"]
            resource_ids = {
                rid for rid, r in state.resources.items() if r["locationRef"] == here
            }
            statuses = Counter(
                state.booking_status[bid]
                for bid, b in state.bookings.items()
                if b["resourceRef"] in resource_ids
            )
            lines.append(
                f"  Spacebring location {location['title']!r} ({here}):"
                f" {_count(state.plans, here)} plans,"
                f" {len(resource_ids)} resources,"
                f" {_count(state.companies, here)} companies,"
                f" {_count(state.memberships, here)} memberships,"
                f" {_count(state.subscriptions, here)} subscriptions,"
                f" {sum(statuses.values())} bookings"
                f" ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})"
            )
        for owner in self.tapkey.owners.values():
            lines.append(
                f"  Tapkey locking system {owner.name!r} ({owner.id}):"
                f" {len(owner.locks)} locks, {len(owner.lock_groups)} lock groups,"
                f" {len(owner.contacts)} contacts, {len(owner.grants)} grants"
            )
        return lines


def _count(table: dict[str, dict[str, Any]], location_id: str) -> int:
    return sum(1 for record in table.values() if record["locationRef"] == location_id)


def generate_world(*, seed: int, scale: Scale, now: datetime) -> World:
    """The demo world for a seed and scale, placed around `now`."""
    rng = random.Random(seed)
    spacebring, emails = generate_spacebring(rng, scale, now)
    tapkey = TapkeyState.generate(
        rng, member_emails=emails, scale=scale.multiplier, now=now
    )
    return World(
        spacebring=spacebring,
        tapkey=tapkey,
        origin=f"demo coworking space, seed {seed}, scale {scale.label}",
    )


def load_world(path: Path) -> World:
    """A world from a JSON file written by `GET /_sandbox/world` or by hand."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise TypeError(f"{path}: a world file holds a JSON object")
    return World.from_world(raw, origin=f"loaded from {path}")
