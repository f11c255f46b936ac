"""Sensors: how the sync is doing, and who can open an access group's locks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .access_view import (
    AccessView,
    access_view,
    member_name,
    members_with_access,
    next_access_change,
)
from .entity import (
    AccessGroupEntity,
    SpacebringTapkeyEntity,
    async_add_access_group_entities,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from . import SpacebringTapkeyConfigEntry
    from .sync import SyncStatus

PARALLEL_UPDATES = 0

ATTR_MEMBERS: Final = "members"


@dataclass(frozen=True, kw_only=True)
class SyncSensorEntityDescription(SensorEntityDescription):
    """A sensor of the entry's sync status."""

    value_fn: Callable[[SyncStatus], StateType | datetime]


SYNC_SENSORS: Final = (
    SyncSensorEntityDescription(
        key="last_sync",
        translation_key="last_sync",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: status.last_success,
    ),
    SyncSensorEntityDescription(
        key="pending_changes",
        translation_key="pending_changes",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.pending,
    ),
    SyncSensorEntityDescription(
        key="failed_changes",
        translation_key="failed_changes",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.failed,
    ),
)

MEMBERS_WITH_ACCESS: Final = SensorEntityDescription(
    key="members_with_access",
    translation_key="members_with_access",
    state_class=SensorStateClass.MEASUREMENT,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpacebringTapkeyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sync sensors and a member count per access group."""
    view = access_view(hass, entry)
    async_add_entities(SyncSensor(view, description) for description in SYNC_SENSORS)

    def create(subentry: ConfigSubentry) -> list[MembersWithAccessSensor]:
        return [MembersWithAccessSensor(view, MEMBERS_WITH_ACCESS, subentry)]

    async_add_access_group_entities(entry, async_add_entities, create)


class SyncSensor(SpacebringTapkeyEntity, SensorEntity):
    """A figure of the entry's last sync."""

    entity_description: SyncSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The figure, read from the sync engine's status."""
        return self.entity_description.value_fn(self._view.data.sync.status)


class MembersWithAccessSensor(AccessGroupEntity, SensorEntity):
    """How many members can open the group's locks now, and who.

    The count changes at the exact start or end of an access window (and of
    the group's weekly hours): a timer re-renders the sensor then, so that
    automations on it fire on time rather than at the next poll.
    """

    # Names change with every booking; history of the count is enough.
    _unrecorded_attributes = frozenset({ATTR_MEMBERS})

    def __init__(
        self,
        view: AccessView,
        description: SensorEntityDescription,
        subentry: ConfigSubentry,
    ) -> None:
        """Count the members of the subentry's access group."""
        super().__init__(view, description, subentry)
        self._cancel_timer: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Compute the first state and follow window boundaries."""
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_change_timer)
        self._update_state()

    @callback
    def _async_handle_update(self) -> None:
        self._update_state()
        super()._async_handle_update()

    @callback
    def _update_state(self) -> None:
        now = dt_util.utcnow()
        windows = self.windows
        schedule = self._view.schedule(self._group_id)
        members = members_with_access(windows, schedule, now)
        self._attr_native_value = len(members)
        self._attr_extra_state_attributes = {
            ATTR_MEMBERS: sorted(member_name(window) for window in members)
        }
        self._cancel_change_timer()
        change = next_access_change(windows, schedule, now)
        if change is not None:
            self._cancel_timer = async_track_point_in_utc_time(
                self.hass, self._on_access_change, change
            )

    @callback
    def _on_access_change(self, _now: datetime) -> None:
        self._cancel_timer = None
        self._async_handle_update()

    @callback
    def _cancel_change_timer(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
