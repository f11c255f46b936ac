"""How the sync engine behaves: dry-run, resumed revocations, failures, timers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from custom_components.spacebring_tapkey.const import CONF_DRY_RUN, DOMAIN
from custom_components.spacebring_tapkey.ledger import STORAGE_VERSION
from custom_components.spacebring_tapkey.sync import (
    AccessEvent,
    AccessEventType,
    signal_access_event,
)
from sandbox.server import RunningSandbox

from .ha_sandbox import EntryFactory
from .sync_support import (
    add_front_door_group,
    demo_owner,
    lock_id,
    managed_grants,
    set_up_entry,
    tapkey_grants,
)


async def test_dry_run_plans_but_writes_nothing(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """In dry-run the plan is computed and exposed; Tapkey stays unchanged."""
    before = {grant.id for grant in tapkey_grants(ha_sandbox)}
    contacts_before = set(demo_owner(ha_sandbox).contacts)
    entry = sandbox_entry()
    hass.config_entries.async_update_entry(entry, options={CONF_DRY_RUN: True})
    add_front_door_group(hass, entry, ha_sandbox)

    assert await set_up_entry(hass, entry)

    status = entry.runtime_data.sync.status
    assert status.planned is not None
    assert status.planned.creates
    assert status.pending == len(status.planned.actions)
    assert {grant.id for grant in tapkey_grants(ha_sandbox)} == before
    assert set(demo_owner(ha_sandbox).contacts) == contacts_before
    assert not entry.runtime_data.sync.ledger_store.ledger.grants


async def test_pending_revocations_run_first_on_start(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A revocation decided before a restart is carried out at the next start."""
    owner = demo_owner(ha_sandbox)
    now = ha_sandbox.clock.now()
    grant = ha_sandbox.world.tapkey.create_grant(
        owner.id,
        bound_lock_id=lock_id(ha_sandbox, "Front door"),
        valid_from=now - timedelta(hours=1),
        valid_before=now + timedelta(days=3),
        contact_identity=("tapkey", "leaver@members.example"),
    )
    entry = sandbox_entry()
    hass_storage[f"{DOMAIN}.{entry.entry_id}.ledger"] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.ledger",
        "data": {
            "grants": [
                {
                    "grant_id": grant.id,
                    "email": "leaver@members.example",
                    "contact_id": grant.contact_id,
                    "target_id": grant.bound_lock_id,
                    "valid_from": grant.valid_from.isoformat(),
                    "valid_before": grant.valid_before.isoformat(),
                    "ical": None,
                    "created_at": now.isoformat(),
                    "group_ids": [],
                    "person": "Leaver",
                }
            ],
            "pending_revocations": [grant.id],
            "adhoc": [],
            "contacts": {},
            "blocked": {},
        },
    }

    assert await set_up_entry(hass, entry)

    assert owner.grants[grant.id].state == "Revoked"
    ledger = entry.runtime_data.sync.ledger_store.ledger
    assert grant.id not in ledger.grants
    assert not ledger.pending_revocations


async def test_plan_limit_fails_new_members_only(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Tapkey's 402 stops new contacts; members already known still get grants."""
    owner = demo_owner(ha_sandbox)
    ha_sandbox.world.tapkey.set_contact_limit(len(owner.contacts))
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    events: list[AccessEvent] = []
    async_dispatcher_connect(hass, signal_access_event(entry.entry_id), events.append)

    assert await set_up_entry(hass, entry)

    status = entry.runtime_data.sync.status
    assert status.plan_limit_reached
    assert status.failed > 0
    assert {failure.error for failure in status.recent_failures} == {"plan_limit"}
    assert managed_grants(ha_sandbox, entry)
    assert {event.type for event in events} == {
        AccessEventType.GRANTED,
        AccessEventType.FAILED,
    }
    assert len(owner.contacts) == owner.contact_limit


async def test_next_sync_is_scheduled_at_the_planners_instant(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """After a sync the engine waits for the instant the planner named."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)

    assert await set_up_entry(hass, entry)

    status = entry.runtime_data.sync.status
    assert status.planned is not None
    assert status.next_run == status.planned.next_replan_at
    assert status.next_run is not None
    assert status.next_run > ha_sandbox.clock.now()
    assert status.last_success is not None


async def test_revoke_all_revokes_only_what_the_entry_made(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """Revoke-all ends every grant of the ledger and nothing else."""
    others = {grant.id: grant.state for grant in tapkey_grants(ha_sandbox)}
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    assert await set_up_entry(hass, entry)
    made = {grant.id for grant in managed_grants(ha_sandbox, entry)}
    assert made

    failed = await entry.runtime_data.sync.async_revoke_all()

    assert failed == 0
    grants = {grant.id: grant for grant in tapkey_grants(ha_sandbox)}
    assert all(grants[grant_id].state == "Revoked" for grant_id in made)
    assert all(grants[grant_id].state == state for grant_id, state in others.items())
    assert not entry.runtime_data.sync.ledger_store.ledger.grants


async def test_contact_deleted_in_tapkey_is_created_again(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """A grant refused for a contact gone from Tapkey succeeds at the next sync."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    assert await set_up_entry(hass, entry)
    owner = demo_owner(ha_sandbox)
    sync = entry.runtime_data.sync
    ledger = sync.ledger_store.ledger
    email, contact_id = next(iter(sorted(ledger.contacts.items())))
    # Someone deletes the member's contact and grants in the Tapkey portal.
    for grant_id in [g.id for g in owner.grants.values() if g.contact_id == contact_id]:
        del owner.grants[grant_id]
    del owner.contacts[contact_id]
    await entry.runtime_data.tapkey.async_refresh()

    await sync.async_sync()
    assert sync.status.failed > 0
    assert email not in ledger.contacts

    await sync.async_sync()
    await entry.runtime_data.tapkey.async_refresh()
    result = await sync.async_sync()

    assert sync.status.failed == 0
    assert result is not None
    assert not result.actions
    assert ledger.contacts[email] != contact_id
    assert ledger.contacts[email] in owner.contacts
