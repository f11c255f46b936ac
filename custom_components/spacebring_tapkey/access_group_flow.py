"""Subentry flow that adds and edits access groups.

The form offers what the entry can see right now: the location's plans and
resources (and the Tapkey group references they use) from Spacebring, the
locks and lock groups of the locking system from Tapkey. Stored ids that
have disappeared since stay selectable, so editing a group never drops them
silently. The data layout is described in `access_groups.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import logging
import re
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigSubentry,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.data_entry_flow import section
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    OAuth2Session,
    async_get_config_entry_implementation,
)
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TimeSelector,
)
import voluptuous as vol

from .access_groups import RESOURCE_TYPES, WEEKDAYS
from .api.errors import ApiAuthError, ApiError, ApiForbiddenError
from .api.models import LockTarget
from .api.spacebring import SpacebringClient
from .api.tapkey import TapkeyClient
from .auth import TapkeyOAuthTokenProvider
from .connection import FLOW_RETRY_POLICY, spacebring_url, tapkey_url
from .const import (
    CONF_GROUP_REFS,
    CONF_LOCATION_ID,
    CONF_LOCK_GROUPS,
    CONF_LOCKS,
    CONF_OWNER_ID,
    CONF_OWNER_NAME,
    CONF_PLANS,
    CONF_RESOURCE_TYPES,
    CONF_RESOURCES,
    CONF_SCHEDULE_DAYS,
    CONF_SCHEDULE_END,
    CONF_SCHEDULE_START,
    CONF_SPACEBRING_CLIENT_ID,
    CONF_SPACEBRING_CLIENT_SECRET,
    SUBENTRY_ACCESS_GROUP,
)

_LOGGER = logging.getLogger(__name__)

SECTION_SOURCES: Final = "sources"
SECTION_TARGETS: Final = "targets"
SECTION_SCHEDULE: Final = "schedule"
_SECTION_KEYS: Final = {
    SECTION_SOURCES: (CONF_GROUP_REFS, CONF_PLANS, CONF_RESOURCES, CONF_RESOURCE_TYPES),
    SECTION_TARGETS: (CONF_LOCKS, CONF_LOCK_GROUPS),
    SECTION_SCHEDULE: (CONF_SCHEDULE_DAYS, CONF_SCHEDULE_START, CONF_SCHEDULE_END),
}


def _option_key(resource_type: str) -> str:
    """Translation keys are snake case; Spacebring's types are camel case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", resource_type).lower()


_RESOURCE_TYPE_BY_OPTION: Final = {_option_key(kind): kind for kind in RESOURCE_TYPES}


class _ChoicesUnavailableError(Exception):
    """The form's choices could not be read; `reason` is the abort reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Choices:
    """What the entry can offer right now, id → label."""

    group_refs: tuple[str, ...]
    plans: dict[str, str]
    resources: dict[str, str]
    locks: dict[str, LockTarget]
    lock_groups: dict[str, LockTarget]


def _options(labels: Mapping[str, str], kept: Iterable[str]) -> list[SelectOptionDict]:
    """Options sorted by label, plus stored ids that are gone (labelled by id)."""
    merged = {value: value for value in kept} | dict(labels)
    return [
        SelectOptionDict(value=value, label=label)
        for value, label in sorted(merged.items(), key=lambda item: item[1].lower())
    ]


def _multi_select(
    options: list[SelectOptionDict] | list[str],
    *,
    custom_value: bool = False,
    translation_key: str | None = None,
) -> SelectSelector:
    config = SelectSelectorConfig(
        options=options,
        multiple=True,
        custom_value=custom_value,
        mode=SelectSelectorMode.DROPDOWN,
    )
    if translation_key is not None:
        config["translation_key"] = translation_key
    return SelectSelector(config)


def _form_schema(choices: _Choices, kept: Mapping[str, Any]) -> vol.Schema:
    """The form; `kept` is stored data whose ids must stay selectable."""

    def kept_ids(key: str) -> list[str]:
        return list(kept.get(key) or ())

    sources = vol.Schema(
        {
            vol.Optional(CONF_GROUP_REFS): _multi_select(
                _options(
                    {ref: ref for ref in choices.group_refs}, kept_ids(CONF_GROUP_REFS)
                ),
                custom_value=True,
            ),
            vol.Optional(CONF_PLANS): _multi_select(
                _options(choices.plans, kept_ids(CONF_PLANS))
            ),
            vol.Optional(CONF_RESOURCES): _multi_select(
                _options(choices.resources, kept_ids(CONF_RESOURCES))
            ),
            vol.Optional(CONF_RESOURCE_TYPES): _multi_select(
                list(_RESOURCE_TYPE_BY_OPTION), translation_key="resource_type"
            ),
        }
    )
    targets = vol.Schema(
        {
            vol.Optional(CONF_LOCKS): _multi_select(
                _options(
                    {key: lock.title for key, lock in choices.locks.items()},
                    kept_ids(CONF_LOCKS),
                )
            ),
            vol.Optional(CONF_LOCK_GROUPS): _multi_select(
                _options(
                    {key: group.title for key, group in choices.lock_groups.items()},
                    kept_ids(CONF_LOCK_GROUPS),
                )
            ),
        }
    )
    schedule = vol.Schema(
        {
            vol.Optional(CONF_SCHEDULE_DAYS): _multi_select(
                list(WEEKDAYS), translation_key="weekday"
            ),
            vol.Optional(CONF_SCHEDULE_START): TimeSelector(),
            vol.Optional(CONF_SCHEDULE_END): TimeSelector(),
        }
    )
    return vol.Schema(
        {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(SECTION_SOURCES): section(sources),
            vol.Required(SECTION_TARGETS): section(targets),
            vol.Required(SECTION_SCHEDULE): section(
                schedule, {"collapsed": not kept.get(CONF_SCHEDULE_DAYS)}
            ),
        }
    )


def _unique(values: Iterable[Any]) -> list[str]:
    """Trimmed, non-empty, first occurrence first."""
    return list(dict.fromkeys(text for value in values if (text := str(value).strip())))


def group_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data for a submitted form (sections flattened)."""
    sources = user_input.get(SECTION_SOURCES, {})
    targets = user_input.get(SECTION_TARGETS, {})
    schedule = user_input.get(SECTION_SCHEDULE, {})
    days = set(schedule.get(CONF_SCHEDULE_DAYS) or ())
    return {
        CONF_NAME: str(user_input[CONF_NAME]).strip(),
        CONF_GROUP_REFS: _unique(sources.get(CONF_GROUP_REFS) or ()),
        CONF_PLANS: _unique(sources.get(CONF_PLANS) or ()),
        CONF_RESOURCES: _unique(sources.get(CONF_RESOURCES) or ()),
        CONF_RESOURCE_TYPES: [
            _RESOURCE_TYPE_BY_OPTION[option]
            for option in _unique(sources.get(CONF_RESOURCE_TYPES) or ())
        ],
        CONF_LOCKS: _unique(targets.get(CONF_LOCKS) or ()),
        CONF_LOCK_GROUPS: _unique(targets.get(CONF_LOCK_GROUPS) or ()),
        CONF_SCHEDULE_DAYS: [day for day in WEEKDAYS if day in days],
        CONF_SCHEDULE_START: schedule.get(CONF_SCHEDULE_START) or None,
        CONF_SCHEDULE_END: schedule.get(CONF_SCHEDULE_END) or None,
    }


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored subentry data as the form's (sectioned) suggested values."""
    flat = dict(data)
    flat[CONF_RESOURCE_TYPES] = [
        _option_key(kind) for kind in data.get(CONF_RESOURCE_TYPES) or ()
    ]
    return {CONF_NAME: data.get(CONF_NAME, "")} | {
        name: {key: flat[key] for key in keys if flat.get(key)}
        for name, keys in _SECTION_KEYS.items()
    }


def validate_group(
    data: Mapping[str, Any], choices: _Choices, other_names: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Form errors (and their placeholders) for a group's data; none when valid."""
    if data[CONF_NAME].casefold() in {name.strip().casefold() for name in other_names}:
        return {CONF_NAME: "name_exists"}, {}
    if not any(
        data[key]
        for key in (CONF_GROUP_REFS, CONF_PLANS, CONF_RESOURCES, CONF_RESOURCE_TYPES)
    ):
        return {"base": "no_source"}, {}
    if not data[CONF_LOCKS] and not data[CONF_LOCK_GROUPS]:
        return {"base": "no_targets"}, {}
    schedule = (
        data[CONF_SCHEDULE_DAYS],
        data[CONF_SCHEDULE_START],
        data[CONF_SCHEDULE_END],
    )
    if any(schedule) and not all(schedule):
        return {"base": "schedule_incomplete"}, {}
    if all(schedule):
        unsupported = [
            lock.title
            for lock_id in data[CONF_LOCKS]
            if (lock := choices.locks.get(lock_id)) is not None
            and lock.supports_time_restriction is False
        ]
        if unsupported:
            return {"base": "schedule_not_supported"}, {
                "locks": ", ".join(sorted(unsupported))
            }
    return {}, {}


class AccessGroupSubentryFlowHandler(ConfigSubentryFlow):
    """Add or edit one access group of an entry."""

    def __init__(self) -> None:
        """Choices are read once per flow."""
        self._choices: _Choices | None = None

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add an access group."""
        return await self._async_step_group("user", None, user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an access group."""
        return await self._async_step_group(
            "reconfigure", self._get_reconfigure_subentry(), user_input
        )

    async def _async_step_group(
        self,
        step_id: str,
        subentry: ConfigSubentry | None,
        user_input: dict[str, Any] | None,
    ) -> SubentryFlowResult:
        if self._choices is None:
            try:
                self._choices = await self._async_read_choices()
            except _ChoicesUnavailableError as err:
                return self.async_abort(reason=err.reason)
        choices = self._choices
        stored: Mapping[str, Any] = subentry.data if subentry else {}
        errors: dict[str, str] = {}
        placeholders = {"locks": ""}
        if user_input is not None:
            data = group_data(user_input)
            errors, found = validate_group(data, choices, self._other_names(subentry))
            placeholders |= found
            if not errors and subentry is not None:
                return self.async_update_and_abort(
                    self._get_entry(), subentry, title=data[CONF_NAME], data=data
                )
            if not errors:
                return self.async_create_entry(title=data[CONF_NAME], data=data)
        suggested = user_input if user_input is not None else form_values(stored)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _form_schema(choices, stored), suggested
            ),
            errors=errors,
            description_placeholders=placeholders
            | {"owner_name": self._get_entry().data[CONF_OWNER_NAME]},
        )

    def _other_names(self, editing: ConfigSubentry | None) -> list[str]:
        return [
            subentry.title
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == SUBENTRY_ACCESS_GROUP
            and (editing is None or subentry.subentry_id != editing.subentry_id)
        ]

    async def _async_read_choices(self) -> _Choices:
        """Read the location's catalogue and the locking system's locks."""
        entry = self._get_entry()
        try:
            implementation = await async_get_config_entry_implementation(
                self.hass, entry
            )
        except (ValueError, HomeAssistantError) as err:
            raise _ChoicesUnavailableError("oauth_implementation_unavailable") from err
        session = async_get_clientsession(self.hass)
        spacebring = SpacebringClient(
            session,
            entry.data[CONF_SPACEBRING_CLIENT_ID],
            entry.data[CONF_SPACEBRING_CLIENT_SECRET],
            base_url=spacebring_url(entry.data),
            policy=FLOW_RETRY_POLICY,
        )
        tapkey = TapkeyClient(
            session,
            TapkeyOAuthTokenProvider(OAuth2Session(self.hass, entry, implementation)),
            base_url=tapkey_url(entry.data),
            policy=FLOW_RETRY_POLICY,
        )
        location_id = entry.data[CONF_LOCATION_ID]
        owner_id = entry.data[CONF_OWNER_ID]
        try:
            plans = (await spacebring.async_get_plans(location_id)).items
            resources = (await spacebring.async_get_resources(location_id)).items
            locks = (await tapkey.async_get_bound_locks(owner_id)).items
            lock_groups = (await tapkey.async_get_lock_groups(owner_id)).items
        except (ApiAuthError, ApiForbiddenError) as err:
            _LOGGER.debug("Access group choices rejected: %s", err)
            entry.async_start_reauth(self.hass)
            raise _ChoicesUnavailableError("reauth_required") from err
        except ApiError as err:
            _LOGGER.warning("Could not read the access group choices: %s", err)
            raise _ChoicesUnavailableError("cannot_connect") from err
        except Exception as err:
            _LOGGER.exception("Unexpected error reading the access group choices")
            raise _ChoicesUnavailableError("unknown") from err
        refs = {plan.tapkey_group_ref for plan in plans} | {
            resource.tapkey_group_ref for resource in resources
        }
        return _Choices(
            group_refs=tuple(sorted(ref for ref in refs if ref)),
            plans={plan.id: plan.title for plan in plans},
            resources={resource.id: resource.title for resource in resources},
            locks={lock.id: lock for lock in locks if lock.active},
            lock_groups={group.id: group for group in lock_groups if group.active},
        )
