"""The entities and devices of an entry, and how they follow its access groups."""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.spacebring_tapkey.const import (
    CONF_DRY_RUN,
    DOMAIN,
    SUBENTRY_ACCESS_GROUP,
)

from .entity_world import (
    ENTRY_ID,
    FRONT_DOOR_DATA,
    FRONT_DOOR_GROUP_ID,
    NOW,
    ROOM_3_DATA,
    ROOM_3_GROUP_ID,
    LoadEntry,
    device_of,
    entity_id,
)

pytestmark = pytest.mark.freeze_time(NOW, tick=True)

LAST_SYNC = "sensor.tiny_hub_tiny_hub_locks_last_successful_sync"


def _plain(value: Any) -> Any:
    """Enums as their values, so that both Home Assistant lanes print the same."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | MappingProxyType):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


def entities_of(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """What the integration controls about each entity of the entry."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    found: dict[str, Any] = {}
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        state = hass.states.get(entity.entity_id)
        assert state is not None
        assert entity.device_id is not None
        device = devices.async_get(entity.device_id)
        assert device is not None
        found[entity.entity_id] = _plain(
            {
                "unique_id": entity.unique_id,
                "translation_key": entity.translation_key,
                "device_class": entity.original_device_class,
                "entity_category": entity.entity_category,
                "config_subentry_id": entity.config_subentry_id,
                "device": device.name,
                "state": state.state,
                "attributes": dict(state.attributes),
            }
        )
    return dict(sorted(found.items()))


def devices_of(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """What the integration controls about each device of the entry."""
    devices = dr.async_get(hass)
    found: dict[str, Any] = {}
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        via = devices.async_get(device.via_device_id) if device.via_device_id else None
        assert device.name is not None
        found[device.name] = _plain(
            {
                "identifiers": sorted(device.identifiers),
                "manufacturer": device.manufacturer,
                "model": device.model,
                "entry_type": device.entry_type,
                "via_device": via.name if via else None,
                "config_subentry_id": _subentry_of(device, entry.entry_id),
            }
        )
    return dict(sorted(found.items()))


def _subentry_of(device: dr.DeviceEntry, entry_id: str) -> str | None:
    """The subentry a device belongs to (Home Assistant 2026.8 names it)."""
    if hasattr(device, "config_subentry_id"):
        return str(device.config_subentry_id) if device.config_subentry_id else None
    (subentry,) = device.config_entries_subentries[entry_id]
    return subentry


def _subentry(subentry_id: str, data: dict[str, Any]) -> ConfigSubentry:
    return ConfigSubentry(
        data=MappingProxyType(data),
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_ACCESS_GROUP,
        title=data["name"],
        unique_id=None,
    )


async def test_entities(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, snapshot: SnapshotAssertion
) -> None:
    """Every entity with its state, in dry-run: no grant events to order.

    The last sync happened at the real moment the test ran it.
    """
    entry = await load_tiny_entry(options={CONF_DRY_RUN: True})

    assert entities_of(hass, entry) == snapshot(
        matcher=path_type({rf"{LAST_SYNC}\.state": (str,)}, regex=True)
    )


async def test_devices(
    hass: HomeAssistant, load_tiny_entry: LoadEntry, snapshot: SnapshotAssertion
) -> None:
    """A hub device per entry; a device per access group, reached through it."""
    entry = await load_tiny_entry()

    assert devices_of(hass, entry) == snapshot


async def test_no_email_in_any_state(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """E-mails are personal data: names are shown, addresses never."""
    entry = await load_tiny_entry()

    states = [hass.states.get(e) for e in entities_of(hass, entry)]
    assert all(state is not None for state in states)
    assert not [
        state for state in states if state and "@" in f"{state.state}{state.attributes}"
    ]


async def test_added_access_group_gets_device_and_entities_without_reload(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """A new subentry gets its device (via the hub) and entities at once."""
    entry = await load_tiny_entry(groups={FRONT_DOOR_GROUP_ID: FRONT_DOOR_DATA})
    data_before = entry.runtime_data

    hass.config_entries.async_add_subentry(
        entry, _subentry(ROOM_3_GROUP_ID, ROOM_3_DATA)
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is data_before
    device = device_of(hass, ROOM_3_GROUP_ID)
    hub = device_of(hass, ENTRY_ID)
    assert device is not None
    assert hub is not None
    assert device.via_device_id == hub.id
    calendar = hass.states.get(
        entity_id(hass, "calendar", f"{ROOM_3_GROUP_ID}_access_windows")
    )
    assert calendar is not None
    assert calendar.attributes["message"] == "Grace Hopper · Room 3"


async def test_removed_access_group_loses_device_and_entities(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Removing a subentry removes its device, entities and states."""
    entry = await load_tiny_entry()
    sensor = entity_id(hass, "sensor", f"{ROOM_3_GROUP_ID}_members_with_access")

    hass.config_entries.async_remove_subentry(entry, ROOM_3_GROUP_ID)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert device_of(hass, ROOM_3_GROUP_ID) is None
    assert er.async_get(hass).async_get(sensor) is None
    assert hass.states.get(sensor) is None
    front_door = hass.states.get(
        entity_id(hass, "sensor", f"{FRONT_DOOR_GROUP_ID}_members_with_access")
    )
    assert front_door is not None
    assert front_door.state == "1"


async def test_renamed_access_group_renames_its_device(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """The device name follows the subentry title; entity ids stay."""
    entry = await load_tiny_entry()
    sensor = entity_id(hass, "sensor", f"{ROOM_3_GROUP_ID}_members_with_access")

    hass.config_entries.async_update_subentry(
        entry, entry.subentries[ROOM_3_GROUP_ID], title="Meeting room 3"
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    device = device_of(hass, ROOM_3_GROUP_ID)
    assert device is not None
    assert device.name == "Meeting room 3"
    assert entity_id(hass, "sensor", f"{ROOM_3_GROUP_ID}_members_with_access") == sensor


async def test_device_of_a_vanished_access_group_is_removed_at_setup(
    hass: HomeAssistant, tiny_entry: Any, tapkey_credentials: None
) -> None:
    """A device left behind by an access group that is gone does not stay."""
    entry = tiny_entry()
    devices = dr.async_get(hass)
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, "01JNGONE00000000000000GROUP")},
        name="Old wing",
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert devices.async_get(stale.id) is None
    assert device_of(hass, ROOM_3_GROUP_ID) is not None


async def test_unloading_makes_entities_unavailable(
    hass: HomeAssistant, load_tiny_entry: LoadEntry
) -> None:
    """Unloaded, the entry's entities stay registered but show unavailable."""
    entry = await load_tiny_entry()

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    states = [hass.states.get(e) for e in entities_of(hass, entry)]
    assert {state.state for state in states if state} == {STATE_UNAVAILABLE}
