"""A tiny coworking space for the entity tests, served by the sandbox.

Loaded by tests/conftest.py. Freeze time at `NOW`
(`@pytest.mark.freeze_time(NOW, tick=True)`): the records sit at fixed
dates around Monday 2 March 2026 in Vienna.

- Ada Lovelace has the Flex plan (since 1 February, no end date), which
  opens the front door.
- Grace Hopper booked Room 3 today from 12:00 to 16:00; Alan Turing booked
  it tomorrow from 09:00 to 11:00 and invited Grace. A Room 3 booking opens
  Room 3 and the front door.

Two access groups, "Front door" and "Room 3", have fixed ids, as has the
entry, so that unique ids in snapshots stay the same from run to run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed_exact,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.spacebring_tapkey.const import (
    CONF_GROUP_REFS,
    CONF_LOCATION_ID,
    CONF_LOCATION_NAME,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_OWNER_ID,
    CONF_OWNER_NAME,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    CONF_SPACEBRING_CLIENT_ID,
    CONF_SPACEBRING_CLIENT_SECRET,
    CONF_SPACEBRING_URL,
    CONF_TAPKEY_URL,
    DOMAIN,
    SANDBOX_URL_ENV,
    SUBENTRY_ACCESS_GROUP,
)
from sandbox.clock import SandboxClock
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.world import World

from .ha_sandbox import sandbox_token

VIENNA: Final = ZoneInfo("Europe/Vienna")
# Monday 2 March 2026, 09:00 in Vienna.
NOW: Final = "2026-03-02T08:00:00+00:00"

NETWORK_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0001"
LOCATION_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0002"
FLEX_PLAN_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0003"
ROOM_3_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0004"
ADA_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0011"
GRACE_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0012"
ALAN_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0013"
ADA_SUBSCRIPTION_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0021"
GRACE_BOOKING_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0031"
ALAN_BOOKING_ID: Final = "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0032"

OWNER_ID: Final = "a7d3e9f0-1c2b-4d5e-8f90-0a1b2c3d0001"
OWNER_NAME: Final = "Tiny Hub locks"
FRONT_DOOR_LOCK_ID: Final = "a7d3e9f0-1c2b-4d5e-8f90-0a1b2c3d0011"
ROOM_3_LOCK_ID: Final = "a7d3e9f0-1c2b-4d5e-8f90-0a1b2c3d0012"

FLEX_REF: Final = "tk-front-door"
ROOM_3_REF: Final = "tk-room-3"

LOCATION_TITLE: Final = "Tiny Hub"
ENTRY_ID: Final = "01JNTINYHUB00000000000ENTRY"
FRONT_DOOR_GROUP_ID: Final = "01JNFRONTDOOR0000000000GROUP"
ROOM_3_GROUP_ID: Final = "01JNROOM30000000000000GROUP"

type EntryFactory = Callable[..., MockConfigEntry]
type LoadEntry = Callable[..., Awaitable[MockConfigEntry]]


def vienna(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in March 2026 in Vienna."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=VIENNA)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _member(member_id: str, name: str, surname: str, email: str) -> dict[str, Any]:
    return {
        "id": member_id,
        "locationRef": LOCATION_ID,
        "createDate": "2025-06-01T08:00:00Z",
        "user": {
            "id": f"user-{member_id[-4:]}",
            "email": email,
            "name": name,
            "surname": surname,
        },
    }


def _person(member: dict[str, Any]) -> dict[str, Any]:
    return dict(member["user"])


def tiny_world() -> World:
    """The Tiny Hub and its locking system, as the sandbox serves them."""
    ada = _member(ADA_ID, "Ada", "Lovelace", "ada@example.com")
    grace = _member(GRACE_ID, "Grace", "Hopper", "grace@example.com")
    alan = _member(ALAN_ID, "Alan", "Turing", "alan@example.com")
    spacebring = {
        "networkRef": NETWORK_ID,
        "locations": [
            {
                "id": LOCATION_ID,
                "title": LOCATION_TITLE,
                "networkRef": NETWORK_ID,
                "timezoneId": "Europe/Vienna",
            }
        ],
        "plans": [
            {
                "id": FLEX_PLAN_ID,
                "title": "Flex plan",
                "locationRef": LOCATION_ID,
                "createDate": "2025-01-01T00:00:00Z",
                "access": {"tapkeyGroupRef": FLEX_REF},
            }
        ],
        "resources": [
            {
                "id": ROOM_3_ID,
                "title": "Room 3",
                "type": "meetingRoom",
                "locationRef": LOCATION_ID,
                "createDate": "2025-01-01T00:00:00Z",
                "tapkeyGroupRef": ROOM_3_REF,
            }
        ],
        "memberships": [ada, grace, alan],
        "subscriptions": [
            {
                "id": ADA_SUBSCRIPTION_ID,
                "status": "active",
                "subscriptionType": "user",
                "membershipRef": ADA_ID,
                "userRef": ada["user"]["id"],
                "user": _person(ada),
                "customerRef": ADA_ID,
                "customer": {"id": ADA_ID, "type": "user", "user": _person(ada)},
                "locationRef": LOCATION_ID,
                "timezoneId": "Europe/Vienna",
                "startDate": "2026-01-31T23:00:00Z",
                "createDate": "2026-01-20T10:00:00Z",
                "items": [
                    {
                        "id": "5f0c1a52-7a43-4c5e-9d0e-1b6a8f2c0022",
                        "title": "Flex plan",
                        "planRef": FLEX_PLAN_ID,
                        "plan": {"id": FLEX_PLAN_ID, "title": "Flex plan"},
                        "tapkeyGroupRef": FLEX_REF,
                    }
                ],
            }
        ],
        "bookings": [
            _booking(GRACE_BOOKING_ID, grace, vienna(2, 12), vienna(2, 16)),
            _booking(
                ALAN_BOOKING_ID, alan, vienna(3, 9), vienna(3, 11), attendees=[grace]
            ),
        ],
    }
    tapkey = {
        "owners": [
            {
                "id": OWNER_ID,
                "name": OWNER_NAME,
                "boundLocks": [
                    {"id": FRONT_DOOR_LOCK_ID, "title": "Front door"},
                    {"id": ROOM_3_LOCK_ID, "title": "Room 3"},
                ],
            }
        ]
    }
    return World.from_world(
        {"spacebring": spacebring, "tapkey": tapkey}, origin="entity tests"
    )


def _booking(
    booking_id: str,
    owner: dict[str, Any],
    start: datetime,
    end: datetime,
    *,
    attendees: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": booking_id,
        "resourceRef": ROOM_3_ID,
        "startDate": _iso(start),
        "endDate": _iso(end),
        "createDate": "2026-02-20T10:00:00Z",
        "membershipRefOwner": owner["id"],
        "userOwner": _person(owner),
        "attendees": [
            {"membershipRef": guest["id"], "user": _person(guest)}
            for guest in attendees or []
        ],
        "entire": True,
        "status": "confirmed",
    }


def access_group_data(
    name: str, *, refs: list[str], locks: list[str], **extra: Any
) -> dict[str, Any]:
    """Subentry data of an access group, as the subentry flow stores it."""
    return {
        CONF_NAME: name,
        CONF_GROUP_REFS: refs,
        CONF_PLANS: [],
        CONF_RESOURCES: [],
        CONF_RESOURCE_TYPES: [],
        CONF_LOCKS: locks,
        CONF_LOCK_GROUPS: [],
        **extra,
    }


def _subentry(subentry_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": data,
        "subentry_id": subentry_id,
        "subentry_type": SUBENTRY_ACCESS_GROUP,
        "title": data[CONF_NAME],
        "unique_id": None,
    }


FRONT_DOOR_DATA: Final = access_group_data(
    "Front door", refs=[FLEX_REF, ROOM_3_REF], locks=[FRONT_DOOR_LOCK_ID]
)
ROOM_3_DATA: Final = access_group_data(
    "Room 3", refs=[ROOM_3_REF], locks=[ROOM_3_LOCK_ID]
)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in tests/snapshots/, as Home Assistant keeps them."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def tiny_sandbox(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> AsyncIterator[RunningSandbox]:
    """The Tiny Hub served on loopback, with the developer override set."""
    async with run_sandbox(
        tiny_world(), clock=SandboxClock(), shutdown_timeout=0.1
    ) as sandbox:
        monkeypatch.setenv(SANDBOX_URL_ENV, sandbox.base_url)
        yield sandbox


@pytest.fixture
def tiny_entry(hass: HomeAssistant, tiny_sandbox: RunningSandbox) -> EntryFactory:
    """Make (and add) the Tiny Hub's entry with both access groups."""

    def make(
        *,
        options: dict[str, Any] | None = None,
        groups: dict[str, dict[str, Any]] | None = None,
    ) -> MockConfigEntry:
        chosen = (
            groups
            if groups is not None
            else {FRONT_DOOR_GROUP_ID: FRONT_DOOR_DATA, ROOM_3_GROUP_ID: ROOM_3_DATA}
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            entry_id=ENTRY_ID,
            title=f"{LOCATION_TITLE} · {OWNER_NAME}",
            unique_id=LOCATION_ID,
            data={
                "auth_implementation": DOMAIN,
                "token": sandbox_token(tiny_sandbox),
                CONF_OWNER_ID: OWNER_ID,
                CONF_OWNER_NAME: OWNER_NAME,
                CONF_SPACEBRING_CLIENT_ID: SPACEBRING_CLIENT_ID,
                CONF_SPACEBRING_CLIENT_SECRET: SPACEBRING_CLIENT_SECRET,
                CONF_LOCATION_ID: LOCATION_ID,
                CONF_LOCATION_NAME: LOCATION_TITLE,
                CONF_SPACEBRING_URL: tiny_sandbox.base_url,
                CONF_TAPKEY_URL: tiny_sandbox.base_url + "/api/v1",
            },
            options=options or {},
            subentries_data=[
                _subentry(subentry_id, data) for subentry_id, data in chosen.items()
            ],
        )
        entry.add_to_hass(hass)
        return entry

    return make


@pytest.fixture
def load_tiny_entry(
    hass: HomeAssistant, tapkey_credentials: None, tiny_entry: EntryFactory
) -> LoadEntry:
    """Set up the Tiny Hub's entry in Vienna and wait for its first sync."""

    async def load(**kwargs: Any) -> MockConfigEntry:
        await hass.config.async_set_time_zone("Europe/Vienna")
        entry = tiny_entry(**kwargs)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        return entry

    return load


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id registered for one of the integration's unique ids."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


async def jump_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Move the (ticking) clock forward to `moment` and run what fell due."""
    freezer.move_to(moment)
    async_fire_time_changed_exact(hass, moment)
    await hass.async_block_till_done(wait_background_tasks=True)


def device_of(hass: HomeAssistant, key: str) -> dr.DeviceEntry | None:
    """The entry's device for an entry or subentry id, if registered."""
    return next(
        (
            device
            for device in dr.async_entries_for_config_entry(
                dr.async_get(hass), ENTRY_ID
            )
            if (DOMAIN, key) in device.identifiers
        ),
        None,
    )
