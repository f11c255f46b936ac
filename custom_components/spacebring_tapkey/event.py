"""An event entity that fires when access is granted, revoked or fails."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .access_view import GUEST_NAME, AccessView, access_view
from .entity import SpacebringTapkeyEntity
from .sync import AccessEvent, AccessEventType, signal_access_event

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry

PARALLEL_UPDATES = 0

ATTR_MEMBER: Final = "member"
ATTR_ACCESS_GROUPS: Final = "access_groups"
ATTR_LOCK: Final = "lock"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_ERROR: Final = "error"

ACCESS_CHANGES: Final = EventEntityDescription(
    key="access_changes",
    translation_key="access_changes",
    event_types=[event_type.value for event_type in AccessEventType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpacebringTapkeyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's access event entity."""
    async_add_entities([AccessChangesEvent(access_view(hass, entry), ACCESS_CHANGES)])


class AccessChangesEvent(SpacebringTapkeyEntity, EventEntity):
    """Fires for every grant made, revoked, or failed in Tapkey."""

    entity_description: EventEntityDescription

    async def async_added_to_hass(self) -> None:
        """Listen to the sync engine's access events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_access_event(self._view.entry.entry_id),
                self._async_handle_access_event,
            )
        )

    @callback
    def _async_handle_access_event(self, event: AccessEvent) -> None:
        self._trigger_event(event.type.value, event_attributes(self._view, event))
        self.async_write_ha_state()


def event_attributes(view: AccessView, event: AccessEvent) -> dict[str, Any]:
    """The event's member, access groups, lock and window, by name, no e-mail."""
    subentries = view.entry.subentries
    return {
        ATTR_MEMBER: event.person or GUEST_NAME,
        ATTR_ACCESS_GROUPS: [
            subentries[group_id].title
            for group_id in event.group_ids
            if group_id in subentries
        ],
        ATTR_LOCK: _target_title(view, event.target_id),
        # The grant's validity; the end is exclusive, as in the calendar.
        ATTR_START: _isoformat(event.valid_from),
        ATTR_END: _isoformat(event.valid_before),
        ATTR_ERROR: event.error,
    }


def _target_title(view: AccessView, target_id: str | None) -> str | None:
    tapkey = view.data.tapkey.data
    if target_id is None or tapkey is None:
        return None
    for target in (*tapkey.locks, *tapkey.lock_groups):
        if target.id == target_id:
            return target.title
    return None


def _isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else dt_util.as_local(moment).isoformat()
