"""Repair issues an operator must act on, raised and cleared after every sync.

- A Spacebring `tapkeyGroupRef` that no access group maps (one issue per
  reference; members with that group get no access). Fixable: the fix flow
  adds the reference to an existing access group or creates a new one.
- Tapkey refused a grant because the plan's limit is reached (HTTP 402).
- Members who have no e-mail in Spacebring and therefore get no access.
- The locking system is no longer reachable with the entry's Tapkey account.

Issue ids carry the entry id, so several entries keep separate issues; the
issues of an entry are removed when it unloads (nothing watches them then).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import CONF_NAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .access.model import SkipReason
from .const import (
    CONF_GROUP_REFS,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_OWNER_NAME,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    CONF_SCHEDULE_DAYS,
    CONF_SCHEDULE_END,
    CONF_SCHEDULE_START,
    DOMAIN,
    SUBENTRY_ACCESS_GROUP,
)
from .sync import signal_sync_finished

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from . import SpacebringTapkeyConfigEntry

ISSUE_UNMAPPED_GROUP_REF: Final = "unmapped_group_ref"
ISSUE_PLAN_LIMIT: Final = "plan_limit_reached"
ISSUE_MEMBERS_WITHOUT_EMAIL: Final = "members_without_email"
ISSUE_LOCKING_SYSTEM_UNAVAILABLE: Final = "locking_system_unavailable"

DATA_ENTRY_ID: Final = "entry_id"
DATA_GROUP_REF: Final = "group_ref"

STEP_MAP_EXISTING: Final = "map_existing"
STEP_CREATE_GROUP: Final = "create_group"
FIELD_ACCESS_GROUP: Final = "access_group"


def issue_id_for(kind: str, entry_id: str, detail: str | None = None) -> str:
    """The id of one issue of one entry (`detail` tells references apart)."""
    base = f"{kind}_{entry_id}"
    return base if detail is None else f"{base}_{detail}"


@callback
def async_track_issues(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> CALLBACK_TYPE:
    """Update the entry's issues after every sync; the callback stops and clears."""

    @callback
    def sync_finished() -> None:
        async_update_issues(hass, entry)

    disconnect = async_dispatcher_connect(
        hass, signal_sync_finished(entry.entry_id), sync_finished
    )

    @callback
    def stop() -> None:
        disconnect()
        async_delete_issues(hass, entry.entry_id)

    return stop


@callback
def async_update_issues(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> None:
    """Raise or clear each issue from what the last sync and poll saw."""
    data = entry.runtime_data
    placeholders = {
        "entry_title": entry.title,
        "owner_name": str(entry.data.get(CONF_OWNER_NAME, "")),
    }
    # The last good Tapkey poll: a failed poll says nothing about the owner.
    _set_issue(
        hass,
        issue_id_for(ISSUE_LOCKING_SYSTEM_UNAVAILABLE, entry.entry_id),
        raised=not data.tapkey.data.owner_available,
        translation_key=ISSUE_LOCKING_SYSTEM_UNAVAILABLE,
        placeholders=placeholders,
        severity=ir.IssueSeverity.ERROR,
    )
    status = data.sync.status
    _set_issue(
        hass,
        issue_id_for(ISSUE_PLAN_LIMIT, entry.entry_id),
        raised=status.plan_limit_reached,
        translation_key=ISSUE_PLAN_LIMIT,
        placeholders=placeholders,
        severity=ir.IssueSeverity.ERROR,
    )
    desired = status.desired
    if desired is None:
        # No plan yet (or the data was missing): nothing new to say.
        return
    without_email = {
        record.detail or record.record_id
        for record in desired.skipped
        if record.reason == SkipReason.NO_EMAIL
    }
    _set_issue(
        hass,
        issue_id_for(ISSUE_MEMBERS_WITHOUT_EMAIL, entry.entry_id),
        raised=bool(without_email),
        translation_key=ISSUE_MEMBERS_WITHOUT_EMAIL,
        placeholders=placeholders | {"count": str(len(without_email))},
        severity=ir.IssueSeverity.WARNING,
    )
    _update_unmapped_refs(hass, entry, desired.unmapped_group_refs, placeholders)


def _update_unmapped_refs(
    hass: HomeAssistant,
    entry: ConfigEntry,
    refs: frozenset[str],
    placeholders: dict[str, str],
) -> None:
    prefix = issue_id_for(ISSUE_UNMAPPED_GROUP_REF, entry.entry_id) + "_"
    wanted = {
        issue_id_for(ISSUE_UNMAPPED_GROUP_REF, entry.entry_id, ref) for ref in refs
    }
    for stale in _entry_issue_ids(hass, prefix) - wanted:
        ir.async_delete_issue(hass, DOMAIN, stale)
    for ref in refs:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id_for(ISSUE_UNMAPPED_GROUP_REF, entry.entry_id, ref),
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_UNMAPPED_GROUP_REF,
            translation_placeholders=placeholders | {"group_ref": ref},
            data={DATA_ENTRY_ID: entry.entry_id, DATA_GROUP_REF: ref},
        )


def _set_issue(
    hass: HomeAssistant,
    issue: str,
    *,
    raised: bool,
    translation_key: str,
    placeholders: dict[str, str],
    severity: ir.IssueSeverity,
) -> None:
    if not raised:
        ir.async_delete_issue(hass, DOMAIN, issue)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue,
        is_fixable=False,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def _entry_issue_ids(hass: HomeAssistant, prefix: str) -> set[str]:
    return {
        issue.issue_id
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.issue_id.startswith(prefix)
    }


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every issue of an entry."""
    for kind in (
        ISSUE_LOCKING_SYSTEM_UNAVAILABLE,
        ISSUE_PLAN_LIMIT,
        ISSUE_MEMBERS_WITHOUT_EMAIL,
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id_for(kind, entry_id))
    for unmapped in _entry_issue_ids(
        hass, issue_id_for(ISSUE_UNMAPPED_GROUP_REF, entry_id) + "_"
    ):
        ir.async_delete_issue(hass, DOMAIN, unmapped)


# --- fix flow -------------------------------------------------------------------


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The fix flow of a fixable issue (only unmapped references are)."""
    assert data is not None  # every fixable issue is created with its data
    return UnmappedGroupRefRepairFlow(
        str(data[DATA_ENTRY_ID]), str(data[DATA_GROUP_REF])
    )


class UnmappedGroupRefRepairFlow(RepairsFlow):
    """Map a Spacebring group reference: to an existing or to a new access group."""

    def __init__(self, entry_id: str, group_ref: str) -> None:
        """Fix the reference `group_ref` of the entry `entry_id`."""
        self._entry_id = entry_id
        self._group_ref = group_ref

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Offer both ways; without access groups only a new one makes sense."""
        entry = self._loaded_entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        if any(self._group_ref in _refs(group) for group in _groups(entry)):
            return self.async_abort(reason="already_mapped")
        if not _groups(entry):
            return await self.async_step_create_group()
        return self.async_show_menu(
            step_id="init",
            menu_options=[STEP_MAP_EXISTING, STEP_CREATE_GROUP],
            description_placeholders=self._placeholders(entry),
        )

    async def async_step_map_existing(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Add the reference to an access group that already exists."""
        entry = self._loaded_entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        groups = {group.subentry_id: group for group in _groups(entry)}
        if user_input is not None:
            group = groups[user_input[FIELD_ACCESS_GROUP]]
            self.hass.config_entries.async_update_subentry(
                entry,
                group,
                data={**group.data, CONF_GROUP_REFS: [*_refs(group), self._group_ref]},
            )
            return self._fixed()
        options = [
            SelectOptionDict(value=group_id, label=group.title)
            for group_id, group in sorted(
                groups.items(), key=lambda item: item[1].title.casefold()
            )
        ]
        return self.async_show_form(
            step_id=STEP_MAP_EXISTING,
            data_schema=vol.Schema(
                {
                    vol.Required(
                        FIELD_ACCESS_GROUP, default=options[0]["value"]
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=options, mode=SelectSelectorMode.LIST
                        )
                    )
                }
            ),
            description_placeholders=self._placeholders(entry),
        )

    async def async_step_create_group(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """A new access group for the reference: a name and Tapkey locks."""
        entry = self._loaded_entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            locks = list(user_input.get(CONF_LOCKS) or ())
            lock_groups = list(user_input.get(CONF_LOCK_GROUPS) or ())
            if name.casefold() in {g.title.strip().casefold() for g in _groups(entry)}:
                errors[CONF_NAME] = "name_exists"
            elif not locks and not lock_groups:
                errors["base"] = "no_targets"
            else:
                self.hass.config_entries.async_add_subentry(
                    entry, _new_group(name, self._group_ref, locks, lock_groups)
                )
                return self._fixed()
        tapkey = entry.runtime_data.tapkey.data
        locks_by_id = {lock.id: lock.title for lock in tapkey.locks if lock.active}
        groups_by_id = {
            group.id: group.title for group in tapkey.lock_groups if group.active
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Optional(CONF_LOCKS): _multi_select(locks_by_id),
                vol.Optional(CONF_LOCK_GROUPS): _multi_select(groups_by_id),
            }
        )
        return self.async_show_form(
            step_id=STEP_CREATE_GROUP,
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_NAME: self._group_ref}
            ),
            errors=errors,
            description_placeholders=self._placeholders(entry),
        )

    def _loaded_entry(self) -> SpacebringTapkeyConfigEntry | None:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        loaded: SpacebringTapkeyConfigEntry = entry
        return loaded

    def _placeholders(self, entry: ConfigEntry) -> dict[str, str]:
        return {"group_ref": self._group_ref, "entry_title": entry.title}

    def _fixed(self) -> FlowResult:
        # Finishing the flow removes the issue; the subentry change makes the
        # entry sync, which raises it again only if the reference is still unmapped.
        return self.async_create_entry(data={})


def _groups(entry: ConfigEntry) -> list[ConfigSubentry]:
    return [
        subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ACCESS_GROUP
    ]


def _refs(group: ConfigSubentry) -> list[str]:
    return [str(ref) for ref in group.data.get(CONF_GROUP_REFS) or ()]


def _multi_select(labels: dict[str, str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=value, label=label)
                for value, label in sorted(
                    labels.items(), key=lambda item: item[1].casefold()
                )
            ],
            multiple=True,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def _new_group(
    name: str, group_ref: str, locks: list[str], lock_groups: list[str]
) -> ConfigSubentry:
    """An access-group subentry in the layout the subentry flow stores."""
    return ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_NAME: name,
                CONF_GROUP_REFS: [group_ref],
                CONF_PLANS: [],
                CONF_RESOURCES: [],
                CONF_RESOURCE_TYPES: [],
                CONF_LOCKS: locks,
                CONF_LOCK_GROUPS: lock_groups,
                CONF_SCHEDULE_DAYS: [],
                CONF_SCHEDULE_START: None,
                CONF_SCHEDULE_END: None,
            }
        ),
        subentry_type=SUBENTRY_ACCESS_GROUP,
        title=name,
        unique_id=None,
    )
