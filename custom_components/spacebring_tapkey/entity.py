"""The base entities and the devices they belong to.

Each entry has a hub device (the Spacebring location with its Tapkey locking
system) and one device per access group (config subentry), linked to the hub.
Access-group entities are added with their subentry, so that removing the
subentry removes its device and entities, and an added subentry gets them
without a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final, cast

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from .access.model import AccessWindow
from .access_view import ACCESS_VIEWS, AccessView
from .const import DOMAIN, SUBENTRY_ACCESS_GROUP
from .sync import signal_sync_finished

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry

# Home Assistant 2026.8 links a device to its hub by registry id and
# deprecates the link by identifier, which is all that 2025.4 knows.
_LINK_BY_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__annotations__

MANUFACTURER: Final = "Spacebring · Tapkey"
HUB_MODEL: Final = "Access sync"
ACCESS_GROUP_MODEL: Final = "Access group"


def hub_device_info(entry: ConfigEntry) -> DeviceInfo:
    """The entry's device: its location and locking system."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model=HUB_MODEL,
        entry_type=DeviceEntryType.SERVICE,
    )


def access_group_device_info(
    entry: ConfigEntry, subentry: ConfigSubentry, hub_device_id: str
) -> DeviceInfo:
    """The device of one access group, reached through the hub."""
    info = DeviceInfo(
        identifiers={(DOMAIN, subentry.subentry_id)},
        name=subentry.title,
        manufacturer=MANUFACTURER,
        model=ACCESS_GROUP_MODEL,
        entry_type=DeviceEntryType.SERVICE,
    )
    link: dict[str, object] = (
        {"via_device_id": hub_device_id}
        if _LINK_BY_DEVICE_ID
        else {"via_device": (DOMAIN, entry.entry_id)}
    )
    return cast("DeviceInfo", {**info, **link})


def access_group_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """The entry's access groups."""
    return [
        subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ACCESS_GROUP
    ]


@callback
def async_prepare_entities(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> None:
    """Before the platforms: hub device, device clean-up, the shared view.

    The hub device exists before any access-group device links to it.
    Devices follow renamed entries and access groups, and devices of access
    groups that no longer exist are removed.
    """
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **hub_device_info(entry)
    )
    _async_align_devices(hass, entry)

    async def on_entry_updated(
        hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
    ) -> None:
        _async_align_devices(hass, entry)

    entry.async_on_unload(entry.add_update_listener(on_entry_updated))

    views = hass.data.setdefault(ACCESS_VIEWS, {})
    view = views[entry.entry_id] = AccessView(hass, entry, hub.id)
    entry.async_on_unload(view.async_start())

    @callback
    def forget_view() -> None:
        views.pop(entry.entry_id, None)

    entry.async_on_unload(forget_view)


@callback
def _async_align_devices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    names = {entry.entry_id: entry.title} | {
        subentry.subentry_id: subentry.title
        for subentry in access_group_subentries(entry)
    }
    device_registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        ours = [key for domain, key in device.identifiers if domain == DOMAIN]
        name = next((names[key] for key in ours if key in names), None)
        if name is None:
            device_registry.async_remove_device(device.id)
        elif device.name != name:
            device_registry.async_update_device(device.id, name=name)


@callback
def async_add_access_group_entities(
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[ConfigSubentry], Iterable[Entity]],
) -> None:
    """Add entities for every access group, now and whenever one is added."""
    added: set[str] = set()

    @callback
    def add_new_groups() -> None:
        present = access_group_subentries(entry)
        added.intersection_update(subentry.subentry_id for subentry in present)
        for subentry in present:
            if subentry.subentry_id in added:
                continue
            added.add(subentry.subentry_id)
            async_add_entities(
                create(subentry), config_subentry_id=subentry.subentry_id
            )

    async def on_entry_updated(_hass: HomeAssistant, _entry: ConfigEntry) -> None:
        add_new_groups()

    add_new_groups()
    entry.async_on_unload(entry.add_update_listener(on_entry_updated))


class SpacebringTapkeyEntity(Entity):
    """An entity of the hub device, or of one access group's device.

    It re-renders after every sync and every coordinator update, so that
    its state and availability follow the data without polling.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        view: AccessView,
        description: EntityDescription,
        subentry: ConfigSubentry | None = None,
    ) -> None:
        """Describe the entity; its unique id is its owner's id plus its key."""
        self.entity_description = description
        self._view = view
        entry = view.entry
        if subentry is None:
            self._attr_unique_id = f"{entry.entry_id}_{description.key}"
            self._attr_device_info = hub_device_info(entry)
        else:
            self._attr_unique_id = f"{subentry.subentry_id}_{description.key}"
            self._attr_device_info = access_group_device_info(
                entry, subentry, view.hub_device_id
            )

    async def async_added_to_hass(self) -> None:
        """Follow the sync and both coordinators."""
        await super().async_added_to_hass()
        data = self._view.data
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal_sync_finished(self._view.entry.entry_id),
                self._async_handle_update,
            )
        )
        self.async_on_remove(
            data.spacebring.async_add_listener(self._async_handle_update)
        )
        self.async_on_remove(data.tapkey.async_add_listener(self._async_handle_update))

    @callback
    def _async_handle_update(self) -> None:
        self.async_write_ha_state()


class AccessGroupEntity(SpacebringTapkeyEntity):
    """An entity showing one access group's windows; unavailable when stale."""

    def __init__(
        self, view: AccessView, description: EntityDescription, subentry: ConfigSubentry
    ) -> None:
        """Show the windows of the subentry's access group."""
        super().__init__(view, description, subentry)
        self._group_id = subentry.subentry_id

    @property
    def available(self) -> bool:
        """Stale windows would show access that may no longer be true."""
        return self._view.fresh

    @property
    def windows(self) -> tuple[AccessWindow, ...]:
        """The group's access windows of the last sync."""
        return self._view.windows(self._group_id)
