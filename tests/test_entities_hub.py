"""The entry's own entities: sync-now button, access events, sync health."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.const import CONF_DRY_RUN
from sandbox.faults import FaultKind, FaultRule
from sandbox.server import RunningSandbox

from .entity_world import (
    ALAN_ID,
    ENTRY_ID,
    GRACE_BOOKING_ID,
    NOW,
    OWNER_ID,
    ROOM_3_GROUP_ID,
    ROOM_3_ID,
    ROOM_3_LOCK_ID,
    LoadEntry,
    entity_id,
    vienna,
)

pytestmark = pytest.mark.freeze_time(NOW, tick=True)

SUBSCRIPTIONS_ROUTE = "/subscriptions/v1*"

type Seen = tuple[Any, ...]


def hub_entity(hass: HomeAssistant, platform: str, key: str) -> str:
    """The entity id of one of the entry's own entities."""
    return entity_id(hass, platform, f"{ENTRY_ID}_{key}")


def state_of(hass: HomeAssistant, entity: str) -> Any:
    """The state object, which must exist."""
    state = hass.states.get(entity)
    assert state is not None
    return state


def book_room_3_for_alan(sandbox: RunningSandbox) -> None:
    """Alan books Room 3 today from 13:00 to 14:00, through Spacebring's API."""
    sandbox.world.spacebring.create_booking(
        {
            "resourceRef": ROOM_3_ID,
            "startDate": vienna(2, 13).isoformat(),
            "endDate": vienna(2, 14).isoformat(),
            "membershipRefOwner": ALAN_ID,
        },
        sandbox.clock.now(),
    )


async def poll(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Read Spacebring as the poll does, and let the sync it starts finish."""
    await entry.runtime_data.spacebring.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)


def record_access_events(hass: HomeAssistant) -> list[Seen]:
    """Collect what the access event entity fires from now on."""
    entity = hub_entity(hass, "event", "access_changes")
    seen: list[Seen] = []

    def on_change(event: Event[Any]) -> None:
        new_state = event.data["new_state"]
        if event.data["entity_id"] != entity or new_state is None:
            return
        attributes = new_state.attributes
        if attributes.get("event_type") is None:
            return  # unavailable or restored, nothing fired
        seen.append(
            (
                attributes["event_type"],
                attributes["member"],
                tuple(attributes["access_groups"]),
                attributes["lock"],
                attributes["start"],
                attributes["end"],
                attributes["error"],
            )
        )

    hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
    return seen


async def test_sync_now_reads_spacebring_and_syncs(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """A booking made a moment ago gets its grant when the button is pressed."""
    await load_tiny_entry()
    book_room_3_for_alan(tiny_sandbox)

    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {"entity_id": hub_entity(hass, "button", "sync_now")},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    owner = tiny_sandbox.world.tapkey.owner(OWNER_ID)
    alan = tiny_sandbox.world.tapkey.find_contact(owner, "tapkey", "alan@example.com")
    assert alan is not None
    assert any(
        grant.contact_id == alan.id
        and grant.bound_lock_id == ROOM_3_LOCK_ID
        and grant.valid_from == vienna(2, 12, 30)
        and grant.valid_before == vienna(2, 14, 30)
        for grant in owner.grants.values()
    )


async def test_sync_now_fails_when_spacebring_does_not_answer(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """Without Spacebring's data no sync runs, and the press says so."""
    await load_tiny_entry()
    tiny_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route=SUBSCRIPTIONS_ROUTE
    )

    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {"entity_id": hub_entity(hass, "button", "sync_now")},
            blocking=True,
        )

    assert raised.value.translation_key == "spacebring_unavailable"


async def test_sync_now_fails_when_tapkey_refuses_changes(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """Grants Tapkey refused make the press fail, saying how many."""
    await load_tiny_entry()
    tiny_sandbox.faults.add(
        FaultRule(
            kinds=(FaultKind.SERVER_ERROR,),
            route="/api/v1/Owners/*/Grants",
            method="PUT",
        )
    )
    book_room_3_for_alan(tiny_sandbox)

    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {"entity_id": hub_entity(hass, "button", "sync_now")},
            blocking=True,
        )

    assert raised.value.translation_key == "sync_failed"
    assert raised.value.translation_placeholders == {"count": "2"}


async def test_access_events_for_grants_made(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """Each grant made fires `granted` with member, group, lock and window."""
    entry = await load_tiny_entry()
    seen = record_access_events(hass)
    book_room_3_for_alan(tiny_sandbox)

    await poll(hass, entry)

    window = ("2026-03-02T12:30:00+01:00", "2026-03-02T14:30:00+01:00")
    assert sorted(seen) == [
        ("granted", "Alan Turing", ("Front door",), "Front door", *window, None),
        ("granted", "Alan Turing", ("Room 3",), "Room 3", *window, None),
    ]


async def test_access_events_for_grants_revoked(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """A cancelled booking revokes its grants, and each fires `revoked`."""
    entry = await load_tiny_entry()
    seen = record_access_events(hass)
    tiny_sandbox.world.spacebring.cancel_booking(
        GRACE_BOOKING_ID, tiny_sandbox.clock.now()
    )

    await poll(hass, entry)

    window = ("2026-03-02T11:30:00+01:00", "2026-03-02T16:30:00+01:00")
    assert sorted(seen) == [
        ("revoked", "Grace Hopper", ("Front door",), "Front door", *window, None),
        ("revoked", "Grace Hopper", ("Room 3",), "Room 3", *window, None),
    ]


async def test_access_events_for_grants_that_failed(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """A grant Tapkey refuses fires `failed` with the reason, no e-mail."""
    entry = await load_tiny_entry()
    seen = record_access_events(hass)
    tiny_sandbox.faults.add(
        FaultRule(
            kinds=(FaultKind.SERVER_ERROR,),
            route="/api/v1/Owners/*/Grants",
            method="PUT",
        )
    )
    book_room_3_for_alan(tiny_sandbox)

    await poll(hass, entry)

    window = ("2026-03-02T12:30:00+01:00", "2026-03-02T14:30:00+01:00")
    assert sorted(seen) == [
        (
            "failed",
            "Alan Turing",
            ("Front door",),
            "Front door",
            *window,
            "server_error",
        ),
        ("failed", "Alan Turing", ("Room 3",), "Room 3", *window, "server_error"),
    ]


async def test_sync_sensors_after_a_good_sync(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Nothing pending or failed, the last sync known, no problem."""
    entry = await load_tiny_entry()

    last_sync = state_of(hass, hub_entity(hass, "sensor", "last_sync"))
    assert last_sync.state == entry.runtime_data.sync.status.last_success.isoformat(
        timespec="seconds"
    )
    assert state_of(hass, hub_entity(hass, "sensor", "pending_changes")).state == "0"
    assert state_of(hass, hub_entity(hass, "sensor", "failed_changes")).state == "0"
    problem = state_of(hass, hub_entity(hass, "binary_sensor", "sync_problem"))
    assert (problem.state, problem.attributes["problems"]) == (STATE_OFF, [])


async def test_dry_run_shows_the_plan_as_pending(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """In dry-run every planned change stays pending and nothing fails."""
    await load_tiny_entry(options={CONF_DRY_RUN: True})

    # Three contacts, then Ada's front door, Grace's and Alan's bookings
    # (today and tomorrow) on the front door and Room 3.
    assert state_of(hass, hub_entity(hass, "sensor", "pending_changes")).state == "10"
    assert state_of(hass, hub_entity(hass, "sensor", "failed_changes")).state == "0"


async def test_plan_limit_is_a_problem(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """Tapkey refusing more contacts (HTTP 402) turns the problem sensor on."""
    tiny_sandbox.world.tapkey.set_contact_limit(0)

    await load_tiny_entry()

    problem = state_of(hass, hub_entity(hass, "binary_sensor", "sync_problem"))
    assert problem.state == STATE_ON
    assert problem.attributes["problems"] == ["sync_failed", "plan_limit_reached"]
    failed = state_of(hass, hub_entity(hass, "sensor", "failed_changes"))
    # Three contacts, and the seven grants that needed them.
    assert failed.state == "10"


async def test_lost_locking_system_is_a_problem(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, tiny_sandbox: RunningSandbox
) -> None:
    """The account no longer managing the locking system turns it on."""
    entry = await load_tiny_entry()
    del tiny_sandbox.world.tapkey.owners[OWNER_ID]

    await entry.runtime_data.tapkey.async_refresh()
    await hass.async_block_till_done()

    problem = state_of(hass, hub_entity(hass, "binary_sensor", "sync_problem"))
    assert problem.state == STATE_ON
    assert problem.attributes["problems"] == ["locking_system_unavailable"]


async def test_stale_data_makes_access_group_entities_unavailable(
    hass: HomeAssistant,
    load_tiny_entry: LoadEntry,
    tiny_sandbox: RunningSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Spacebring failing: group entities unavailable, one log line each way."""
    entry = await load_tiny_entry()
    calendar = entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")
    count = entity_id(hass, "sensor", f"{ROOM_3_GROUP_ID}_members_with_access")
    problem = hub_entity(hass, "binary_sensor", "sync_problem")
    caplog.set_level(logging.INFO)
    rule = tiny_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route=SUBSCRIPTIONS_ROUTE
    )

    await poll(hass, entry)
    await poll(hass, entry)

    assert state_of(hass, calendar).state == "unavailable"
    assert state_of(hass, count).state == "unavailable"
    assert state_of(hass, problem).attributes["problems"] == ["data_stale"]
    assert _log_lines(caplog, "is out of date") == 1

    tiny_sandbox.faults.rules.remove(rule)
    await poll(hass, entry)
    await poll(hass, entry)

    assert state_of(hass, calendar).state == STATE_OFF
    assert state_of(hass, count).state == "0"
    assert state_of(hass, problem).state == STATE_OFF
    assert _log_lines(caplog, "is up to date again") == 1


def _log_lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(
        1
        for record in caplog.records
        if record.name.startswith("custom_components.spacebring_tapkey")
        and record.levelno == logging.INFO
        and text in record.getMessage()
    )
