"""Access groups as config subentries, with choices read from the sandbox."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigSubentry,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    TargetRef,
)
from custom_components.spacebring_tapkey.access_groups import (
    access_group_from_subentry,
)
from custom_components.spacebring_tapkey.api.models import TargetKind
from custom_components.spacebring_tapkey.api.tapkey import TapkeyClient
from custom_components.spacebring_tapkey.const import (
    CONF_GROUP_REFS,
    CONF_LOCATION_ID,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    CONF_SCHEDULE_DAYS,
    CONF_SCHEDULE_END,
    CONF_SCHEDULE_START,
    CONF_SPACEBRING_CLIENT_SECRET,
    CONF_TAPKEY_URL,
    DOMAIN,
    SUBENTRY_ACCESS_GROUP,
)
from sandbox.server import RunningSandbox
from sandbox.tapkey_generate import DEMO_OWNER_NAME
from sandbox.tapkey_records import OwnerAccount

if TYPE_CHECKING:
    from .ha_sandbox import EntryFactory


pytestmark = pytest.mark.usefixtures("tapkey_credentials")

TIMEZONE = "Europe/Vienna"


def demo_owner(sandbox: RunningSandbox) -> OwnerAccount:
    """The locking system the entries use."""
    return sandbox.world.tapkey.owner_named(DEMO_OWNER_NAME)


def lock_id(sandbox: RunningSandbox, title: str) -> str:
    """A lock of the demo locking system by title."""
    return next(
        lock.id for lock in demo_owner(sandbox).locks.values() if lock.title == title
    )


def lock_group_id(sandbox: RunningSandbox, title: str) -> str:
    """A lock group of the demo locking system by title."""
    return next(
        group.id
        for group in demo_owner(sandbox).lock_groups.values()
        if group.title == title
    )


def plan(sandbox: RunningSandbox, title: str) -> dict[str, Any]:
    """A Spacebring plan record by title."""
    return next(
        record
        for record in sandbox.world.spacebring.plans.values()
        if record["title"] == title
    )


def resource(sandbox: RunningSandbox, title: str) -> dict[str, Any]:
    """A Spacebring resource record by title."""
    return next(
        record
        for record in sandbox.world.spacebring.resources.values()
        if record["title"] == title
    )


def form_field(result: dict[str, Any], key: str) -> Any:
    """The selector of a field, looked up inside the form's sections too."""
    for field, validator in result["data_schema"].schema.items():
        if field == key:
            return validator
        if isinstance(validator, section):
            for inner, inner_validator in validator.schema.schema.items():
                if inner == key:
                    return inner_validator
    raise KeyError(key)


def option_labels(result: dict[str, Any], key: str) -> dict[str, str]:
    """value → label of a select field."""
    return {
        option["value"]: option["label"]
        for option in form_field(result, key).config["options"]
    }


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """The form's suggested values, sections nested as the form submits them."""

    def values(schema: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field, validator in schema.schema.items():
            if isinstance(validator, section):
                found[str(field)] = values(validator.schema)
            elif field.description and "suggested_value" in field.description:
                found[str(field)] = field.description["suggested_value"]
        return found

    return values(result["data_schema"])


def group_input(
    name: str = "Business hours",
    *,
    sources: dict[str, Any] | None = None,
    targets: dict[str, Any] | None = None,
    schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A submitted access-group form."""
    return {
        CONF_NAME: name,
        "sources": sources if sources is not None else {CONF_GROUP_REFS: ["ref-1"]},
        "targets": targets if targets is not None else {},
        "schedule": schedule or {},
    }


def add_group(
    hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]
) -> ConfigSubentry:
    """Store an access group as the flow would have."""
    subentry = ConfigSubentry(
        data=MappingProxyType(data),
        subentry_type=SUBENTRY_ACCESS_GROUP,
        title=data[CONF_NAME],
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Open the add-access-group form."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ACCESS_GROUP), context={"source": SOURCE_USER}
    )


async def submit(
    hass: HomeAssistant, result: dict[str, Any], user_input: dict[str, Any]
) -> dict[str, Any]:
    """Submit a subentry form."""
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


async def reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, subentry: ConfigSubentry
) -> dict[str, Any]:
    """Open the edit form of an access group."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ACCESS_GROUP),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )


def business_hours_data(sandbox: RunningSandbox) -> dict[str, Any]:
    """Stored data of a realistic group: hot desks on weekdays 08:00-18:00."""
    return {
        CONF_NAME: "Business hours",
        CONF_GROUP_REFS: [
            plan(sandbox, "Hot Desk (business hours)")["access"]["tapkeyGroupRef"]
        ],
        CONF_PLANS: [],
        CONF_RESOURCES: [resource(sandbox, "Hot Desk Area")["id"]],
        CONF_RESOURCE_TYPES: ["hotDesk"],
        CONF_LOCKS: [lock_id(sandbox, "Front door")],
        CONF_LOCK_GROUPS: [],
        CONF_SCHEDULE_DAYS: ["mon", "tue", "wed", "thu", "fri"],
        CONF_SCHEDULE_START: "08:00:00",
        CONF_SCHEDULE_END: "18:00:00",
    }


# --- the form ---------------------------------------------------------------------


async def test_form_offers_what_the_entry_can_see(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Plans, resources and their group refs of the location; locks and groups."""
    entry = sandbox_entry()
    location = entry.data[CONF_LOCATION_ID]
    spacebring = ha_sandbox.world.spacebring

    result = await start(hass, entry)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["description_placeholders"]["owner_name"] == DEMO_OWNER_NAME
    plans = [p for p in spacebring.plans.values() if p["locationRef"] == location]
    resources = [
        r for r in spacebring.resources.values() if r["locationRef"] == location
    ]
    assert option_labels(result, CONF_PLANS) == {p["id"]: p["title"] for p in plans}
    assert option_labels(result, CONF_RESOURCES) == {
        r["id"]: r["title"] for r in resources
    }
    refs = {p.get("access", {}).get("tapkeyGroupRef") for p in plans} | {
        r.get("tapkeyGroupRef") for r in resources
    }
    assert set(option_labels(result, CONF_GROUP_REFS)) == refs - {None}
    assert form_field(result, CONF_GROUP_REFS).config["custom_value"] is True
    owner = demo_owner(ha_sandbox)
    assert option_labels(result, CONF_LOCKS) == {
        lock.id: lock.title for lock in owner.locks.values()
    }
    assert option_labels(result, CONF_LOCK_GROUPS) == {
        group.id: group.title for group in owner.lock_groups.values()
    }
    assert "meeting_room" in form_field(result, CONF_RESOURCE_TYPES).config["options"]
    assert form_field(result, CONF_SCHEDULE_DAYS).config["options"] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]


async def test_new_group_is_stored_as_a_subentry(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """The submitted form becomes the subentry's flat data, titled by name."""
    entry = sandbox_entry()
    expected = business_hours_data(ha_sandbox)
    result = await start(hass, entry)

    result = await submit(
        hass,
        result,
        group_input(
            "  Business hours ",
            sources={
                CONF_GROUP_REFS: [*expected[CONF_GROUP_REFS], " "],
                CONF_RESOURCES: expected[CONF_RESOURCES],
                CONF_RESOURCE_TYPES: ["hot_desk"],
            },
            targets={CONF_LOCKS: expected[CONF_LOCKS]},
            schedule={
                CONF_SCHEDULE_DAYS: ["fri", "mon", "wed", "tue", "thu"],
                CONF_SCHEDULE_START: "08:00:00",
                CONF_SCHEDULE_END: "18:00:00",
            },
        ),
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = entry.subentries.values()
    assert subentry.subentry_type == SUBENTRY_ACCESS_GROUP
    assert subentry.title == "Business hours"
    assert dict(subentry.data) == expected


async def test_stored_group_converts_to_the_engines_access_group(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """What the flow stores is what the sync engine reads."""
    entry = sandbox_entry()
    result = await start(hass, entry)
    front_door = lock_id(ha_sandbox, "Front door")
    entrance = lock_group_id(ha_sandbox, "Entrance")
    await submit(
        hass,
        result,
        group_input(
            "Members 24/7",
            sources={CONF_GROUP_REFS: ["ref-24-7"], CONF_RESOURCE_TYPES: ["office"]},
            targets={CONF_LOCKS: [front_door], CONF_LOCK_GROUPS: [entrance]},
        ),
    )
    (subentry,) = entry.subentries.values()

    group = access_group_from_subentry(subentry.subentry_id, subentry.data, TIMEZONE)

    assert group == AccessGroup(
        id=subentry.subentry_id,
        name="Members 24/7",
        targets=(
            TargetRef(front_door, TargetKind.LOCK),
            TargetRef(entrance, TargetKind.LOCK_GROUP),
        ),
        tapkey_group_refs=frozenset({"ref-24-7"}),
        resource_types=frozenset({"office"}),
    )


async def test_edit_form_shows_the_stored_group_and_updates_it(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Reconfigure starts from the stored values and replaces them."""
    entry = sandbox_entry()
    stored = business_hours_data(ha_sandbox)
    subentry = add_group(hass, entry, stored)

    result = await reconfigure(hass, entry, subentry)
    assert result["step_id"] == "reconfigure"
    assert suggested(result) == {
        CONF_NAME: "Business hours",
        "sources": {
            CONF_GROUP_REFS: stored[CONF_GROUP_REFS],
            CONF_RESOURCES: stored[CONF_RESOURCES],
            CONF_RESOURCE_TYPES: ["hot_desk"],
        },
        "targets": {CONF_LOCKS: stored[CONF_LOCKS]},
        "schedule": {
            CONF_SCHEDULE_DAYS: stored[CONF_SCHEDULE_DAYS],
            CONF_SCHEDULE_START: "08:00:00",
            CONF_SCHEDULE_END: "18:00:00",
        },
    }
    offices = lock_group_id(ha_sandbox, "Offices")
    result = await submit(
        hass,
        result,
        group_input(
            "Offices",
            sources={CONF_RESOURCE_TYPES: ["office"]},
            targets={CONF_LOCK_GROUPS: [offices]},
        ),
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    updated = entry.subentries[subentry.subentry_id]
    assert updated.title == "Offices"
    assert updated.data[CONF_LOCK_GROUPS] == [offices]
    assert updated.data[CONF_RESOURCE_TYPES] == ["office"]
    assert updated.data[CONF_SCHEDULE_DAYS] == []
    assert updated.data[CONF_SCHEDULE_START] is None


async def test_edit_form_keeps_ids_that_disappeared_selectable(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """A lock removed in Tapkey is still listed (by id) so it can be removed."""
    entry = sandbox_entry()
    subentry = add_group(
        hass,
        entry,
        business_hours_data(ha_sandbox) | {CONF_LOCKS: ["removed-lock-id"]},
    )

    result = await reconfigure(hass, entry, subentry)

    assert option_labels(result, CONF_LOCKS)["removed-lock-id"] == "removed-lock-id"


async def test_edit_may_keep_the_groups_own_name(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """The name check skips the group being edited."""
    entry = sandbox_entry()
    subentry = add_group(hass, entry, business_hours_data(ha_sandbox))
    result = await reconfigure(hass, entry, subentry)

    result = await submit(
        hass,
        result,
        group_input(
            "business hours",
            targets={CONF_LOCKS: [lock_id(ha_sandbox, "Front door")]},
        ),
    )

    assert result["reason"] == "reconfigure_successful"


# --- validation -------------------------------------------------------------------


async def test_group_without_locks_is_refused(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """No lock and no lock group: no_targets."""
    result = await start(hass, sandbox_entry())

    result = await submit(hass, result, group_input(targets={}))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_targets"}


async def test_group_without_spacebring_side_is_refused(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """No group ref, plan, resource or resource type: no_source."""
    result = await start(hass, sandbox_entry())

    result = await submit(
        hass,
        result,
        group_input(
            sources={CONF_GROUP_REFS: ["  "]},
            targets={CONF_LOCKS: [lock_id(ha_sandbox, "Front door")]},
        ),
    )

    assert result["errors"] == {"base": "no_source"}


@pytest.mark.parametrize(
    "schedule",
    [
        {CONF_SCHEDULE_DAYS: ["mon"]},
        {CONF_SCHEDULE_DAYS: ["mon"], CONF_SCHEDULE_START: "09:00:00"},
        {CONF_SCHEDULE_START: "09:00:00", CONF_SCHEDULE_END: "17:00:00"},
    ],
    ids=["days only", "no end", "no days"],
)
async def test_incomplete_schedule_is_refused(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sandbox_entry: EntryFactory,
    schedule: dict[str, Any],
) -> None:
    """A schedule needs days, start and end (or none of them)."""
    result = await start(hass, sandbox_entry())

    result = await submit(
        hass,
        result,
        group_input(
            targets={CONF_LOCKS: [lock_id(ha_sandbox, "Front door")]},
            schedule=schedule,
        ),
    )

    assert result["errors"] == {"base": "schedule_incomplete"}


async def test_schedule_on_a_lock_without_time_restrictions_is_refused(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """The parking gate's relay cannot enforce weekly hours."""
    result = await start(hass, sandbox_entry())

    result = await submit(
        hass,
        result,
        group_input(
            targets={
                CONF_LOCKS: [
                    lock_id(ha_sandbox, "Front door"),
                    lock_id(ha_sandbox, "Parking gate"),
                ]
            },
            schedule={
                CONF_SCHEDULE_DAYS: ["mon"],
                CONF_SCHEDULE_START: "09:00:00",
                CONF_SCHEDULE_END: "17:00:00",
            },
        ),
    )

    assert result["errors"] == {"base": "schedule_not_supported"}
    assert result["description_placeholders"]["locks"] == "Parking gate"


async def test_lock_without_time_restrictions_is_fine_without_schedule(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Around the clock, the parking gate is a valid target."""
    result = await start(hass, sandbox_entry())

    result = await submit(
        hass,
        result,
        group_input(
            "Parking", targets={CONF_LOCKS: [lock_id(ha_sandbox, "Parking gate")]}
        ),
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_duplicate_name_is_refused(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Names are unique per entry, ignoring case and surrounding spaces."""
    entry = sandbox_entry()
    add_group(hass, entry, business_hours_data(ha_sandbox))
    result = await start(hass, entry)

    result = await submit(
        hass,
        result,
        group_input(
            " BUSINESS HOURS",
            targets={CONF_LOCKS: [lock_id(ha_sandbox, "Front door")]},
        ),
    )

    assert result["errors"] == {CONF_NAME: "name_exists"}


# --- when the choices cannot be read ----------------------------------------------


async def test_rejected_spacebring_credentials_abort_and_start_reauth(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """The operator is sent to reauthenticate the entry instead."""
    entry = sandbox_entry(overrides={CONF_SPACEBRING_CLIENT_SECRET: "rotated"})

    result = await start(hass, entry)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_required"
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == entry.entry_id


async def test_unreachable_tapkey_aborts_with_cannot_connect(
    hass: HomeAssistant,
    ha_sandbox: RunningSandbox,
    sandbox_entry: EntryFactory,
    closed_port_url: str,
) -> None:
    """Without Tapkey's locks the form cannot be offered."""
    entry = sandbox_entry(overrides={CONF_TAPKEY_URL: f"{closed_port_url}/api/v1"})

    result = await start(hass, entry)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_unexpected_failure_aborts_with_unknown(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """A bug while reading the choices is reported, not raised into the UI."""
    entry = sandbox_entry()

    with patch.object(
        TapkeyClient, "async_get_bound_locks", side_effect=RuntimeError("boom")
    ):
        result = await start(hass, entry)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unknown"


async def test_missing_application_credentials_abort(
    hass: HomeAssistant, ha_sandbox: RunningSandbox, sandbox_entry: EntryFactory
) -> None:
    """Without the entry's OAuth implementation Tapkey cannot be asked."""
    entry = sandbox_entry(overrides={"auth_implementation": "removed_credentials"})

    result = await start(hass, entry)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "oauth_implementation_unavailable"
