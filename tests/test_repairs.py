"""Repair issues: raised after a sync that finds a problem, cleared once it is gone.

Every issue is driven through the sandbox the way it happens in production:
the operator forgets to map a Spacebring group, the Tapkey plan runs full, a
member has no e-mail, the locking system disappears from the Tapkey account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.const import (
    CONF_GROUP_REFS,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    DOMAIN,
)
from custom_components.spacebring_tapkey.repairs import (
    ISSUE_LOCKING_SYSTEM_UNAVAILABLE,
    ISSUE_MEMBERS_WITHOUT_EMAIL,
    ISSUE_PLAN_LIMIT,
    ISSUE_UNMAPPED_GROUP_REF,
    issue_id_for,
)
from sandbox.server import RunningSandbox

from .ha_sandbox import EntryFactory
from .sync_support import (
    add_access_group,
    add_front_door_group,
    demo_owner,
    group_refs,
    lock_id,
)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Load the entry and let its first sync finish."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def sync(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Poll both services and sync, as the sync-now action does."""
    data = entry.runtime_data
    await data.tapkey.async_refresh()
    await data.spacebring.async_refresh()
    await data.sync.async_sync()
    await hass.async_block_till_done(wait_background_tasks=True)


def entry_issues(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, ir.IssueEntry]:
    """The entry's issues by id."""
    return {
        issue.issue_id: issue
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and entry.entry_id in issue.issue_id
    }


def unmapped_issue(entry: MockConfigEntry, ref: str) -> str:
    """The issue id of an unmapped Spacebring group reference."""
    return issue_id_for(ISSUE_UNMAPPED_GROUP_REF, entry.entry_id, ref)


def front_door_for_one_ref(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: RunningSandbox
) -> ConfigSubentry:
    """A front-door group that maps only the first of the world's references."""
    return add_access_group(
        hass,
        entry,
        "Front door",
        {
            CONF_GROUP_REFS: sorted(group_refs(sandbox))[:1],
            CONF_LOCKS: [lock_id(sandbox, "Front door")],
        },
    )


def unmapped_refs(entry: MockConfigEntry) -> frozenset[str]:
    """The references the last sync found unmapped."""
    desired = entry.runtime_data.sync.status.desired
    assert desired is not None
    return desired.unmapped_group_refs


@pytest.fixture
async def partly_mapped(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> MockConfigEntry:
    """An entry whose only access group maps one Spacebring reference."""
    entry = sandbox_entry()
    front_door_for_one_ref(hass, entry, ha_sandbox)
    await set_up(hass, entry)
    assert await async_setup_component(hass, "repairs", {})
    return entry


# --- unmapped Spacebring group references ---------------------------------------


async def test_each_unmapped_reference_raises_a_fixable_issue(
    hass: HomeAssistant, partly_mapped: MockConfigEntry
) -> None:
    """One warning per reference in use that no access group maps."""
    refs = unmapped_refs(partly_mapped)
    assert refs

    issues = entry_issues(hass, partly_mapped)

    assert {unmapped_issue(partly_mapped, ref) for ref in refs} <= set(issues)
    for ref in refs:
        issue = issues[unmapped_issue(partly_mapped, ref)]
        assert issue.is_fixable
        assert issue.severity is ir.IssueSeverity.WARNING
        assert issue.translation_key == ISSUE_UNMAPPED_GROUP_REF
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["group_ref"] == ref


async def test_mapping_a_reference_clears_its_issue(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, partly_mapped: MockConfigEntry
) -> None:
    """Once an access group maps every reference, no unmapped issue is left."""
    [front_door] = partly_mapped.subentries.values()

    hass.config_entries.async_update_subentry(
        partly_mapped,
        front_door,
        data={**front_door.data, CONF_GROUP_REFS: sorted(group_refs(ha_sandbox))},
    )
    await sync(hass, partly_mapped)

    assert not unmapped_refs(partly_mapped)
    assert not [
        issue
        for issue in entry_issues(hass, partly_mapped).values()
        if issue.translation_key == ISSUE_UNMAPPED_GROUP_REF
    ]


async def test_fix_flow_adds_the_reference_to_an_existing_group(
    hass: HomeAssistant, partly_mapped: MockConfigEntry
) -> None:
    """The operator picks an access group; it maps the reference from then on."""
    ref = sorted(unmapped_refs(partly_mapped))[0]
    [front_door] = partly_mapped.subentries.values()
    flows = repairs_flow_manager(hass)
    assert flows is not None

    menu = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, ref)}
    )
    assert menu["type"] is FlowResultType.MENU
    assert menu["menu_options"] == ["map_existing", "create_group"]
    form = await flows.async_configure(
        menu["flow_id"], {"next_step_id": "map_existing"}
    )
    assert form["type"] is FlowResultType.FORM
    done = await flows.async_configure(
        form["flow_id"], {"access_group": front_door.subentry_id}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert ref in partly_mapped.subentries[front_door.subentry_id].data[CONF_GROUP_REFS]
    assert ref not in unmapped_refs(partly_mapped)
    assert unmapped_issue(partly_mapped, ref) not in entry_issues(hass, partly_mapped)


async def test_fix_flow_creates_a_new_group_for_the_reference(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, partly_mapped: MockConfigEntry
) -> None:
    """A new access group with the reference and the chosen locks is added."""
    ref = sorted(unmapped_refs(partly_mapped))[0]
    flows = repairs_flow_manager(hass)
    assert flows is not None
    menu = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, ref)}
    )
    form = await flows.async_configure(
        menu["flow_id"], {"next_step_id": "create_group"}
    )
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "create_group"
    meeting_rooms = next(
        group.id
        for group in demo_owner(ha_sandbox).lock_groups.values()
        if group.title == "Meeting rooms"
    )

    done = await flows.async_configure(
        form["flow_id"], {CONF_NAME: "Studio", CONF_LOCK_GROUPS: [meeting_rooms]}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert done["type"] is FlowResultType.CREATE_ENTRY
    studio = next(s for s in partly_mapped.subentries.values() if s.title == "Studio")
    assert studio.data[CONF_GROUP_REFS] == [ref]
    assert studio.data[CONF_LOCK_GROUPS] == [meeting_rooms]
    assert studio.data[CONF_LOCKS] == []
    assert ref not in unmapped_refs(partly_mapped)
    desired = partly_mapped.runtime_data.sync.status.desired
    assert any(window.group_id == studio.subentry_id for window in desired.windows)


@pytest.mark.parametrize(
    ("name", "with_lock", "error"),
    [
        ("front DOOR", True, {CONF_NAME: "name_exists"}),
        ("Studio", False, {"base": "no_targets"}),
    ],
)
async def test_fix_flow_new_group_needs_a_free_name_and_a_lock(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    partly_mapped: MockConfigEntry,
    name: str,
    with_lock: bool,
    error: dict[str, str],
) -> None:
    """The form explains what is missing and adds nothing until it is right."""
    ref = sorted(unmapped_refs(partly_mapped))[0]
    flows = repairs_flow_manager(hass)
    assert flows is not None
    menu = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, ref)}
    )
    form = await flows.async_configure(
        menu["flow_id"], {"next_step_id": "create_group"}
    )

    locks = [lock_id(ha_sandbox, "Front door")] if with_lock else []

    again = await flows.async_configure(
        form["flow_id"], {CONF_NAME: name, CONF_LOCKS: locks}
    )

    assert again["type"] is FlowResultType.FORM
    assert again["errors"] == error
    assert len(partly_mapped.subentries) == 1


async def test_fix_flow_without_any_group_asks_for_a_new_one(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """With no access group to add to, the flow opens the new-group form."""
    entry = sandbox_entry()
    await set_up(hass, entry)
    assert await async_setup_component(hass, "repairs", {})
    ref = sorted(unmapped_refs(entry))[0]
    flows = repairs_flow_manager(hass)
    assert flows is not None

    form = await flows.async_init(DOMAIN, data={"issue_id": unmapped_issue(entry, ref)})

    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "create_group"
    assert form["description_placeholders"] == {
        "group_ref": ref,
        "entry_title": entry.title,
    }


async def test_fix_flow_aborts_when_the_reference_was_mapped_meanwhile(
    hass: HomeAssistant, partly_mapped: MockConfigEntry
) -> None:
    """A reference mapped since the issue was raised needs no fixing."""
    ref = sorted(unmapped_refs(partly_mapped))[0]
    [front_door] = partly_mapped.subentries.values()
    hass.config_entries.async_update_subentry(
        partly_mapped,
        front_door,
        data={
            **front_door.data,
            CONF_GROUP_REFS: [*front_door.data[CONF_GROUP_REFS], ref],
        },
    )
    flows = repairs_flow_manager(hass)
    assert flows is not None

    result = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, ref)}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_mapped"


@pytest.mark.parametrize("step", ["map_existing", "create_group"])
async def test_fix_flow_stops_when_the_entry_is_unloaded_meanwhile(
    hass: HomeAssistant, partly_mapped: MockConfigEntry, step: str
) -> None:
    """An entry unloaded while the flow is open cannot be changed by it."""
    ref = sorted(unmapped_refs(partly_mapped))[0]
    flows = repairs_flow_manager(hass)
    assert flows is not None
    menu = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, ref)}
    )
    await hass.config_entries.async_unload(partly_mapped.entry_id)

    result = await flows.async_configure(menu["flow_id"], {"next_step_id": step})

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_fix_flow_of_an_issue_left_by_an_unloaded_entry_aborts(
    hass: HomeAssistant, partly_mapped: MockConfigEntry
) -> None:
    """An issue whose entry is gone is not fixed through that entry."""
    await hass.config_entries.async_unload(partly_mapped.entry_id)
    ir.async_create_issue(
        hass,
        DOMAIN,
        unmapped_issue(partly_mapped, "left-over"),
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_UNMAPPED_GROUP_REF,
        data={"entry_id": partly_mapped.entry_id, "group_ref": "left-over"},
    )
    flows = repairs_flow_manager(hass)
    assert flows is not None

    result = await flows.async_init(
        DOMAIN, data={"issue_id": unmapped_issue(partly_mapped, "left-over")}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


# --- Tapkey plan limit ----------------------------------------------------------


async def test_plan_limit_raises_an_issue_until_a_sync_succeeds(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """HTTP 402 raises an error issue; a clean sync after an upgrade clears it."""
    ha_sandbox.world.tapkey.set_contact_limit(len(demo_owner(ha_sandbox).contacts))
    entry = sandbox_entry()
    front_door_for_one_ref(hass, entry, ha_sandbox)
    await set_up(hass, entry)

    issue = entry_issues(hass, entry)[issue_id_for(ISSUE_PLAN_LIMIT, entry.entry_id)]
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_placeholders == {
        "entry_title": entry.title,
        "owner_name": entry.data["owner_name"],
    }

    ha_sandbox.world.tapkey.set_contact_limit(None)
    await sync(hass, entry)

    assert issue_id_for(ISSUE_PLAN_LIMIT, entry.entry_id) not in entry_issues(
        hass, entry
    )


# --- members without e-mail -----------------------------------------------------


def people_named(records: Any, user_id: str) -> Iterator[dict[str, Any]]:
    """Every embedded copy of one Spacebring user in a tree of records."""
    if isinstance(records, dict):
        if records.get("id") == user_id:
            yield records
        for value in records.values():
            yield from people_named(value, user_id)
    elif isinstance(records, list):
        for value in records:
            yield from people_named(value, user_id)


async def test_members_without_email_are_counted_until_they_have_one(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    tapkey_credentials: None,
    sandbox_entry: EntryFactory,
) -> None:
    """A warning counts the members without e-mail; adding the e-mail clears it."""
    entry = sandbox_entry()
    add_front_door_group(hass, entry, ha_sandbox)
    await set_up(hass, entry)
    desired = entry.runtime_data.sync.status.desired
    without = {r.detail for r in desired.skipped if r.reason == "no_email"}
    assert without
    issue = entry_issues(hass, entry)[
        issue_id_for(ISSUE_MEMBERS_WITHOUT_EMAIL, entry.entry_id)
    ]
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == str(len(without))

    state = ha_sandbox.world.spacebring
    for number, user_id in enumerate(sorted(without)):
        for tree in (state.memberships, state.bookings, state.subscriptions):
            for person in people_named(list(tree.values()), user_id):
                person["email"] = f"added.{number}@members.example"
    await sync(hass, entry)

    assert issue_id_for(
        ISSUE_MEMBERS_WITHOUT_EMAIL, entry.entry_id
    ) not in entry_issues(hass, entry)


# --- locking system -------------------------------------------------------------


async def test_locking_system_gone_raises_an_issue_until_it_is_back(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, partly_mapped: MockConfigEntry
) -> None:
    """The owner account vanishing from Tapkey is an error the operator must fix."""
    owners = ha_sandbox.world.tapkey.owners
    owner = demo_owner(ha_sandbox)
    issue_id = issue_id_for(ISSUE_LOCKING_SYSTEM_UNAVAILABLE, partly_mapped.entry_id)

    del owners[owner.id]
    await sync(hass, partly_mapped)

    issue = entry_issues(hass, partly_mapped)[issue_id]
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["owner_name"] == owner.name

    owners[owner.id] = owner
    await sync(hass, partly_mapped)

    assert issue_id not in entry_issues(hass, partly_mapped)


# --- lifetime -------------------------------------------------------------------


async def test_unloading_the_entry_removes_its_issues(
    hass: HomeAssistant, partly_mapped: MockConfigEntry
) -> None:
    """Nothing watches an unloaded entry, so its issues go with it."""
    assert entry_issues(hass, partly_mapped)

    await hass.config_entries.async_unload(partly_mapped.entry_id)

    assert not entry_issues(hass, partly_mapped)
