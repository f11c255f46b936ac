"""Helpers for sync tests: access groups on the demo world and an access oracle.

The oracle answers "who can open which lock at this instant" twice: from the
grants the sandbox's Tapkey holds (what the locks will enforce) and from the
access windows the rules want. A sync is right when both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant

from custom_components.spacebring_tapkey.const import (
    CONF_GROUP_REFS,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    SUBENTRY_ACCESS_GROUP,
)
from sandbox.server import RunningSandbox
from sandbox.tapkey_generate import DEMO_OWNER_NAME
from sandbox.tapkey_records import Grant, OwnerAccount

type Opener = tuple[str, str]
"""(e-mail, bound lock id)."""


def demo_owner(sandbox: RunningSandbox) -> OwnerAccount:
    """The demo locking system."""
    return sandbox.world.tapkey.owner_named(DEMO_OWNER_NAME)


def lock_id(sandbox: RunningSandbox, title: str) -> str:
    """The id of a demo lock by its title."""
    for lock in demo_owner(sandbox).locks.values():
        if lock.title == title:
            return lock.id
    raise KeyError(title)


def group_refs(sandbox: RunningSandbox) -> set[str]:
    """Every tapkeyGroupRef the Spacebring world uses."""
    state = sandbox.world.spacebring
    refs = {
        ref
        for plan in state.plans.values()
        if (ref := (plan.get("access") or {}).get("tapkeyGroupRef"))
    }
    refs |= {
        r["tapkeyGroupRef"] for r in state.resources.values() if r.get("tapkeyGroupRef")
    }
    refs |= {
        item["tapkeyGroupRef"]
        for subscription in state.subscriptions.values()
        for item in subscription.get("items", [])
        if item.get("tapkeyGroupRef")
    }
    return refs


def add_access_group(
    hass: HomeAssistant, entry: ConfigEntry, name: str, data: dict[str, Any]
) -> ConfigSubentry:
    """Add an access-group subentry as the subentry flow would store it."""
    subentry = ConfigSubentry(
        data={
            CONF_NAME: name,
            CONF_GROUP_REFS: [],
            CONF_PLANS: [],
            CONF_RESOURCES: [],
            CONF_RESOURCE_TYPES: [],
            CONF_LOCKS: [],
            CONF_LOCK_GROUPS: [],
            **data,
        },
        subentry_type=SUBENTRY_ACCESS_GROUP,
        title=name,
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


def add_front_door_group(
    hass: HomeAssistant, entry: ConfigEntry, sandbox: RunningSandbox
) -> ConfigSubentry:
    """One access group: every Spacebring group reference opens the front door."""
    return add_access_group(
        hass,
        entry,
        "Front door",
        {
            CONF_GROUP_REFS: sorted(group_refs(sandbox)),
            CONF_LOCKS: [lock_id(sandbox, "Front door")],
        },
    )


def add_meeting_rooms_group(
    hass: HomeAssistant,
    entry: ConfigEntry,
    sandbox: RunningSandbox,
    resource_types: list[str],
) -> ConfigSubentry:
    """One access group: bookings of these resource types open the meeting rooms."""
    meeting_rooms = next(
        group.id
        for group in demo_owner(sandbox).lock_groups.values()
        if group.title == "Meeting rooms"
    )
    return add_access_group(
        hass,
        entry,
        "Meeting rooms",
        {CONF_RESOURCE_TYPES: resource_types, CONF_LOCK_GROUPS: [meeting_rooms]},
    )


async def set_up_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set the entry up and wait for its first sync; return whether it loaded."""
    loaded = await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return loaded


def expire_access_token(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Make the stored Tapkey access token look expired (forces a refresh)."""
    token = {**entry.data["token"], "expires_at": time.time() - 60}
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})


def tapkey_grants(sandbox: RunningSandbox) -> list[Grant]:
    """Every grant of the demo locking system, revoked ones included."""
    return list(demo_owner(sandbox).grants.values())


def managed_grants(sandbox: RunningSandbox, entry: ConfigEntry) -> list[Grant]:
    """The demo grants the entry's ledger says it created."""
    ledger = entry.runtime_data.sync.ledger_store.ledger
    return [grant for grant in tapkey_grants(sandbox) if grant.id in ledger.grants]


def granted_openers(
    sandbox: RunningSandbox, instant: datetime, *, ignore: Iterable[str] = ()
) -> set[Opener]:
    """Who Tapkey lets open which lock at `instant` (grants in `ignore` aside)."""
    owner = demo_owner(sandbox)
    ignored = set(ignore)
    emails = {c.id: c.identifier.strip().lower() for c in owner.contacts.values()}
    openers: set[Opener] = set()
    for grant in owner.grants.values():
        if grant.id in ignored or grant.state != "Ok":
            continue
        if grant.valid_from is not None and instant < grant.valid_from:
            continue
        if grant.valid_before is not None and instant >= grant.valid_before:
            continue
        email = emails[grant.contact_id]
        openers.update((email, lock) for lock in _locks_of(owner, grant.bound_lock_id))
    return openers


def desired_openers(
    entry: ConfigEntry, sandbox: RunningSandbox, instant: datetime
) -> set[Opener]:
    """Who the rules want to open which lock at `instant`."""
    owner = demo_owner(sandbox)
    desired = entry.runtime_data.sync.status.desired
    assert desired is not None
    targets = {
        subentry.subentry_id: [
            *subentry.data[CONF_LOCKS],
            *subentry.data[CONF_LOCK_GROUPS],
        ]
        for subentry in entry.subentries.values()
    }
    openers: set[Opener] = set()
    for window in desired.windows:
        if not window.contains(instant):
            continue
        for target in targets.get(window.group_id, []):
            openers.update((window.email, lock) for lock in _locks_of(owner, target))
    return openers


def _locks_of(owner: OwnerAccount, target_id: str) -> list[str]:
    if (group := owner.lock_groups.get(target_id)) is not None:
        return list(group.bound_lock_ids)
    return [target_id]
