"""Actions: sync now, grant and revoke access, revoke everything, read the plan.

The actions are registered once, in `async_setup`, and each call names the
config entry it acts on. Input the operator got wrong raises a translated
`ServiceValidationError`; a sync that could not reach Spacebring or Tapkey,
or a change Tapkey refused, raises a translated `HomeAssistantError`.
E-mails appear in responses (the operator asked for them) but never in logs
or error messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
import re
from typing import TYPE_CHECKING, Any, Final
from uuid import uuid4

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .access.model import AccessWindow, AdHocGrant
from .api.models import normalize_email
from .const import CONF_DRY_RUN, DOMAIN, SUBENTRY_ACCESS_GROUP
from .options import entry_options
from .sync import AccessEvent, AccessEventType, signal_access_event

if TYPE_CHECKING:
    from . import SpacebringTapkeyConfigEntry, SpacebringTapkeyData

SERVICE_SYNC_NOW: Final = "sync_now"
SERVICE_GRANT_ACCESS: Final = "grant_access"
SERVICE_REVOKE_ACCESS: Final = "revoke_access"
SERVICE_REVOKE_ALL: Final = "revoke_all"
SERVICE_GET_ACCESS: Final = "get_access"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_EMAIL: Final = "email"
ATTR_ACCESS_GROUP: Final = "access_group"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_NOTE: Final = "note"

# Deliberately loose (one @, a dot in the domain, no spaces): Tapkey decides
# what it accepts; this only catches typing mistakes before anything is stored.
_EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

_ENTRY_SCHEMA: Final = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})

SYNC_NOW_SCHEMA: Final = _ENTRY_SCHEMA
GRANT_ACCESS_SCHEMA: Final = _ENTRY_SCHEMA.extend(
    {
        vol.Required(ATTR_EMAIL): cv.string,
        vol.Required(ATTR_ACCESS_GROUP): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_NOTE, default=""): cv.string,
    }
)
REVOKE_ACCESS_SCHEMA: Final = _ENTRY_SCHEMA.extend(
    {
        vol.Required(ATTR_EMAIL): cv.string,
        vol.Optional(ATTR_ACCESS_GROUP): cv.string,
    }
)
REVOKE_ALL_SCHEMA: Final = _ENTRY_SCHEMA
GET_ACCESS_SCHEMA: Final = _ENTRY_SCHEMA.extend(
    {
        vol.Optional(ATTR_EMAIL): cv.string,
        vol.Optional(ATTR_ACCESS_GROUP): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, for every entry)."""

    async def sync_now(call: ServiceCall) -> None:
        await _async_sync_now(hass, call)

    async def grant_access(call: ServiceCall) -> None:
        await _async_grant_access(hass, call)

    async def revoke_access(call: ServiceCall) -> ServiceResponse:
        return await _async_revoke_access(hass, call)

    async def revoke_all(call: ServiceCall) -> ServiceResponse:
        return await _async_revoke_all(hass, call)

    async def get_access(call: ServiceCall) -> ServiceResponse:
        return _get_access(hass, call)

    hass.services.async_register(DOMAIN, SERVICE_SYNC_NOW, sync_now, SYNC_NOW_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_GRANT_ACCESS, grant_access, GRANT_ACCESS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REVOKE_ACCESS,
        revoke_access,
        REVOKE_ACCESS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REVOKE_ALL,
        revoke_all,
        REVOKE_ALL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_ACCESS,
        get_access,
        GET_ACCESS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


# --- the actions ----------------------------------------------------------------


async def _async_sync_now(hass: HomeAssistant, call: ServiceCall) -> None:
    """Read both services again and sync."""
    await async_sync_now(_loaded_entry(hass, call).runtime_data)


async def async_sync_now(data: SpacebringTapkeyData) -> None:
    """Read Tapkey and Spacebring again, then sync (the action and the button).

    Tapkey goes first so that the sync sees grants changed by hand. Raises a
    translated error when the sync could not run or changes failed in Tapkey
    (they are retried on their own).
    """
    await data.tapkey.async_refresh()
    await data.spacebring.async_refresh()
    # The Spacebring update has already asked for a sync; awaiting one more
    # returns only once the result shows.
    await _async_sync(data)
    if failed := data.sync.status.failed:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="sync_failed",
            translation_placeholders={"count": str(failed)},
        )


async def _async_grant_access(hass: HomeAssistant, call: ServiceCall) -> None:
    """Keep an ad-hoc window in the ledger, lift a block, and sync."""
    entry = _loaded_entry(hass, call)
    email = _email(call.data[ATTR_EMAIL])
    group = _access_group(entry, call.data[ATTR_ACCESS_GROUP])
    now = dt_util.utcnow()
    start = _utc(call.data[ATTR_START]) if ATTR_START in call.data else now
    end = _utc(call.data[ATTR_END])
    _check_range(start, end)
    if end <= now:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="end_in_past"
        )
    sync = entry.runtime_data.sync
    await sync.async_unblock(email, group.subentry_id)
    await sync.async_add_adhoc(
        AdHocGrant(
            id=uuid4().hex,
            email=email,
            group_id=group.subentry_id,
            start=start,
            end=end,
            note=call.data[ATTR_NOTE].strip(),
        )
    )
    with _collect_access_events(hass, entry.entry_id, email) as events:
        await _async_sync(entry.runtime_data)
    if failed := [event for event in events if event.type is AccessEventType.FAILED]:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="grant_failed",
            translation_placeholders={"error": failed[0].error or "unknown"},
        )


async def _async_revoke_access(
    hass: HomeAssistant, call: ServiceCall
) -> ServiceResponse:
    """Stop granting a member one group (or all) and revoke what was granted."""
    entry = _loaded_entry(hass, call)
    email = _email(call.data[ATTR_EMAIL])
    group = (
        _access_group(entry, call.data[ATTR_ACCESS_GROUP])
        if ATTR_ACCESS_GROUP in call.data
        else None
    )
    sync = entry.runtime_data.sync
    await sync.async_block(email, group.subentry_id if group else None)
    with _collect_access_events(hass, entry.entry_id, email) as events:
        await _async_sync(entry.runtime_data)
    failed = _count(events, AccessEventType.FAILED)
    if failed:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="revoke_failed",
            translation_placeholders={"count": str(failed)},
        )
    return _optional_response(
        call, {"revoked": _count(events, AccessEventType.REVOKED)}
    )


async def _async_revoke_all(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """The clean disconnect: dry-run from now on, then revoke every own grant."""
    entry = _loaded_entry(hass, call)
    # Dry-run first, so that no sync (also one already waiting) grants again.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_DRY_RUN: True}
    )
    with _collect_access_events(hass, entry.entry_id) as events:
        failed = await entry.runtime_data.sync.async_revoke_all()
    if failed:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="revoke_all_failed",
            translation_placeholders={"count": str(failed)},
        )
    return _optional_response(
        call, {"revoked": _count(events, AccessEventType.REVOKED)}
    )


def _get_access(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """The access windows of the last sync, per access group and member."""
    entry = _loaded_entry(hass, call)
    email = _email(call.data[ATTR_EMAIL]) if ATTR_EMAIL in call.data else None
    group = (
        _access_group(entry, call.data[ATTR_ACCESS_GROUP])
        if ATTR_ACCESS_GROUP in call.data
        else None
    )
    start = _utc(call.data[ATTR_START]) if ATTR_START in call.data else None
    end = _utc(call.data[ATTR_END]) if ATTR_END in call.data else None
    if start is not None and end is not None:
        _check_range(start, end)
    desired = entry.runtime_data.sync.status.desired
    if desired is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="access_not_computed"
        )
    windows = [
        window
        for window in desired.windows
        if (email is None or window.email == email)
        and (group is None or window.group_id == group.subentry_id)
        and (end is None or window.start < end)
        and (start is None or window.end is None or window.end > start)
    ]
    return {
        "dry_run": entry_options(entry).dry_run,
        "access_groups": _access_by_group(_groups(entry), windows),
    }


# --- input ----------------------------------------------------------------------


def _loaded_entry(
    hass: HomeAssistant, call: ServiceCall
) -> SpacebringTapkeyConfigEntry:
    """The entry the call names; it must be one of ours and loaded."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"entry_title": entry.title},
        )
    loaded: SpacebringTapkeyConfigEntry = entry
    return loaded


def _email(raw: str) -> str:
    """The identity form of an e-mail the operator typed."""
    email = normalize_email(raw)
    if email is None or _EMAIL_PATTERN.fullmatch(email) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="invalid_email"
        )
    return email


def _groups(entry: SpacebringTapkeyConfigEntry) -> list[ConfigSubentry]:
    return [
        subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ACCESS_GROUP
    ]


def _access_group(entry: SpacebringTapkeyConfigEntry, wanted: str) -> ConfigSubentry:
    """An access group by subentry id or name, both case-insensitive."""
    key = wanted.strip().casefold()
    groups = _groups(entry)
    for subentry in groups:
        if subentry.subentry_id.casefold() == key:
            return subentry
    for subentry in groups:
        if subentry.title.strip().casefold() == key:
            return subentry
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_access_group",
        translation_placeholders={
            "access_group": wanted,
            "access_groups": ", ".join(sorted(s.title for s in groups)) or "-",
        },
    )


def _utc(value: datetime) -> datetime:
    """A date and time from the form; without a zone it is Home Assistant's."""
    return dt_util.as_utc(value)


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="end_before_start"
        )


# --- sync and results -------------------------------------------------------------


async def _async_sync(data: SpacebringTapkeyData) -> None:
    """Sync now; say which side kept the sync from running."""
    if await data.sync.async_sync() is not None:
        return
    if not data.spacebring.last_update_success:
        key = "spacebring_unavailable"
    elif data.tapkey.last_update_success and not data.tapkey.data.owner_available:
        key = "locking_system_unavailable"
    else:
        key = "tapkey_unavailable"
    raise HomeAssistantError(translation_domain=DOMAIN, translation_key=key)


@contextmanager
def _collect_access_events(
    hass: HomeAssistant, entry_id: str, email: str | None = None
) -> Iterator[list[AccessEvent]]:
    """Collect the entry's access events (of one member) while the block runs."""
    events: list[AccessEvent] = []

    @callback
    def collect(event: AccessEvent) -> None:
        if email is None or event.email == email:
            events.append(event)

    disconnect = async_dispatcher_connect(hass, signal_access_event(entry_id), collect)
    try:
        yield events
    finally:
        disconnect()


def _count(events: Iterable[AccessEvent], event_type: AccessEventType) -> int:
    return sum(1 for event in events if event.type is event_type)


def _optional_response(call: ServiceCall, response: dict[str, Any]) -> ServiceResponse:
    return response if call.return_response else None


def _access_by_group(
    groups: Iterable[ConfigSubentry], windows: Iterable[AccessWindow]
) -> list[JsonValueType]:
    """Windows grouped by access group, then member, in time order."""
    by_group: dict[str, dict[str, list[AccessWindow]]] = {}
    for window in sorted(windows, key=lambda w: (w.email, w.start)):
        by_group.setdefault(window.group_id, {}).setdefault(window.email, []).append(
            window
        )
    return [
        {
            "id": group.subentry_id,
            "name": group.title,
            "members": [
                {
                    "email": email,
                    "person": member_windows[0].person,
                    "windows": [_window_data(window) for window in member_windows],
                }
                for email, member_windows in by_group[group.subentry_id].items()
            ],
        }
        for group in sorted(groups, key=lambda g: g.title.casefold())
        if group.subentry_id in by_group
    ]


def _window_data(window: AccessWindow) -> JsonValueType:
    return {
        "start": window.start.isoformat(),
        "end": window.end.isoformat() if window.end is not None else None,
        "reasons": [
            {"kind": str(reason.kind), "label": reason.label}
            for reason in window.reasons
        ],
    }
