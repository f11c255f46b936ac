"""The actions: sync now, grant and revoke access, revoke all, get the access plan.

Each runs against an entry loaded on the sandbox, so what an action changes is
checked where it matters: in the sandbox's Tapkey grants.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.const import (
    CONF_DRY_RUN,
    CONF_LOCK_GROUPS,
    DOMAIN,
)
from custom_components.spacebring_tapkey.services import (
    SERVICE_GET_ACCESS,
    SERVICE_GRANT_ACCESS,
    SERVICE_REVOKE_ACCESS,
    SERVICE_REVOKE_ALL,
    SERVICE_SYNC_NOW,
)
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox

from .ha_sandbox import EntryFactory
from .sync_support import (
    add_front_door_group,
    add_meeting_rooms_group,
    demo_owner,
    granted_openers,
    lock_id,
    managed_grants,
    tapkey_grants,
)

GUEST = "Plumber.Visit@Example.org"
GUEST_ID = "plumber.visit@example.org"


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> MockConfigEntry:
    """An entry with a front-door group and a meeting-room group, synced once."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    add_meeting_rooms_group(hass, entry, ha_sandbox, ["meetingRoom"])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


async def call(
    hass: HomeAssistant,
    service: str,
    entry: MockConfigEntry,
    *,
    return_response: bool = False,
    **fields: Any,
) -> ServiceResponse:
    """Call an action of the integration for `entry` and wait for it."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **fields},
        blocking=True,
        return_response=return_response,
    )


def group_named(entry: MockConfigEntry, name: str) -> ConfigSubentry:
    """The entry's access group with this name."""
    return next(s for s in entry.subentries.values() if s.title == name)


def member_with_access_now(entry: MockConfigEntry, sandbox: RunningSandbox) -> str:
    """The e-mail of a Spacebring member whom the front door lets in right now."""
    front_door = group_named(entry, "Front door").subentry_id
    now = sandbox.clock.now()
    desired = entry.runtime_data.sync.status.desired
    return sorted(
        window.email
        for window in desired.windows
        if window.group_id == front_door and window.contains(now)
    )[0]


def meeting_room_targets(entry: MockConfigEntry) -> list[str]:
    """The Tapkey targets (lock groups) of the meeting-room access group."""
    return list(group_named(entry, "Meeting rooms").data[CONF_LOCK_GROUPS])


def in_hours(hours: float) -> datetime:
    """A moment relative to now, in whole seconds, as an aware datetime."""
    return dt_util.utcnow().replace(microsecond=0) + timedelta(hours=hours)


# --- registration -------------------------------------------------------------


async def test_actions_are_registered_once_for_every_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The integration's setup registers the five actions, not each entry."""
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        SERVICE_SYNC_NOW,
        SERVICE_GRANT_ACCESS,
        SERVICE_REVOKE_ACCESS,
        SERVICE_REVOKE_ALL,
        SERVICE_GET_ACCESS,
    }

    await hass.config_entries.async_unload(entry.entry_id)

    assert SERVICE_SYNC_NOW in hass.services.async_services_for_domain(DOMAIN)


# --- sync_now -------------------------------------------------------------------


async def test_sync_now_grants_a_new_booking_at_once(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """A booking made in Spacebring gets its grant without waiting for a poll."""
    client = entry.runtime_data.spacebring.client
    member = member_with_access_now(entry, ha_sandbox)
    membership = next(
        m
        for m in ha_sandbox.world.spacebring.memberships.values()
        if (m.get("user") or {}).get("email", "").lower() == member
        and not m.get("deleteDate")
    )
    room = next(
        r
        for r in sorted(
            ha_sandbox.world.spacebring.resources.values(), key=lambda r: r["title"]
        )
        if r["type"] == "meetingRoom" and r["locationRef"] == entry.data["location_id"]
    )
    start = ha_sandbox.clock.now() + timedelta(hours=2)
    await client.async_create_booking(
        room["id"], start, start + timedelta(hours=1), membership_id=membership["id"]
    )

    await call(hass, SERVICE_SYNC_NOW, entry)

    meeting_rooms = next(
        group
        for group in demo_owner(ha_sandbox).lock_groups.values()
        if group.title == "Meeting rooms"
    )
    opened = {
        lock
        for who, lock in granted_openers(ha_sandbox, start + timedelta(minutes=30))
        if who == member
    }
    assert set(meeting_rooms.bound_lock_ids) <= opened


async def test_sync_now_says_when_spacebring_cannot_be_read(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Spacebring failing keeps the sync from running; the action says so."""
    ha_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route="/resources/bookings/v1*"
    )

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SYNC_NOW, entry)

    assert raised.value.translation_key == "spacebring_unavailable"


async def test_sync_now_says_when_tapkey_cannot_be_read(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Without Tapkey's grants the plan would be wrong, so the sync waits."""
    ha_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route="/api/v1/Owners/*/Grants"
    )

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SYNC_NOW, entry)

    assert raised.value.translation_key == "tapkey_unavailable"


async def test_sync_now_reports_changes_tapkey_refused(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """A sync whose grants Tapkey refuses fails the action with the count."""
    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email="first.guest@example.org",
        access_group="Front door",
        end=in_hours(2),
    )
    ha_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route="/api/v1/Owners/*/Grants/*/Revoke"
    )
    await entry.runtime_data.sync.async_block("first.guest@example.org", None)

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SYNC_NOW, entry)

    assert raised.value.translation_key == "sync_failed"
    assert raised.value.translation_placeholders == {"count": "1"}


# --- grant_access ---------------------------------------------------------------


async def test_grant_access_gives_a_guest_the_groups_locks(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """An ad-hoc window becomes a Tapkey grant for exactly that window."""
    start, end = in_hours(1), in_hours(3)

    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=GUEST,
        access_group="front door",
        start=start.isoformat(),
        end=end.isoformat(),
        note="Boiler repair",
    )

    front_door = lock_id(ha_sandbox, "Front door")
    assert (GUEST_ID, front_door) in granted_openers(ha_sandbox, in_hours(2))
    assert (GUEST_ID, front_door) not in granted_openers(
        ha_sandbox, end + timedelta(seconds=1)
    )
    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    assert (adhoc.email, adhoc.note) == (GUEST_ID, "Boiler repair")
    assert adhoc.group_id == group_named(entry, "Front door").subentry_id
    assert (adhoc.start, adhoc.end) == (start, end)


async def test_grant_access_starts_now_without_a_start(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Leaving the start empty gives access from now on."""
    before = dt_util.utcnow()

    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=GUEST,
        access_group="Front door",
        end=in_hours(1),
    )

    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    assert before <= adhoc.start <= dt_util.utcnow()
    assert (GUEST_ID, lock_id(ha_sandbox, "Front door")) in granted_openers(
        ha_sandbox, dt_util.utcnow()
    )


async def test_grant_access_reads_times_without_zone_in_home_assistants_zone(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A date and time picked in the UI has no zone: it is Home Assistant's."""
    await hass.config.async_set_time_zone("Europe/Vienna")
    tomorrow = dt_util.now().date() + timedelta(days=1)

    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=GUEST,
        access_group="Front door",
        start=f"{tomorrow} 09:00:00",
        end=f"{tomorrow} 17:00:00",
    )

    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    vienna = ZoneInfo("Europe/Vienna")
    assert adhoc.start == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=vienna
    )
    assert adhoc.end == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 17, tzinfo=vienna
    )


async def test_grant_access_finds_the_group_by_its_id(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The access group may be named by its subentry id as well."""
    meeting_rooms = group_named(entry, "Meeting rooms").subentry_id

    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=GUEST,
        access_group=meeting_rooms.lower(),
        end=in_hours(1),
    )

    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    assert adhoc.group_id == meeting_rooms


async def test_grant_access_lifts_an_earlier_revoke(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """A member revoked by hand gets Spacebring's access back once granted."""
    member = member_with_access_now(entry, ha_sandbox)
    front_door = lock_id(ha_sandbox, "Front door")
    await call(hass, SERVICE_REVOKE_ACCESS, entry, email=member)
    assert (member, front_door) not in granted_openers(ha_sandbox, in_hours(0))

    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=member,
        access_group="Front door",
        end=in_hours(1),
    )

    assert member not in entry.runtime_data.sync.ledger_store.ledger.blocked
    assert (member, front_door) in granted_openers(ha_sandbox, in_hours(2))


async def test_grant_access_refused_by_tapkey_fails_and_keeps_the_window(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Tapkey's plan limit fails the action; the access stays to be retried."""
    owner = demo_owner(ha_sandbox)
    ha_sandbox.world.tapkey.set_contact_limit(len(owner.contacts))

    with pytest.raises(HomeAssistantError) as raised:
        await call(
            hass,
            SERVICE_GRANT_ACCESS,
            entry,
            email=GUEST,
            access_group="Front door",
            end=in_hours(1),
        )

    assert raised.value.translation_key == "grant_failed"
    assert raised.value.translation_placeholders == {"error": "plan_limit"}
    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    assert adhoc.email == GUEST_ID


@pytest.mark.parametrize(
    ("fields", "translation_key"),
    [
        ({"email": "plumber.example.org"}, "invalid_email"),
        ({"email": "plumber@example"}, "invalid_email"),
        ({"email": "two words@example.org"}, "invalid_email"),
        ({"access_group": "Roof terrace"}, "unknown_access_group"),
        ({"start": in_hours(3), "end": in_hours(2)}, "end_before_start"),
        ({"start": in_hours(2), "end": in_hours(2)}, "end_before_start"),
        ({"start": in_hours(-3), "end": in_hours(-1)}, "end_in_past"),
    ],
)
async def test_grant_access_rejects_invalid_input(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    entry: MockConfigEntry,
    fields: dict[str, Any],
    translation_key: str,
) -> None:
    """Wrong input is refused with a translated error and changes nothing."""
    grants_before = len(tapkey_grants(ha_sandbox))
    valid = {"email": GUEST, "access_group": "Front door", "end": in_hours(1)}

    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, SERVICE_GRANT_ACCESS, entry, **(valid | fields))

    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    assert not entry.runtime_data.sync.ledger_store.ledger.adhoc
    assert len(tapkey_grants(ha_sandbox)) == grants_before


async def test_unknown_access_group_error_lists_the_groups(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The error names the groups the operator can choose from."""
    with pytest.raises(ServiceValidationError) as raised:
        await call(
            hass,
            SERVICE_GRANT_ACCESS,
            entry,
            email=GUEST,
            access_group="Roof terrace",
            end=in_hours(1),
        )

    assert raised.value.translation_placeholders == {
        "access_group": "Roof terrace",
        "access_groups": "Front door, Meeting rooms",
    }


# --- which entry ----------------------------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        SERVICE_SYNC_NOW,
        SERVICE_REVOKE_ALL,
        SERVICE_GET_ACCESS,
    ],
)
async def test_actions_refuse_an_entry_that_is_not_loaded(
    hass: HomeAssistant, entry: MockConfigEntry, service: str
) -> None:
    """An unloaded entry cannot be acted on."""
    await hass.config_entries.async_unload(entry.entry_id)

    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, service, entry, return_response=service == SERVICE_GET_ACCESS)

    assert raised.value.translation_key == "entry_not_loaded"
    assert raised.value.translation_placeholders == {"entry_title": entry.title}


async def test_actions_refuse_an_entry_of_another_integration(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A config entry id of another integration is not ours to act on."""
    other = MockConfigEntry(domain="demo", title="Demo")
    other.add_to_hass(hass)

    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, SERVICE_SYNC_NOW, other)

    assert raised.value.translation_key == "entry_not_found"
    assert raised.value.translation_placeholders == {"entry_id": other.entry_id}


# --- revoke_access --------------------------------------------------------------


async def test_revoke_access_ends_a_members_access_and_keeps_it_ended(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """A revoked member loses the grants and does not get them back at a sync."""
    member = member_with_access_now(entry, ha_sandbox)
    front_door = lock_id(ha_sandbox, "Front door")

    response = await call(
        hass, SERVICE_REVOKE_ACCESS, entry, return_response=True, email=member.upper()
    )

    assert response is not None
    assert response["revoked"] >= 1
    assert (member, front_door) not in granted_openers(ha_sandbox, in_hours(0))
    await call(hass, SERVICE_SYNC_NOW, entry)
    assert (member, front_door) not in granted_openers(ha_sandbox, in_hours(0))


async def test_revoke_access_of_one_group_keeps_the_others(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Revoking one access group leaves the member's other groups alone."""
    for group in ("Front door", "Meeting rooms"):
        await call(
            hass,
            SERVICE_GRANT_ACCESS,
            entry,
            email=GUEST,
            access_group=group,
            end=in_hours(2),
        )

    response = await call(
        hass,
        SERVICE_REVOKE_ACCESS,
        entry,
        return_response=True,
        email=GUEST,
        access_group="Meeting rooms",
    )

    assert response == {"revoked": len(meeting_room_targets(entry))}
    opened = {
        lock
        for who, lock in granted_openers(ha_sandbox, in_hours(1))
        if who == GUEST_ID
    }
    assert opened == {lock_id(ha_sandbox, "Front door")}
    [adhoc] = entry.runtime_data.sync.ledger_store.ledger.adhoc.values()
    assert adhoc.group_id == group_named(entry, "Front door").subentry_id


async def test_revoke_access_without_a_response_returns_nothing(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The count is only returned when the caller asks for it."""
    assert await call(hass, SERVICE_REVOKE_ACCESS, entry, email=GUEST) is None


async def test_revoke_access_rejects_a_malformed_email(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Revoking needs a real e-mail; nothing is blocked otherwise."""
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, SERVICE_REVOKE_ACCESS, entry, email="not an e-mail")

    assert raised.value.translation_key == "invalid_email"
    assert not entry.runtime_data.sync.ledger_store.ledger.blocked


async def test_revoke_access_tapkey_refuses_fails_the_action(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """A revocation Tapkey refuses fails the action; the block stays and retries."""
    member = member_with_access_now(entry, ha_sandbox)
    ha_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route="/api/v1/Owners/*/Grants/*/Revoke"
    )

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_REVOKE_ACCESS, entry, email=member)

    assert raised.value.translation_key == "revoke_failed"
    assert member in entry.runtime_data.sync.ledger_store.ledger.blocked


# --- revoke_all -----------------------------------------------------------------


async def test_revoke_all_is_the_clean_disconnect(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Everything the entry granted ends; the entry then only plans (dry-run)."""
    made = {grant.id for grant in managed_grants(ha_sandbox, entry)}
    others = {
        grant.id: grant.state
        for grant in tapkey_grants(ha_sandbox)
        if grant.id not in made
    }

    response = await call(hass, SERVICE_REVOKE_ALL, entry, return_response=True)

    assert response == {"revoked": len(made)}
    assert entry.options[CONF_DRY_RUN] is True
    grants = {grant.id: grant for grant in tapkey_grants(ha_sandbox)}
    assert {grants[grant_id].state for grant_id in made} == {"Revoked"}
    assert {grant_id: grants[grant_id].state for grant_id in others} == others
    await call(hass, SERVICE_SYNC_NOW, entry)
    assert not managed_grants(ha_sandbox, entry)
    assert len(tapkey_grants(ha_sandbox)) == len(made) + len(others)


async def test_revoke_all_tapkey_refuses_fails_the_action(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Revocations Tapkey refuses are counted; dry-run stays on."""
    made = len(managed_grants(ha_sandbox, entry))
    ha_sandbox.faults.fail_randomly(
        1.0, (FaultKind.SERVER_ERROR,), route="/api/v1/Owners/*/Grants/*/Revoke"
    )

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_REVOKE_ALL, entry)

    assert raised.value.translation_key == "revoke_all_failed"
    assert raised.value.translation_placeholders == {"count": str(made)}
    assert entry.options[CONF_DRY_RUN] is True


# --- get_access -----------------------------------------------------------------


async def test_get_access_returns_windows_per_group_and_member(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Every desired window appears once, under its group and member."""
    start, end = in_hours(1), in_hours(2)
    await call(
        hass,
        SERVICE_GRANT_ACCESS,
        entry,
        email=GUEST,
        access_group="Meeting rooms",
        start=start,
        end=end,
        note="Interview",
    )

    response = await call(hass, SERVICE_GET_ACCESS, entry, return_response=True)

    assert response is not None
    assert response["dry_run"] is False
    assert [group["name"] for group in response["access_groups"]] == [
        "Front door",
        "Meeting rooms",
    ]
    listed = [
        window
        for group in response["access_groups"]
        for member in group["members"]
        for window in member["windows"]
    ]
    assert len(listed) == len(entry.runtime_data.sync.status.desired.windows)
    meeting_rooms = response["access_groups"][1]
    guest = next(m for m in meeting_rooms["members"] if m["email"] == GUEST_ID)
    assert guest["windows"] == [
        {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reasons": [{"kind": "adhoc", "label": "Interview"}],
        }
    ]


async def test_get_access_filters_by_member_group_and_time(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, entry: MockConfigEntry
) -> None:
    """Filters keep only the matching member, group and overlapping windows."""
    for hours in (1, 5):
        await call(
            hass,
            SERVICE_GRANT_ACCESS,
            entry,
            email=GUEST,
            access_group="Meeting rooms",
            start=in_hours(hours),
            end=in_hours(hours + 1),
        )

    response = await call(
        hass,
        SERVICE_GET_ACCESS,
        entry,
        return_response=True,
        email=GUEST,
        access_group="meeting rooms",
        start=in_hours(3),
        end=in_hours(10),
    )

    assert response is not None
    [group] = response["access_groups"]
    assert group["name"] == "Meeting rooms"
    [member] = group["members"]
    assert member["email"] == GUEST_ID
    [window] = member["windows"]
    assert dt_util.parse_datetime(window["start"]) > in_hours(4)


async def test_get_access_with_an_empty_range_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """A time range that ends before it starts is an input mistake."""
    with pytest.raises(ServiceValidationError) as raised:
        await call(
            hass,
            SERVICE_GET_ACCESS,
            entry,
            return_response=True,
            start=in_hours(2),
            end=in_hours(1),
        )

    assert raised.value.translation_key == "end_before_start"


async def test_get_access_before_any_plan_says_so(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Without a locking system the entry cannot plan; there is nothing to show."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    owner = demo_owner(ha_sandbox)
    del ha_sandbox.world.tapkey.owners[owner.id]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_GET_ACCESS, entry, return_response=True)

    assert raised.value.translation_key == "access_not_computed"
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, SERVICE_SYNC_NOW, entry)
    assert raised.value.translation_key == "locking_system_unavailable"
